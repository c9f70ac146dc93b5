import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { expectErrorResponse } from '../http/expect-error.js';
import { useEmulatorProxies, useHarnesses, type Harness } from '../http/harness.js';
import { drivers, fixture, sha256 } from '../support/requests.js';
import { sweepUploads, sweptAreasOf } from '../../src/uploads/sweep.js';
import {
  patchHeaders,
  stagedIds,
  stagedPieceCount,
  uploadPath,
  useTusServers,
  type TusServer,
} from './tus-client.js';

/**
 * tus concatenation over raw HTTP: partial uploads (Upload-Concat: partial) that never become
 * an image on their own, and the final upload (Upload-Concat: final;…) that joins complete
 * partials of the same caller and goes through the pipeline once.
 */

const harnessFor = useHarnesses();
const serve = useTusServers();
const emulatorProxy = useEmulatorProxies();

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const idOf = (at: string): string => at.split('/').pop() ?? '';

/** A complete partial upload holding `bytes` (sent in one PATCH, or with its creation). */
async function partial(
  server: TusServer,
  bytes: Buffer,
  options: { withCreation?: boolean; headers?: Record<string, string> } = {},
): Promise<string> {
  const headers = {
    'Upload-Concat': 'partial',
    'Upload-Length': String(bytes.length),
    ...options.headers,
  };
  if (options.withCreation === true) {
    const created = await server.call(
      'POST',
      '/v1/uploads',
      { ...headers, 'Content-Type': 'application/offset+octet-stream' },
      bytes,
    );
    expect(created.status).toBe(201);
    expect(created.headers['upload-offset']).toBe(String(bytes.length));
    return uploadPath(created.headers.location);
  }
  const created = await server.call('POST', '/v1/uploads', headers);
  expect(created.status).toBe(201);
  const at = uploadPath(created.headers.location);
  const patched = await server.call('PATCH', at, { ...patchHeaders(0), ...options.headers }, bytes);
  expect(patched.status).toBe(204);
  expect(patched.headers['upload-concat']).toBe('partial');
  return at;
}

/** Splits `bytes` into `count` slices, the last one taking the rest. */
function slices(bytes: Buffer, count: number): Buffer[] {
  const size = Math.ceil(bytes.length / count);
  return Array.from({ length: count }, (_, index) =>
    bytes.subarray(index * size, Math.min(bytes.length, (index + 1) * size)),
  );
}

const final = (server: TusServer, urls: readonly string[], headers: Record<string, string> = {}) =>
  server.call('POST', '/v1/uploads', { 'Upload-Concat': `final;${urls.join(' ')}`, ...headers });

/** The sha256 of what POST /v1/images stores for `bytes` (metadata stripped, as tus's is). */
async function postedSha256(
  server: TusServer,
  bytes: Buffer,
  type: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const posted = await server.call('POST', '/v1/images', { 'Content-Type': type, ...headers }, bytes);
  expect(posted.status).toBe(201);
  return (posted.body as { sha256: string }).sha256;
}

async function publishedNames(harness: Harness): Promise<string[]> {
  const names = await harness.storedNames();
  return names.filter((name) => !name.startsWith(harness.config.staging.prefix));
}

describe.each(drivers)('tus concatenation (%s)', (driver) => {
  it('partials, then a final upload: one image, as POST /v1/images stores it; the partials go', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const options = await server.call('OPTIONS', '/v1/uploads', {});
    expect(options.headers['tus-extension']?.split(',')).toContain('concatenation');
    // The server does not take a final upload of unfinished partials.
    expect(options.headers['tus-extension']?.split(',')).not.toContain('concatenation-unfinished');

    const photo = fixture('large.jpg');
    const [first, second, third] = slices(photo, 3) as [Buffer, Buffer, Buffer];
    const parts = [
      await partial(server, first, { withCreation: true }),
      await partial(server, second),
      await partial(server, third),
    ];
    // A complete partial is not an image: nothing published, GET says it still receives.
    expect(await publishedNames(harness)).toEqual([]);
    const status = await server.call('GET', parts[0]!);
    expect(status.status).toBe(202);
    expect(status.body).toMatchObject({ state: 'receiving', offset: first.length });
    const head = await server.call('HEAD', parts[1]!);
    expect(head.status).toBe(200);
    expect(head.headers['upload-concat']).toBe('partial');
    expect(head.headers['upload-offset']).toBe(String(second.length));
    expect(head.headers['upload-length']).toBe(String(second.length));

    // Absolute and path forms may mix.
    const urls = [`${server.origin}${parts[0]}`, parts[1]!, parts[2]!];
    const created = await final(server, urls, {
      'Upload-Metadata': `filename ${b64('large.jpg')},filetype ${b64('image/jpeg')}`,
    });
    expect(created.status).toBe(201);
    const at = uploadPath(created.headers.location);
    expect(created.headers['upload-offset']).toBe(String(photo.length));
    expect(created.headers['upload-length']).toBe(String(photo.length));
    expect(created.headers['image-id']).toMatch(/\S/);

    const finalHead = await server.call('HEAD', at);
    expect(finalHead.status).toBe(200);
    expect(finalHead.headers['upload-concat']).toBe(`final;${urls.join(' ')}`);
    expect(finalHead.headers['upload-offset']).toBe(String(photo.length));
    expect(finalHead.headers['upload-length']).toBe(String(photo.length));

    const result = await server.call('GET', at);
    expect(result.status).toBe(200);
    const image = result.body as { id: string; name: string; sha256: string; url: string };
    expect(image.id).toBe(created.headers['image-id']);
    expect(created.headers['image-location']).toBe(image.url);
    expect(sha256(await harness.storedBytes(image.name))).toBe(image.sha256);
    expect(await postedSha256(server, photo, 'image/jpeg')).toBe(image.sha256);

    // The partials are used up: their bytes gone, their records kept (for a retry) but gone
    // to HEAD and DELETE; the final upload's record stays.
    for (const part of parts) {
      expect((await server.call('HEAD', part)).status).toBe(404);
      expect((await server.call('DELETE', part)).status).toBe(404);
    }
    expect(await stagedIds(harness)).toEqual([idOf(at), ...parts.map(idOf)].sort());
    for (const part of parts) expect(await stagedPieceCount(harness, idOf(part))).toBe(0);
    // Its 201 lost, the client asks again: the same final upload answers, no second image.
    const published = await publishedNames(harness);
    const again = await final(server, urls);
    expect(again.status).toBe(201);
    expect(again.headers.location).toBe(created.headers.location);
    expect(again.headers['image-id']).toBe(created.headers['image-id']);
    expect(again.headers['upload-offset']).toBe(String(photo.length));
    expect(await publishedNames(harness)).toEqual(published);
    // A partial cannot be used twice: in another order, or fewer of them, is another upload.
    expectErrorResponse(await final(server, [parts[1]!, parts[0]!, parts[2]!]), 'partial_upload_used');
    expectErrorResponse(await final(server, parts.slice(0, 2)), 'partial_upload_used');
    // A final upload takes no PATCH (tus: 403), whatever the offset or the body's type.
    for (const offset of [0, photo.length]) {
      const patched = await server.call('PATCH', at, patchHeaders(offset), Buffer.alloc(1));
      expectErrorResponse(patched, 'upload_is_final');
    }
    const untyped = await server.call(
      'PATCH',
      at,
      { ...patchHeaders(0), 'Content-Type': 'text/plain' },
      Buffer.alloc(1),
    );
    expectErrorResponse(untyped, 'upload_is_final');
    expect(await harness.leftovers()).toEqual([]);
  });

  it("a final upload naming another caller's partials is refused, and those partials stay theirs", async () => {
    const keys = ['first-key-0123456789', 'second-key-0123456789'];
    const harness = await harnessFor(driver, { API_KEYS: keys.join(',') });
    const server = await serve(harness);
    const as = (key: string) => ({ Authorization: `Bearer ${key}` });
    const photo = fixture('photo.jpg');
    const [head, tail] = slices(photo, 2) as [Buffer, Buffer];
    const mine = [
      await partial(server, head, { headers: as(keys[0]!) }),
      await partial(server, tail, { headers: as(keys[0]!) }),
    ];
    const theirs = await partial(server, tail, { headers: as(keys[1]!) });

    // Wholly another caller's, or one of them slipped in among the caller's own: alike.
    expectErrorResponse(await final(server, mine, as(keys[1]!)), 'partial_upload_not_found');
    expectErrorResponse(await final(server, [mine[0]!, theirs], as(keys[0]!)), 'partial_upload_not_found');
    expectErrorResponse(await final(server, [theirs, mine[1]!], as(keys[1]!)), 'partial_upload_not_found');
    expect(await publishedNames(harness)).toEqual([]);

    // Untouched: the owner still sees them whole, and joins them.
    for (const part of mine) {
      const seen = await server.call('HEAD', part, as(keys[0]!));
      expect(seen.status).toBe(200);
      expect((await server.call('HEAD', part, as(keys[1]!))).status).toBe(404);
    }
    const created = await final(server, mine, as(keys[0]!));
    expect(created.status).toBe(201);
    const image = (await server.call('GET', uploadPath(created.headers.location), as(keys[0]!)))
      .body as { sha256: string };
    expect(image.sha256).toBe(await postedSha256(server, photo, 'image/jpeg', as(keys[0]!)));
    // Another caller cannot read the final upload either.
    expect((await server.call('HEAD', uploadPath(created.headers.location), as(keys[1]!))).status).toBe(404);
    expect((await server.call('HEAD', theirs, as(keys[1]!))).status).toBe(200);
  });

  it('refuses a malformed Upload-Concat, unknown, ordinary, unfinished and repeated partials, nothing stored', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const photo = fixture('photo.jpg');
    const [head, tail] = slices(photo, 2) as [Buffer, Buffer];
    const done = await partial(server, head);
    const unknown = '/v1/uploads/00000000-0000-4000-8000-000000000000';
    const port = new URL(server.origin).port;
    for (const value of [
      'final',
      'final;',
      'final; ',
      'partial;',
      'partials',
      'final;/v1/uploads/not-an-id',
      `final;${done}/`,
      `final;${done}?x=1`,
      `final;${done}#x`,
      `final;/v1/uploads/../uploads/${idOf(done)}`,
      `final;${idOf(done)}`,
      `final;v1/uploads/${idOf(done)}`,
      `final;//127.0.0.1:${port}${done}`,
      `final;http://elsewhere.example${done}`,
      `final;http://user@127.0.0.1:${port}${done}`,
      `final;ftp://127.0.0.1:${port}${done}`,
      `final;/v2/uploads/${idOf(done)}`,
      `final;/v1/uploads/${idOf(done).toUpperCase()}`,
      `final;${done},${done}`,
      `final;${done} ${done}`,
    ]) {
      const refused = await server.call('POST', '/v1/uploads', {
        'Upload-Concat': value,
        'Upload-Length': '10',
      });
      expectErrorResponse(refused, 'invalid_upload_concat');
    }
    const many = Array.from({ length: 65 }, (_, index) => `${done.slice(0, -2)}${String(index).padStart(2, '0')}`);
    expectErrorResponse(await final(server, many), 'too_many_partial_uploads');
    // A final upload takes neither a length nor a body.
    expectErrorResponse(await final(server, [done], { 'Upload-Length': String(head.length) }), 'invalid_upload_concat');
    expectErrorResponse(await final(server, [done], { 'Upload-Defer-Length': '1' }), 'invalid_upload_concat');
    const withBody = await server.call(
      'POST',
      '/v1/uploads',
      { 'Upload-Concat': `final;${done}`, 'Content-Type': 'application/offset+octet-stream' },
      tail,
    );
    expectErrorResponse(withBody, 'invalid_upload_concat');

    expectErrorResponse(await final(server, [done, unknown]), 'partial_upload_not_found');
    const ordinary = await server.call('POST', '/v1/uploads', { 'Upload-Length': String(tail.length) });
    const ordinaryAt = uploadPath(ordinary.headers.location);
    expectErrorResponse(await final(server, [done, ordinaryAt]), 'not_a_partial_upload');
    const unfinished = await server.call('POST', '/v1/uploads', {
      'Upload-Concat': 'partial',
      'Upload-Length': String(tail.length),
    });
    const unfinishedAt = uploadPath(unfinished.headers.location);
    expectErrorResponse(await final(server, [done, unfinishedAt]), 'partial_upload_incomplete');
    await server.call('PATCH', unfinishedAt, patchHeaders(0), tail.subarray(0, 10));
    expectErrorResponse(await final(server, [done, unfinishedAt]), 'partial_upload_incomplete');
    const deferred = await server.call('POST', '/v1/uploads', {
      'Upload-Concat': 'partial',
      'Upload-Defer-Length': '1',
    });
    expectErrorResponse(
      await final(server, [done, uploadPath(deferred.headers.location)]),
      'partial_upload_incomplete',
    );

    // Nothing of it was taken: the partial still joins once its peer is complete.
    expect(await publishedNames(harness)).toEqual([]);
    const patched = await server.call('PATCH', unfinishedAt, patchHeaders(10), tail.subarray(10));
    expect(patched.status).toBe(204);
    expect(patched.headers['image-id']).toBeUndefined();
    const created = await final(server, [done, unfinishedAt]);
    expect(created.status).toBe(201);
    expect((await server.call('GET', uploadPath(created.headers.location))).body).toMatchObject({
      sha256: await postedSha256(server, photo, 'image/jpeg'),
    });
  });

  it('two final uploads naming one partial at once: one is published, the other refused or answered the same', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const photo = fixture('photo.png');
    const parts = [];
    for (const slice of slices(photo, 2)) parts.push(await partial(server, slice));
    const answers = await Promise.all([final(server, parts), final(server, parts)]);
    const [first, second] = [...answers].sort((a, b) => a.status - b.status);
    expect(first?.status).toBe(201);
    // Taken by the other (409); or, once the other was published, the same request again: the
    // same final upload answers.
    if (second?.status === 201) expect(second.headers.location).toBe(first?.headers.location);
    else expectErrorResponse(second!, 'partial_upload_used');
    expect(await publishedNames(harness)).toHaveLength(1);
  });

  it('a refused type in a final upload: 415, nothing stored, partials removed', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const svg = fixture('script.svg');
    const parts = [];
    for (const slice of slices(svg, 3)) parts.push(await partial(server, slice));
    // Partials are not sniffed as they arrive: only the first starts at byte 0.
    expect(await stagedIds(harness)).toHaveLength(3);
    const refused = await final(server, parts, {
      'Upload-Metadata': `filetype ${b64('image/png')}`,
    });
    expectErrorResponse(refused, 'unsupported_image_type');
    expect(refused.headers['tus-resumable']).toBe('1.0.0');
    for (const part of parts) expect((await server.call('HEAD', part)).status).toBe(404);
    expect(await stagedIds(harness)).toEqual([]);
    await harness.expectNothingStored();
  });

  it('limits: partials count as open uploads, and their sum is bounded by MAX_IMAGE_BYTES', async () => {
    const harness = await harnessFor(driver, {
      MAX_OPEN_UPLOADS_PER_CALLER: '2',
      MAX_IMAGE_BYTES: String(64 * 1024),
    });
    const server = await serve(harness);
    const parts = [
      await partial(server, randomBytes(40 * 1024)),
      await partial(server, randomBytes(40 * 1024)),
    ];
    const third = await server.call('POST', '/v1/uploads', {
      'Upload-Concat': 'partial',
      'Upload-Length': '10',
    });
    expectErrorResponse(third, 'too_many_open_uploads');
    expectErrorResponse(await final(server, parts), 'payload_too_large');
    expect(await stagedIds(harness)).toHaveLength(2);

    // A final upload needs no place of its own, and frees its partials'.
    for (const part of parts) expect((await server.call('DELETE', part)).status).toBe(204);
    const photo = fixture('photo.jpg');
    const small = [await partial(server, photo.subarray(0, 100)), await partial(server, photo.subarray(100))];
    const created = await final(server, small);
    expect(created.status).toBe(201);
    for (let index = 0; index < 2; index += 1) {
      const again = await server.call('POST', '/v1/uploads', { 'Upload-Length': '10' });
      expect(again.status).toBe(201);
    }
  });

  it('partials expire like any upload: refused once expired, removed by the sweep', async () => {
    const harness = await harnessFor(driver, { UPLOAD_EXPIRES_SECONDS: '1' });
    const server = await serve(harness);
    const photo = fixture('photo.jpg');
    const parts = [];
    for (const slice of slices(photo, 2)) parts.push(await partial(server, slice));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await server.call('HEAD', parts[0]!)).status).toBe(410);
    expectErrorResponse(await final(server, parts), 'partial_upload_not_found');
    const swept = await sweepUploads(sweptAreasOf(harness.staging, 60));
    expect(swept.removed).toBe(2);
    expect(await stagedIds(harness)).toEqual([]);
    await harness.expectNothingStored();
  });
});

describe('tus concatenation on GCS behind a fault proxy', () => {
  it('the store down when the final upload is created: 503, nothing taken; once back, the same partials publish', async () => {
    const proxy = await emulatorProxy();
    const harness = await harnessFor('gcs', {
      GCS_API_ENDPOINT: proxy.endpoint,
      STORE_TIMEOUT_MS: '1500',
      STORE_ATTEMPT_TIMEOUT_MS: '1000',
    });
    const server = await serve(harness);
    const photo = fixture('photo.jpg');
    const parts = [];
    for (const slice of slices(photo, 2)) parts.push(await partial(server, slice));

    await proxy.setEnabled(false);
    const refused = await final(server, parts);
    expectErrorResponse(refused, 'storage_unavailable');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await proxy.setEnabled(true);

    // Untouched: complete, untaken, and joined by the retry.
    for (const part of parts) {
      const head = await server.call('HEAD', part);
      expect(head.status).toBe(200);
      expect(head.headers['upload-concat']).toBe('partial');
    }
    const created = await final(server, parts);
    expect(created.status).toBe(201);
    const image = (await server.call('GET', uploadPath(created.headers.location))).body as {
      name: string;
      sha256: string;
    };
    expect(image.sha256).toBe(await postedSha256(server, photo, 'image/jpeg'));
    expect(await publishedNames(harness)).toHaveLength(2);
  });
});
