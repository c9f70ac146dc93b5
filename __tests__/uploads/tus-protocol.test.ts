import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { expectErrorResponse } from '../http/expect-error.js';
import { sweepStaging, useHarnesses } from '../http/harness.js';
import { drivers, fixture, sha256 } from '../support/requests.js';
import {
  patchHeaders,
  useTusServers,
  stagedIds,
  stagedPieceCount,
  uploadPath,
  type TusResponse,
  type TusServer,
} from './tus-client.js';

const harnessFor = useHarnesses();

const serve = useTusServers();

/** HEAD answers carry no body: the status and the tus header tell. */
function expectHeadStatus(response: TusResponse, status: number): void {
  expect(response.status).toBe(status);
  expect(response.headers['tus-resumable']).toBe('1.0.0');
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const digest = (algorithm: string, bytes: Buffer): string =>
  createHash(algorithm).update(bytes).digest('base64');

async function create(
  server: TusServer,
  length: number,
  headers: Record<string, string> = {},
): Promise<string> {
  const response = await server.call('POST', '/v1/uploads', {
    'Upload-Length': String(length),
    ...headers,
  });
  expect(response.status).toBe(201);
  return uploadPath(response.headers.location);
}

describe.each(drivers)('tus protocol (%s)', (driver) => {
  it('OPTIONS describes the server', async () => {
    const server = await serve(await harnessFor(driver));
    const response = await server.call('OPTIONS', '/v1/uploads', {});
    expect(response.status).toBe(204);
    expect(response.headers['tus-version']).toBe('1.0.0');
    expect(response.headers['tus-extension']?.split(',')).toEqual(
      expect.arrayContaining([
        'creation',
        'creation-with-upload',
        'creation-defer-length',
        'termination',
        'expiration',
        'checksum',
      ]),
    );
    expect(response.headers['tus-max-size']).toBe(String(10 * 1024 * 1024));
    expect(response.headers['tus-checksum-algorithm']).toBe('sha1,sha256,md5');
  });

  it('create, HEAD, PATCH in pieces: the photo is published as POST /v1/images publishes it', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const photo = fixture('photo.jpg');
    const created = await server.call('POST', '/v1/uploads', {
      'Upload-Length': String(photo.length),
      'Upload-Metadata': `filename ${b64('photo.jpg')},filetype ${b64('image/jpeg')}`,
    });
    expect(created.status).toBe(201);
    expect(created.headers['tus-resumable']).toBe('1.0.0');
    expect(created.headers['upload-expires']).toMatch(/GMT$/);
    const location = created.headers.location ?? '';
    expect(location).toMatch(new RegExp(`^${server.origin}/v1/uploads/[0-9a-f-]{36}$`));
    const at = uploadPath(location);

    const head = await server.call('HEAD', at);
    expect(head.status).toBe(200);
    expect(head.headers['upload-offset']).toBe('0');
    expect(head.headers['upload-length']).toBe(String(photo.length));
    expect(head.headers['cache-control']).toBe('no-store');

    const third = Math.ceil(photo.length / 3);
    let offset = 0;
    let last;
    while (offset < photo.length) {
      const chunk = photo.subarray(offset, offset + third);
      last = await server.call('PATCH', at, patchHeaders(offset), chunk);
      expect(last.status).toBe(204);
      offset += chunk.length;
      expect(last.headers['upload-offset']).toBe(String(offset));
    }
    const imageId = last?.headers['image-id'];
    expect(last?.headers['image-location']).toMatch(new RegExp(`${imageId}\\.jpg$`));

    const result = await server.call('GET', at);
    expect(result.status).toBe(200);
    const image = result.body as Record<string, unknown>;
    expect(image.id).toBe(imageId);
    expect(image.deleteToken).toEqual(expect.any(String));

    // The same bytes through POST /v1/images give the same stored bytes.
    const posted = await server.call(
      'POST',
      '/v1/images',
      { 'Content-Type': 'image/jpeg' },
      photo,
    );
    expect(posted.status).toBe(201);
    const direct = posted.body as Record<string, unknown>;
    expect(image.sha256).toBe(direct.sha256);
    expect(image.bytes).toBe(direct.bytes);
    const stored = await harness.storedBytes(String(image.name));
    expect(sha256(stored)).toBe(image.sha256);

    // Finished: HEAD says complete, the staged bytes are gone.
    const after = await server.call('HEAD', at);
    expect(after.status).toBe(200);
    expect(after.headers['upload-offset']).toBe(String(photo.length));
    const names = await harness.storedNames();
    expect(names.filter((name) => !name.startsWith('staging/'))).toEqual(
      [String(image.name), String(direct.name)].sort(),
    );
    // Only the record stays (for GET /v1/uploads/{id}) until it expires; no piece.
    expect(names.filter((name) => name.startsWith('staging/'))).toEqual(
      driver === 'gcs' ? [`staging/tus/${at.split('/').pop()}/upload.json`] : [],
    );
    expect(await harness.leftovers()).toEqual([]);
  });

  it('creation-with-upload finishes in one request', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const png = fixture('photo.png');
    const response = await server.call(
      'POST',
      '/v1/uploads',
      {
        'Upload-Length': String(png.length),
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Checksum': `sha256 ${digest('sha256', png)}`,
      },
      png,
    );
    expect(response.status).toBe(201);
    expect(response.headers['upload-offset']).toBe(String(png.length));
    expect(response.headers['image-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('creation-defer-length: the length comes with a later PATCH', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const png = fixture('photo.png');
    const created = await server.call('POST', '/v1/uploads', { 'Upload-Defer-Length': '1' });
    expect(created.status).toBe(201);
    const at = uploadPath(created.headers.location);
    const head = await server.call('HEAD', at);
    expect(head.headers['upload-defer-length']).toBe('1');
    const half = Math.floor(png.length / 2);
    const first = await server.call('PATCH', at, patchHeaders(0), png.subarray(0, half));
    expect(first.status).toBe(204);
    const second = await server.call(
      'PATCH',
      at,
      { ...patchHeaders(half), 'Upload-Length': String(png.length) },
      png.subarray(half),
    );
    expect(second.status).toBe(204);
    expect(second.headers['image-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('X-HTTP-Method-Override: a POST is taken as the method it names', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const at = await create(server, 1000);
    const override = (method: string): Record<string, string> => ({
      'X-HTTP-Method-Override': method,
    });
    const patched = await server.call(
      'POST',
      at,
      { ...patchHeaders(0), ...override('PATCH') },
      Buffer.alloc(100),
    );
    expect(patched.status).toBe(204);
    expect(patched.headers['upload-offset']).toBe('100');
    // Not HEAD: Node would frame the POST's answer with a length whose body never comes.
    expect((await server.call('POST', at, override('HEAD'))).status).toBe(405);
    expect((await server.call('HEAD', at)).headers['upload-offset']).toBe('100');
    expect((await server.call('POST', at, override('DELETE'))).status).toBe(204);
    expectHeadStatus(await server.call('HEAD', at), 404);
    expect(await stagedIds(harness)).toEqual([]);
  });

  it('one limit, one error: MAX_IMAGE_BYTES is payload_too_large, Upload-Length upload_too_large', async () => {
    const harness = await harnessFor(driver, { MAX_IMAGE_BYTES: '1000' });
    const server = await serve(harness);
    const created = await server.call('POST', '/v1/uploads', { 'Upload-Defer-Length': '1' });
    const deferred = uploadPath(created.headers.location);
    expectErrorResponse(
      await server.call('PATCH', deferred, patchHeaders(0), Buffer.alloc(1001)),
      'payload_too_large',
    );
    expectErrorResponse(
      await server.call('PATCH', deferred, { ...patchHeaders(0), 'Upload-Length': '1001' }, Buffer.alloc(10)),
      'payload_too_large',
    );
    const declared = await create(server, 500);
    expectErrorResponse(
      await server.call('PATCH', declared, patchHeaders(0), Buffer.alloc(501)),
      'upload_too_large',
    );
    expect(await stagedPieceCount(harness, deferred.split('/').pop() ?? '')).toBe(0);
  });

  it('termination: DELETE answers 204, then the upload is gone', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const at = await create(server, 1000);
    await server.call('PATCH', at, patchHeaders(0), Buffer.alloc(100));
    const deleted = await server.call('DELETE', at);
    expect(deleted.status).toBe(204);
    expect(deleted.headers['tus-resumable']).toBe('1.0.0');
    const head = await server.call('HEAD', at);
    expect(head.status).toBe(404);
    expect(head.headers['tus-resumable']).toBe('1.0.0');
    expect(await stagedIds(harness)).toEqual([]);
  });

  it.each(['sha1', 'sha256', 'md5'])('checksum %s: a good chunk is kept, a bad one discarded (460)', async (algorithm) => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const at = await create(server, 1000);
    const chunk = Buffer.alloc(400, 7);
    const bad = await server.call(
      'PATCH',
      at,
      { ...patchHeaders(0), 'Upload-Checksum': `${algorithm} ${digest(algorithm, Buffer.alloc(400, 8))}` },
      chunk,
    );
    expectErrorResponse(bad, 'upload_checksum_mismatch');
    expect(bad.headers['tus-resumable']).toBe('1.0.0');
    expect((await server.call('HEAD', at)).headers['upload-offset']).toBe('0');
    const good = await server.call(
      'PATCH',
      at,
      { ...patchHeaders(0), 'Upload-Checksum': `${algorithm} ${digest(algorithm, chunk)}` },
      chunk,
    );
    expect(good.status).toBe(204);
    expect(good.headers['upload-offset']).toBe('400');
  });

  it('refuses what the protocol does not allow, each with its status, nothing staged', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const noVersion = await server.call('POST', '/v1/uploads', {
      'Tus-Resumable': '0.2.2',
      'Upload-Length': '10',
    });
    expectErrorResponse(noVersion, 'tus_version_unsupported');
    expect(noVersion.headers['tus-version']).toBe('1.0.0');
    for (const length of ['-1', '1e30', 'abc', '99999999999999999999', '']) {
      const response = await server.call('POST', '/v1/uploads', { 'Upload-Length': length });
      expectErrorResponse(response, 'invalid_upload_length');
      expect(response.headers['tus-resumable']).toBe('1.0.0');
    }
    expectErrorResponse(
      await server.call('POST', '/v1/uploads', { 'Upload-Length': String(11 * 1024 * 1024) }),
      'payload_too_large',
    );
    expectErrorResponse(
      await server.call('POST', '/v1/uploads', { 'Upload-Length': '10', 'Upload-Metadata': 'a b c' }),
      'invalid_upload_metadata',
    );
    expect(await stagedIds(harness)).toEqual([]);

    const at = await create(server, 1000);
    expectErrorResponse(
      await server.call('PATCH', at, { ...patchHeaders(0), 'Content-Type': 'image/png' }, Buffer.alloc(10)),
      'invalid_upload_content_type',
    );
    expectErrorResponse(await server.call('PATCH', at, patchHeaders(5), Buffer.alloc(10)), 'upload_offset_mismatch');
    expectErrorResponse(
      await server.call('PATCH', at, { ...patchHeaders(0), 'Upload-Offset': '-3' }, Buffer.alloc(10)),
      'invalid_upload_offset',
    );
    expectErrorResponse(
      await server.call('PATCH', at, { ...patchHeaders(0), 'Upload-Checksum': 'crc32 AAAA' }, Buffer.alloc(10)),
      'invalid_upload_checksum',
    );
    // Past Upload-Length: 413, and nothing of the chunk is kept.
    expectErrorResponse(await server.call('PATCH', at, patchHeaders(0), Buffer.alloc(1001)), 'upload_too_large');
    expect((await server.call('HEAD', at)).headers['upload-offset']).toBe('0');
  });

  it('forged ids and path tricks answer 404 without touching storage', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    for (const id of [
      '00000000-0000-4000-8000-000000000000',
      '..%2F..%2Fetc%2Fpasswd',
      '../../etc/passwd',
      'a'.repeat(5000),
      'ABCDEF00-0000-4000-8000-000000000000',
    ]) {
      const response = await server.call('HEAD', `/v1/uploads/${id}`);
      expect(response.status).toBe(404);
      const patched = await server.call('PATCH', `/v1/uploads/${id}`, patchHeaders(0), Buffer.alloc(1));
      expect(patched.status).toBe(404);
    }
    expect(await stagedIds(harness)).toEqual([]);
  });

  it("another caller's upload is as missing as a forged one", async () => {
    const keys = ['first-key-0123456789', 'second-key-0123456789'];
    const harness = await harnessFor(driver, { API_KEYS: keys.join(',') });
    const server = await serve(harness);
    const as = (key: string) => ({ Authorization: `Bearer ${key}` });
    const created = await server.call('POST', '/v1/uploads', { ...as(keys[0]!), 'Upload-Length': '10' });
    expect(created.status).toBe(201);
    const at = uploadPath(created.headers.location);
    expect((await server.call('HEAD', at, as(keys[0]!))).status).toBe(200);
    expect((await server.call('HEAD', at, as(keys[1]!))).status).toBe(404);
    expect((await server.call('GET', at, as(keys[1]!))).status).toBe(404);
    expect((await server.call('DELETE', at, as(keys[1]!))).status).toBe(404);
    const unauthenticated = await server.call('HEAD', at);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers['tus-resumable']).toBe('1.0.0');
  });

  it('expired uploads answer 410, and 404 once swept', async () => {
    const harness = await harnessFor(driver, { UPLOAD_EXPIRES_SECONDS: '1' });
    const server = await serve(harness);
    const at = await create(server, 1000);
    const patched = await server.call('PATCH', at, patchHeaders(0), Buffer.alloc(10));
    expect(Date.parse(patched.headers['upload-expires'] ?? '')).toBeGreaterThan(Date.now() - 2000);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expectHeadStatus(await server.call('HEAD', at), 410);
    expectErrorResponse(await server.call('PATCH', at, patchHeaders(10), Buffer.alloc(10)), 'upload_expired');
    const swept = await sweepStaging(harness);
    expect(swept.removed).toBe(1);
    expect((await server.call('HEAD', at)).status).toBe(404);
    expect(await stagedIds(harness)).toEqual([]);
  });

  it('Upload-Metadata focus is the image\'s focal point; a bad one is 400 at creation', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const photo = fixture('photo.jpg');
    for (const focus of ['0.5', '1.5,0', 'a,b']) {
      const refused = await server.call('POST', '/v1/uploads', {
        'Upload-Length': String(photo.length),
        'Upload-Metadata': `filename ${b64('photo.jpg')},focus ${b64(focus)}`,
      });
      expectErrorResponse(refused, 'invalid_focus');
      expect((refused.body as { error: { message: string } }).error.message).toContain(
        'the tus metadata "focus"',
      );
    }
    expect(await stagedIds(harness)).toEqual([]);

    const at = await create(server, photo.length, {
      'Upload-Metadata': `focus ${b64('0.25,0.75')}`,
    });
    expect((await server.call('PATCH', at, patchHeaders(0), photo)).status).toBe(204);
    const image = (await server.call('GET', at)).body as { id: string; focus?: unknown };
    expect(image.focus).toEqual({ x: 0.25, y: 0.75 });
    const described = await server.call('GET', `/v1/images/${image.id}`);
    expect((described.body as { focus?: unknown }).focus).toEqual({ x: 0.25, y: 0.75 });
  });

  it('an SVG ends rejected: 415 on the last PATCH, then 410, nothing stored or staged', async () => {
    const harness = await harnessFor(driver);
    const server = await serve(harness);
    const svg = fixture('script.svg');
    const at = await create(server, svg.length, { 'Upload-Metadata': `filetype ${b64('image/png')}` });
    const half = Math.floor(svg.length / 2);
    expect((await server.call('PATCH', at, patchHeaders(0), svg.subarray(0, half))).status).toBe(204);
    const last = await server.call('PATCH', at, patchHeaders(half), svg.subarray(half));
    expectErrorResponse(last, 'unsupported_image_type');
    expect(last.headers['tus-resumable']).toBe('1.0.0');
    expectHeadStatus(await server.call('HEAD', at), 410);
    expectErrorResponse(await server.call('PATCH', at, patchHeaders(svg.length), Buffer.alloc(0)), 'upload_rejected');
    expectErrorResponse(await server.call('GET', at), 'unsupported_image_type');
    expect(await harness.storedNames()).toEqual(
      // GCS lists the bucket whole: only the rejected upload's record is left, until the sweep.
      driver === 'gcs' ? [`staging/tus/${at.split('/').pop()}/upload.json`] : [],
    );
    expect(await harness.leftovers()).toEqual([]);
  });
});
