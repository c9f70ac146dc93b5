import { describe, expect, it } from '@jest/globals';
import * as tus from 'tus-js-client';
import { useHarnesses } from '../http/harness.js';
import { drivers, fixture, sha256 } from '../support/requests.js';
import { useTusServers, stagedIds, stagedPieceCount, uploadPath } from './tus-client.js';

const harnessFor = useHarnesses();
const serveTusFor = useTusServers();

describe.each(drivers)('tus-js-client in Node (%s)', (driver) => {
  it('uploads in several PATCHes, is interrupted, and resumes with a new Upload from the stored URL', async () => {
    // Streamed past 256 KiB: the pipeline's streaming path (on GCS a resumable upload) runs too.
    const harness = await harnessFor(driver, { STREAMING_THRESHOLD_BYTES: '262144' });
    const server = await serveTusFor(harness);
    const photo = fixture('large.jpg');
    const chunkSize = 128 * 1024;
    const endpoint = `${server.origin}/v1/uploads`;

    let stoppedAt = 0;
    let firstUrl = '';
    await new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(photo, {
        endpoint,
        chunkSize,
        retryDelays: [],
        metadata: { filename: 'large.jpg', filetype: 'image/jpeg' },
        onChunkComplete: (_chunk, sent) => {
          if (sent >= 3 * chunkSize && stoppedAt === 0) {
            stoppedAt = sent;
            firstUrl = upload.url ?? '';
            void upload.abort().then(() => resolve());
          }
        },
        onSuccess: () => reject(new Error('finished before the interruption')),
        onError: reject,
      });
      upload.start();
    });
    expect(stoppedAt).toBeGreaterThanOrEqual(3 * chunkSize);
    expect(stoppedAt).toBeLessThan(photo.length);
    expect(await harness.storedNames().then((names) => names.filter((n) => !n.startsWith('staging/')))).toEqual([]);

    // A new Upload, as after a page reload: it asks HEAD where to go on, and goes on.
    let imageId: string | undefined;
    let patches = 0;
    await new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(photo, {
        uploadUrl: firstUrl,
        chunkSize,
        retryDelays: [],
        onBeforeRequest: (request) => {
          if (request.getMethod() === 'PATCH') {
            patches += 1;
            expect(Number(request.getHeader('Upload-Offset'))).toBeGreaterThanOrEqual(stoppedAt);
          }
        },
        onAfterResponse: (_request, response) => {
          imageId = response.getHeader('Image-Id') ?? imageId;
        },
        onSuccess: () => resolve(),
        onError: reject,
      });
      upload.start();
    });
    expect(patches).toBe(Math.ceil((photo.length - stoppedAt) / chunkSize));

    const result = await server.call('GET', uploadPath(firstUrl));
    expect(result.status).toBe(200);
    const image = result.body as Record<string, unknown>;
    expect(image.id).toBe(imageId);
    const stored = await harness.storedBytes(String(image.name));
    expect(sha256(stored)).toBe(image.sha256);
    // Byte-identical to what POST /v1/images stores for the same bytes.
    const posted = await server.call('POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, photo);
    expect((posted.body as Record<string, unknown>).sha256).toBe(image.sha256);
    // The pieces are gone; the record answers GET /v1/uploads/{id} until it expires.
    const uploadId = uploadPath(firstUrl).split('/').pop();
    expect(await stagedIds(harness)).toEqual([uploadId]);
    expect(await stagedPieceCount(harness, uploadId ?? '')).toBe(0);
  });

  it('overridePatchMethod: every chunk goes as POST with X-HTTP-Method-Override: PATCH', async () => {
    const harness = await harnessFor(driver);
    const server = await serveTusFor(harness);
    const photo = fixture('photo.png');
    const methods: string[] = [];
    let imageId: string | undefined;
    let url = '';
    await new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(photo, {
        endpoint: `${server.origin}/v1/uploads`,
        chunkSize: Math.ceil(photo.length / 3),
        retryDelays: [],
        overridePatchMethod: true,
        onBeforeRequest: (request) => {
          methods.push(`${request.getMethod()} ${request.getHeader('X-HTTP-Method-Override') ?? ''}`);
        },
        onAfterResponse: (_request, response) => {
          imageId = response.getHeader('Image-Id') ?? imageId;
        },
        onSuccess: () => {
          url = upload.url ?? '';
          resolve();
        },
        onError: reject,
      });
      upload.start();
    });
    expect(methods).toEqual(['POST ', 'POST PATCH', 'POST PATCH', 'POST PATCH']);
    const result = await server.call('GET', uploadPath(url));
    expect(result.status).toBe(200);
    expect((result.body as Record<string, unknown>).id).toBe(imageId);
  });
});
