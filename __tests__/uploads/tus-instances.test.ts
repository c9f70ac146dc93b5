import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createStore } from '../../src/storage/create-store.js';
import { createStaging } from '../../src/storage/create-staging.js';
import { expectErrorResponse } from '../http/expect-error.js';
import {
  silentLogger,
  useEmulatorProxies,
  useHarnesses,
  type Harness,
} from '../http/harness.js';
import { emulatorEndpoint } from '../support/gcs.js';
import { fixture, sha256 } from '../support/requests.js';
import { patchHeaders, useTusServers, stagedPieceCount, uploadPath, type TusServer } from './tus-client.js';

const harnessFor = useHarnesses();
const emulatorProxy = useEmulatorProxies();
const serveTusFor = useTusServers();

/** A second instance of the service over the same bucket: its own store, app and listener. */
async function secondInstance(harness: Harness): Promise<TusServer> {
  const store = await createStore(harness.config);
  const staging = await createStaging(harness.config, { store });
  const app = createApp(harness.config, { store, staging, logger: silentLogger });
  const server = await serveTusFor({ ...harness, store, callback: app.callback() });
  return server;
}

describe('tus across instances (gcs)', () => {
  it('PATCHes of one upload land on either of two instances', async () => {
    const harness = await harnessFor('gcs');
    const first = await serveTusFor(harness);
    const second = await secondInstance(harness);
    const photo = fixture('large.jpg');
    const created = await first.call('POST', '/v1/uploads', { 'Upload-Length': String(photo.length) });
    const at = uploadPath(created.headers.location);
    const chunk = 100 * 1024;
    let last;
    for (let offset = 0, turn = 0; offset < photo.length; offset += chunk, turn += 1) {
      const instance = turn % 2 === 0 ? second : first;
      last = await instance.call('PATCH', at, patchHeaders(offset), photo.subarray(offset, offset + chunk));
      expect(last.status).toBe(204);
    }
    const image = (await first.call('GET', at)).body as Record<string, unknown>;
    expect(image.id).toBe(last?.headers['image-id']);
    expect(sha256(await harness.storedBytes(String(image.name)))).toBe(image.sha256);
  });

  it('of two PATCHes at one offset on two instances, one commits and the other answers 409', async () => {
    const harness = await harnessFor('gcs');
    const first = await serveTusFor(harness);
    const second = await secondInstance(harness);
    const created = await first.call('POST', '/v1/uploads', { 'Upload-Length': '100000' });
    const at = uploadPath(created.headers.location);
    // A photo's first bytes (anything else is refused by its type once 4100 bytes are in).
    const head = fixture('large.jpg').subarray(0, 30_000);
    const answers = await Promise.all(
      [first, second, first, second].map((instance) =>
        instance.call('PATCH', at, patchHeaders(0), head),
      ),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 204)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(3);
    expect((await second.call('HEAD', at)).headers['upload-offset']).toBe('30000');
    // The losers' pieces are gone: only the winner's is staged.
    expect(await stagedPieceCount(harness, at.split('/').pop() ?? '')).toBe(1);
  });

  it('the store down at finish: 503 with Retry-After, nothing published, the retried PATCH finishes', async () => {
    const proxy = await emulatorProxy();
    // Images go through the fault proxy; staging reaches the same bucket directly, so the
    // store's outage hits the pipeline's write only (two real GcsStores on one bucket).
    const harness = await harnessFor('gcs', {
      GCS_API_ENDPOINT: proxy.endpoint,
      STORE_TIMEOUT_MS: '1500',
      STORE_ATTEMPT_TIMEOUT_MS: '500',
    });
    const direct = await createStaging(
      loadConfig({
        STORAGE_DRIVER: 'gcs',
        GCS_BUCKET: harness.config.storage.driver === 'gcs' ? harness.config.storage.bucket : '',
        GCS_API_ENDPOINT: emulatorEndpoint(),
        SPOOL_DIR: harness.spoolDir,
      }),
    );
    const { store } = harness;
    const app = createApp(harness.config, { store, logger: silentLogger, staging: direct });
    const server = await serveTusFor({ ...harness, store, callback: app.callback() });

    const photo = fixture('photo.jpg');
    const created = await server.call('POST', '/v1/uploads', { 'Upload-Length': String(photo.length) });
    const at = uploadPath(created.headers.location);
    const half = Math.floor(photo.length / 2);
    expect((await server.call('PATCH', at, patchHeaders(0), photo.subarray(0, half))).status).toBe(204);

    await proxy.setEnabled(false);
    const failed = await server.call('PATCH', at, patchHeaders(half), photo.subarray(half));
    expectErrorResponse(failed, 'storage_unavailable');
    expect(failed.headers['retry-after']).toBeDefined();
    expect((await server.call('HEAD', at)).headers['upload-offset']).toBe(String(half));
    const published = (await harness.storedNames()).filter((name) => !name.startsWith('staging/'));
    expect(published).toEqual([]);
    await proxy.setEnabled(true);

    const retried = await server.call('PATCH', at, patchHeaders(half), photo.subarray(half));
    expect(retried.status).toBe(204);
    const image = (await server.call('GET', at)).body as Record<string, unknown>;
    expect(image.id).toBe(retried.headers['image-id']);
    expect((await harness.storedNames()).filter((name) => !name.startsWith('staging/'))).toEqual([
      String(image.name),
    ]);
  });

  it('the fault proxy cuts every piece write mid-body: 503, offset unchanged; the resent PATCH goes on', async () => {
    const proxy = await emulatorProxy();
    const harness = await harnessFor('gcs', {
      GCS_API_ENDPOINT: proxy.endpoint,
      STORE_TIMEOUT_MS: '2000',
      STORE_ATTEMPT_TIMEOUT_MS: '500',
    });
    const server = await serveTusFor(harness);
    const photo = fixture('large.jpg');
    const created = await server.call('POST', '/v1/uploads', {
      'Upload-Length': String(photo.length),
    });
    const at = uploadPath(created.headers.location);
    const chunk = 600 * 1024;
    // Every connection to the bucket is cut after 200 KB sent: the piece never gets through.
    await proxy.addToxic('cut', {
      type: 'limit_data',
      stream: 'upstream',
      attributes: { bytes: 200_000 },
    });
    const cut = await server.call('PATCH', at, patchHeaders(0), photo.subarray(0, chunk));
    expectErrorResponse(cut, 'storage_unavailable');
    await proxy.removeAllToxics();
    expect((await server.call('HEAD', at)).headers['upload-offset']).toBe('0');
    expect(await stagedPieceCount(harness, at.split('/').pop() ?? '')).toBe(0);

    expect((await server.call('PATCH', at, patchHeaders(0), photo.subarray(0, chunk))).status).toBe(
      204,
    );
    const last = await server.call('PATCH', at, patchHeaders(chunk), photo.subarray(chunk));
    expect(last.status).toBe(204);
    const image = (await server.call('GET', at)).body as Record<string, unknown>;
    expect(sha256(await harness.storedBytes(String(image.name)))).toBe(image.sha256);
  });
});
