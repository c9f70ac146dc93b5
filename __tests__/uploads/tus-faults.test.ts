import { describe, expect, it } from '@jest/globals';
import * as tus from 'tus-js-client';
import { useEmulatorProxies, useHarnesses, type Harness } from '../http/harness.js';
import { fixture, sha256 } from '../support/requests.js';
import { useTusServers, stagedIds, stagedPieceCount, uploadPath, type TusServer } from './tus-client.js';

/**
 * tus on the GCS path with Shopify's toxiproxy between the service and the emulator: a store
 * connection cut while a PATCH's piece is written, and the store gone when the last PATCH
 * arrives. tus-js-client (in Node) is the client and uses its own retries.
 */

const harnessFor = useHarnesses();
const serveTusFor = useTusServers();
const emulatorProxy = useEmulatorProxies();

const chunkSize = 256 * 1024;
// A store that fails answers within about a second (503), rather than after 20 s of retries.
const fastStoreFailure = { STORE_TIMEOUT_MS: '1500', STORE_ATTEMPT_TIMEOUT_MS: '1000' };

interface Refusal {
  readonly status: number;
  readonly headers: Record<string, string | undefined>;
}

/** The answer tus-js-client retried after, or undefined when the request failed with no answer. */
function refusalOf(error: tus.DetailedError): Refusal | undefined {
  const response = error.originalResponse;
  if (response === null) return undefined;
  return {
    status: response.getStatus(),
    headers: {
      'retry-after': response.getHeader('Retry-After'),
      'tus-resumable': response.getHeader('Tus-Resumable'),
    },
  };
}

/** Published objects: everything but the staging prefix. */
async function publishedNames(harness: Harness): Promise<string[]> {
  return (await harness.storedNames()).filter(
    (name) => !name.startsWith(harness.config.staging.prefix),
  );
}

/** The image of a finished upload, byte-exact, the only object published, no piece left. */
async function expectFinished(harness: Harness, server: TusServer, url: string): Promise<void> {
  const answer = await server.call('GET', uploadPath(url));
  expect(answer.status).toBe(200);
  const image = answer.body as { name: string; sha256: string };
  expect(sha256(await harness.storedBytes(image.name))).toBe(image.sha256);
  const posted = await server.call(
    'POST',
    '/v1/images',
    { 'Content-Type': 'image/jpeg' },
    fixture('large.jpg'),
  );
  expect((posted.body as { sha256: string }).sha256).toBe(image.sha256);
  const postedName = (posted.body as { name: string }).name;
  expect((await publishedNames(harness)).sort()).toEqual([image.name, postedName].sort());
  const id = uploadPath(url).split('/').pop() ?? '';
  expect(await stagedIds(harness)).toEqual([id]);
  expect(await stagedPieceCount(harness, id)).toBe(0);
}

describe('tus on GCS behind a fault proxy', () => {
  it('a store connection cut while a PATCH piece is written: the client gets 503, resumes, and the image is byte-exact', async () => {
    const proxy = await emulatorProxy();
    // Time enough for a 256 KiB piece on the slow link; a reset one fails at once.
    const harness = await harnessFor('gcs', {
      GCS_API_ENDPOINT: proxy.endpoint,
      STORE_TIMEOUT_MS: '2000',
      STORE_ATTEMPT_TIMEOUT_MS: '1800',
    });
    const server = await serveTusFor(harness);
    const photo = fixture('large.jpg');
    // Slow writes towards the bucket, so that a piece's write is still on the wire when cut.
    await proxy.addToxic('slow', { type: 'bandwidth', stream: 'upstream', attributes: { rate: 256 } });

    const refusals: (Refusal | undefined)[] = [];
    const patchOffsets: number[] = [];
    let cut = false;
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new tus.Upload(photo, {
        endpoint: `${server.origin}/v1/uploads`,
        chunkSize,
        retryDelays: [200, 500, 1000],
        metadata: { filename: 'large.jpg', filetype: 'image/jpeg' },
        onBeforeRequest: (request) => {
          if (request.getMethod() !== 'PATCH') return;
          const offset = Number(request.getHeader('Upload-Offset'));
          patchOffsets.push(offset);
          if (offset === chunkSize && !cut) {
            cut = true;
            // The body arrives at once on loopback; its piece then takes about a second to
            // reach the bucket at 256 KB/s: every store connection is reset in the middle.
            setTimeout(() => {
              void proxy.addToxic('cut', {
                type: 'reset_peer',
                stream: 'upstream',
                attributes: { timeout: 0 },
              });
            }, 400);
          }
        },
        onShouldRetry: (error) => {
          refusals.push(refusalOf(error));
          // The network is back before the client's next try.
          void proxy.removeAllToxics();
          return true;
        },
        onSuccess: () => resolve(upload.url ?? ''),
        onError: reject,
      });
      upload.start();
    });
    expect(cut).toBe(true);
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals[0]?.status).toBe(503);
    expect(refusals[0]?.headers['tus-resumable']).toBe('1.0.0');
    expect(Number(refusals[0]?.headers['retry-after'])).toBeGreaterThan(0);
    // The cut PATCH was sent again from the offset the service had committed.
    expect(patchOffsets.filter((offset) => offset === chunkSize).length).toBeGreaterThanOrEqual(2);
    await expectFinished(harness, server, url);
  });

  it('the store down when the last PATCH arrives: 503 with Retry-After, nothing published, the upload resumable, finished by the retry', async () => {
    const proxy = await emulatorProxy();
    const harness = await harnessFor('gcs', {
      GCS_API_ENDPOINT: proxy.endpoint,
      ...fastStoreFailure,
    });
    const server = await serveTusFor(harness);
    const photo = fixture('large.jpg');
    const lastOffset = Math.floor((photo.length - 1) / chunkSize) * chunkSize;

    const refusals: (Refusal | undefined)[] = [];
    let storeBack!: () => void;
    const back = new Promise<void>((resolve) => (storeBack = resolve));
    let uploadUrl = '';
    let downAt: number | undefined;
    let lastPatches = 0;
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new tus.Upload(photo, {
        endpoint: `${server.origin}/v1/uploads`,
        chunkSize,
        retryDelays: [0],
        metadata: { filename: 'large.jpg', filetype: 'image/jpeg' },
        onBeforeRequest: async (request) => {
          const method = request.getMethod();
          if (method === 'PATCH') uploadUrl = request.getURL();
          if (method === 'PATCH' && Number(request.getHeader('Upload-Offset')) === lastOffset) {
            lastPatches += 1;
            if (downAt === undefined) {
              downAt = lastOffset;
              await proxy.setEnabled(false);
            }
          }
          // The client's retry waits until the checks below have seen the store down.
          if (refusals.length > 0) await back;
        },
        onShouldRetry: (error) => {
          refusals.push(refusalOf(error));
          return refusals.length === 1;
        },
        onSuccess: () => resolve(upload.url ?? ''),
        onError: reject,
      });
      upload.start();
      void (async () => {
        while (refusals.length === 0) await new Promise((wait) => setTimeout(wait, 20));
        try {
          // Nothing published while the store is down (looked at around the proxy).
          expect(await publishedNames(harness)).toEqual([]);
          await proxy.setEnabled(true);
          // HEAD: the upload is still resumable, at the offset before the last chunk.
          const head = await server.call('HEAD', uploadPath(uploadUrl));
          expect(head.status).toBe(200);
          expect(Number(head.headers['upload-offset'])).toBe(lastOffset);
          expect(Number(head.headers['upload-length'])).toBe(photo.length);
          expect(await publishedNames(harness)).toEqual([]);
          const status = await server.call('GET', uploadPath(uploadUrl));
          expect(status.status).toBe(202);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
        storeBack();
      })();
    });
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.status).toBe(503);
    expect(refusals[0]?.headers['tus-resumable']).toBe('1.0.0');
    expect(Number(refusals[0]?.headers['retry-after'])).toBeGreaterThan(0);
    expect(lastPatches).toBe(2);
    await expectFinished(harness, server, url);
  });
});
