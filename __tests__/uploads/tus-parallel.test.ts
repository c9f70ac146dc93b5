import { describe, expect, it } from '@jest/globals';
import * as tus from 'tus-js-client';
import { useHarnesses } from '../http/harness.js';
import { drivers, fixture, sha256 } from '../support/requests.js';
import { stagedIds, stagedPieceCount, uploadPath, useTusServers } from './tus-client.js';

/**
 * tus-js-client's parallelUploads in Node: one file as four partial uploads (concatenation),
 * joined by a final upload that the service publishes as one image.
 */

const harnessFor = useHarnesses();
const serveTusFor = useTusServers();

/**
 * What the client sent and saw, request by request: method and Upload-Concat (a partial
 * upload's every request carries `partial`, as tus-js-client sends it).
 */
interface Seen {
  readonly requests: string[];
  imageId: string | undefined;
}

/** tus-js-client's URL storage, in memory: what a browser keeps in localStorage. */
function memoryUrlStorage(): tus.UrlStorage {
  const stored = new Map<string, tus.PreviousUpload & { urlStorageKey: string }>();
  return {
    findAllUploads: () => Promise.resolve([...stored.values()]),
    findUploadsByFingerprint: (fingerprint) =>
      Promise.resolve(
        [...stored.values()].filter((upload) => upload.urlStorageKey.startsWith(fingerprint)),
      ),
    removeUpload: (key) => Promise.resolve(void stored.delete(key)),
    addUpload: (fingerprint, upload) => {
      const key = `${fingerprint}::${stored.size}`;
      stored.set(key, { ...upload, urlStorageKey: key });
      return Promise.resolve(key);
    },
  };
}

function options(seen: Seen, extra: Partial<tus.UploadOptions>): tus.UploadOptions {
  return {
    parallelUploads: 4,
    chunkSize: 64 * 1024,
    retryDelays: [],
    metadata: { filename: 'large.jpg', filetype: 'image/jpeg' },
    onBeforeRequest: (request) => {
      const concat = request.getHeader('Upload-Concat');
      seen.requests.push(`${request.getMethod()}${concat === undefined ? '' : ` ${concat}`}`);
    },
    onAfterResponse: (_request, response) => {
      seen.imageId = response.getHeader('Image-Id') ?? seen.imageId;
    },
    ...extra,
  };
}

describe.each(drivers)('tus-js-client parallelUploads: 4 in Node (%s)', (driver) => {
  it('four partial uploads, then a final upload: one image, byte-faithful, the partials gone', async () => {
    const harness = await harnessFor(driver, { STREAMING_THRESHOLD_BYTES: '262144' });
    const server = await serveTusFor(harness);
    const photo = fixture('large.jpg');
    const seen: Seen = { requests: [], imageId: undefined };
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new tus.Upload(
        photo,
        options(seen, {
          endpoint: `${server.origin}/v1/uploads`,
          onSuccess: () => resolve(upload.url ?? ''),
          onError: reject,
        }),
      );
      upload.start();
    });
    const creations = seen.requests.filter((request) => request.startsWith('POST'));
    expect(creations.filter((request) => request === 'POST partial')).toHaveLength(4);
    const finals = creations.filter((request) => request.startsWith('POST final;'));
    expect(finals).toHaveLength(1);
    expect(finals[0]?.replace('POST final;', '').split(' ')).toHaveLength(4);
    expect(seen.requests.filter((request) => request === 'PATCH partial').length).toBeGreaterThan(4);

    const result = await server.call('GET', uploadPath(url));
    expect(result.status).toBe(200);
    const image = result.body as { id: string; name: string; sha256: string };
    expect(image.id).toBe(seen.imageId);
    expect(sha256(await harness.storedBytes(image.name))).toBe(image.sha256);
    const posted = await server.call('POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, photo);
    expect((posted.body as { sha256: string }).sha256).toBe(image.sha256);
    // The partials' bytes are gone; their records stay, used up, until they expire (for a
    // retry of the final upload whose 201 was lost).
    const partialIds = (finals[0] ?? '')
      .replace('POST final;', '')
      .split(' ')
      .map((at) => at.split('/').pop() ?? '');
    expect(await stagedIds(harness)).toEqual([uploadPath(url).split('/').pop(), ...partialIds].sort());
    for (const id of partialIds) expect(await stagedPieceCount(harness, id)).toBe(0);
  });

  it('interrupted, then resumed from the stored partial URLs: each partial goes on where it stopped', async () => {
    const harness = await harnessFor(driver);
    const server = await serveTusFor(harness);
    const photo = fixture('large.jpg');
    const urlStorage = memoryUrlStorage();
    const resumable = {
      endpoint: `${server.origin}/v1/uploads`,
      urlStorage,
      fingerprint: () => Promise.resolve('large.jpg'),
      storeFingerprintForResuming: true,
    };
    const first: Seen = { requests: [], imageId: undefined };
    await new Promise<void>((resolve, reject) => {
      let patches = 0;
      const upload = new tus.Upload(
        photo,
        options(first, {
          ...resumable,
          onChunkComplete: () => {
            patches += 1;
            // Past every partial's creation (their URLs are stored once all four have one).
            if (patches === 6) void upload.abort().then(resolve, reject);
          },
          onSuccess: () => reject(new Error('finished before the interruption')),
          onError: reject,
        }),
      );
      upload.start();
    });
    expect(await harness.storedNames().then((names) => names.filter((n) => !n.startsWith('staging/')))).toEqual([]);
    const previous = await urlStorage.findAllUploads();
    expect(previous).toHaveLength(1);
    expect(previous[0]?.parallelUploadUrls).toHaveLength(4);

    const second: Seen = { requests: [], imageId: undefined };
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new tus.Upload(
        photo,
        options(second, {
          ...resumable,
          // A PATCH cut by the abort may still be committing when its partial's HEAD is
          // answered: the next PATCH is then 409, and the client asks HEAD again.
          retryDelays: [0, 200, 500],
          onSuccess: () => resolve(upload.url ?? ''),
          onError: reject,
        }),
      );
      upload.resumeFromPreviousUpload(previous[0]!);
      upload.start();
    });
    // No partial made anew: a HEAD for each (more after a 409), the missing bytes, the final.
    expect(
      second.requests.filter((request) => request === 'HEAD partial').length,
    ).toBeGreaterThanOrEqual(4);
    expect(second.requests.filter((request) => request === 'POST partial')).toHaveLength(0);
    const resent = second.requests.filter((request) => request === 'PATCH partial').length;
    expect(resent).toBeLessThan(Math.ceil(photo.length / (64 * 1024)) + 4);
    const image = (await server.call('GET', uploadPath(url))).body as { id: string; sha256: string };
    expect(image.id).toBe(second.imageId);
    const posted = await server.call('POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, photo);
    expect((posted.body as { sha256: string }).sha256).toBe(image.sha256);
  });

  it('an SVG sent in parallel is refused at the final upload (415): onError, nothing stored', async () => {
    const harness = await harnessFor(driver);
    const server = await serveTusFor(harness);
    const svg = fixture('script.svg');
    const seen: Seen = { requests: [], imageId: undefined };
    const failure = await new Promise<tus.DetailedError>((resolve, reject) => {
      const upload = new tus.Upload(
        svg,
        options(seen, {
          endpoint: `${server.origin}/v1/uploads`,
          chunkSize: 64,
          metadata: { filename: 'a.png', filetype: 'image/png' },
          onSuccess: () => reject(new Error('an SVG was published')),
          onError: (error) => resolve(error as tus.DetailedError),
        }),
      );
      upload.start();
    });
    expect(failure.originalResponse?.getStatus()).toBe(415);
    expect(JSON.parse(failure.originalResponse?.getBody() ?? '{}')).toMatchObject({
      error: { code: 'unsupported_image_type' },
    });
    expect(seen.requests.filter((request) => request === 'POST partial')).toHaveLength(4);
    expect(await stagedIds(harness)).toEqual([]);
    await harness.expectNothingStored();
  });
});
