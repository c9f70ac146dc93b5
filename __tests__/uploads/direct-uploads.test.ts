import { afterEach, describe, expect, it } from '@jest/globals';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { removeUpload } from '../../src/storage/staging/staging.js';
import type { DirectUploadRecord } from '../../src/uploads/direct-upload-record.js';
import { DirectUploads } from '../../src/uploads/direct-uploads.js';
import { LocalUploadEndpoint } from '../../src/uploads/local-upload-endpoint.js';
import { fixture, sha256 } from '../support/requests.js';
import { stagedUploadsSubject, type StagedUploadsSubject } from './staged-uploads-support.js';

/**
 * DirectUploads called directly, the peer of TusUploads: creation, completion, replay and
 * expiry over a local staging layer in a temp folder, no HTTP server. The routes on the wire
 * are in __tests__/http/direct-uploads.test.ts.
 */

const subjects: StagedUploadsSubject[] = [];
afterEach(async () => {
  await Promise.all(subjects.splice(0).map((subject) => subject.dispose()));
});

const targetOptions = { origin: undefined, serviceOrigin: 'http://127.0.0.1:1' };

async function start(
  now?: () => Date,
): Promise<{ subject: StagedUploadsSubject; uploads: DirectUploads; ended: string[] }> {
  const subject = await stagedUploadsSubject();
  subjects.push(subject);
  const ended: string[] = [];
  const uploads = new DirectUploads({
    staging: subject.staging.direct,
    maxImageBytes: subject.config.maxImageBytes,
    expiresSeconds: 600,
    now,
    onEnded: (id) => ended.push(id),
  });
  return { subject, uploads, ended };
}

/** The client's PUT, as the local upload route writes it. */
async function put(subject: StagedUploadsSubject, id: string, bytes: Buffer, size = bytes.length): Promise<number> {
  return subject.staging.direct.bytes.writeWhole(id, Readable.from([bytes]), size);
}

describe('DirectUploads, without a server', () => {
  it('creates an upload with a signed target, completes it, and answers a retry with the same image', async () => {
    const { subject, uploads, ended } = await start();
    const photo = fixture('photo.jpg');
    const { record, target } = await uploads.create(
      { owner: undefined, size: photo.length, declaredType: 'image/jpeg', method: 'put' },
      targetOptions,
    );
    expect(target.url).toContain(`/v1/uploads/direct/${record.id}?`);
    expect(Date.parse(record.completeBy) - Date.parse(record.expiresAt)).toBe(600_000);
    await expect(uploads.complete(record.id, undefined, subject.base)).rejects.toMatchObject({
      code: 'upload_incomplete',
    });
    expect(await put(subject, record.id, photo)).toBe(photo.length);
    const image = await uploads.complete(record.id, undefined, subject.base);
    expect(image.sha256).toBe(sha256(photo));
    expect(image.deleteToken).toEqual(expect.any(String));
    expect(ended).toEqual([record.id]);
    // The bytes are gone, the record stays: a retried complete finds the same image.
    expect(await readdir(`${subject.stagingFolder('direct')}/${record.id}`)).toEqual(['record.1']);
    expect(await uploads.complete(record.id, undefined, subject.base)).toEqual(image);
  });

  it("answers 404 to another caller's upload and to a forged id", async () => {
    const { subject, uploads } = await start();
    const { record } = await uploads.create(
      { owner: 'api_key:a', size: 10, declaredType: null, method: 'put' },
      targetOptions,
    );
    await expect(uploads.complete(record.id, 'api_key:b', subject.base)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(uploads.complete(record.id, undefined, subject.base)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(uploads.complete('../../etc', 'api_key:a', subject.base)).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('refuses bytes that are not an image, and keeps nothing of the upload', async () => {
    const { subject, uploads, ended } = await start();
    const page = fixture('page.html');
    const { record } = await uploads.create(
      { owner: undefined, size: page.length, declaredType: 'image/png', method: 'put' },
      targetOptions,
    );
    await put(subject, record.id, page);
    await expect(uploads.complete(record.id, undefined, subject.base)).rejects.toMatchObject({
      status: 415,
    });
    expect(ended).toEqual([record.id]);
    expect(await readdir(subject.stagingFolder('direct'))).toEqual(['.incoming']);
  });

  it('refuses an upload past completeBy, and a PUT past the URL expiry', async () => {
    let now = new Date();
    const { subject, uploads } = await start(() => now);
    const { record } = await uploads.create(
      { owner: undefined, size: 5, declaredType: null, method: 'put' },
      targetOptions,
    );
    await expect(
      uploads.recordForTarget(record.id, 'put', Date.parse(record.expiresAt)),
    ).resolves.toEqual(record);
    now = new Date(Date.parse(record.expiresAt) + 1000);
    await expect(
      uploads.recordForTarget(record.id, 'put', Date.parse(record.expiresAt)),
    ).rejects.toMatchObject({ code: 'upload_expired' });
    // A session, once started, runs until complete would refuse it.
    await expect(uploads.recordForTarget(record.id, 'resumable', 0)).resolves.toEqual(record);
    now = new Date(Date.parse(record.completeBy) + 1000);
    await expect(uploads.complete(record.id, undefined, subject.base)).rejects.toMatchObject({
      code: 'upload_expired',
    });
    expect(await readdir(subject.stagingFolder('direct'))).toEqual(['.incoming']);
  });

  it('refuses a declared size past MAX_IMAGE_BYTES before anything is stored', async () => {
    const { subject, uploads } = await start();
    await expect(
      uploads.create(
        { owner: undefined, size: subject.config.maxImageBytes + 1, declaredType: null, method: 'put' },
        targetOptions,
      ),
    ).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(await readdir(subject.stagingFolder('direct'))).toEqual(['.incoming']);
  });

  it("takes a session's chunks through the local endpoint, in order, and refuses a forged URL", async () => {
    const { subject, uploads } = await start();
    const endpoint = new LocalUploadEndpoint(uploads, subject.staging.direct.bytes);
    const photo = fixture('photo.jpg');
    const { record, target } = await uploads.create(
      { owner: undefined, size: photo.length, declaredType: null, method: 'resumable' },
      targetOptions,
    );
    const query = new URL(target.url).searchParams;
    const fields = {
      id: record.id,
      method: 'resumable' as const,
      expires: Number(query.get('expires')),
      size: Number(query.get('size')),
    };
    await expect(endpoint.recordFor({ ...fields, size: 1 }, query.get('signature')!)).rejects.toMatchObject({
      code: 'invalid_signature',
    });
    expect(await endpoint.recordFor(fields, query.get('signature')!)).toEqual(record);
    const half = Math.floor(photo.length / 2);
    const status = { first: undefined, last: undefined, total: photo.length };
    expect(await endpoint.putChunk(record, status, undefined, Readable.from([]))).toBe(0);
    const first = { first: 0, last: half - 1, total: undefined };
    expect(await endpoint.putChunk(record, first, half, Readable.from([photo.subarray(0, half)]))).toBe(half);
    // A chunk that starts past what arrived is refused; nothing is lost.
    const gap = { first: half + 1, last: photo.length - 1, total: photo.length };
    await expect(
      endpoint.putChunk(record, gap, undefined, Readable.from([photo.subarray(half + 1)])),
    ).rejects.toMatchObject({ code: 'invalid_content_range' });
    const rest = { first: half, last: photo.length - 1, total: photo.length };
    expect(
      await endpoint.putChunk(record, rest, undefined, Readable.from([photo.subarray(half)])),
    ).toBe(photo.length);
    expect(await endpoint.putChunk(record, status, undefined, Readable.from([]))).toBe(photo.length);
    const image = await uploads.complete(record.id, undefined, subject.base);
    expect(image.sha256).toBe(sha256(photo));
  });

  it('answers 404 to bytes for an upload that complete removed while the client still sent', async () => {
    const { subject, uploads } = await start();
    const endpoint = new LocalUploadEndpoint(uploads, subject.staging.direct.bytes);
    const photo = fixture('photo.jpg');
    const created = async (method: 'put' | 'resumable'): Promise<DirectUploadRecord> => {
      const { record } = await uploads.create(
        { owner: undefined, size: photo.length, declaredType: null, method },
        targetOptions,
      );
      // The record as the upload route read it; then the upload goes (complete, the sweep).
      await removeUpload(subject.staging.direct, record.id);
      return record;
    };
    const whole = await created('put');
    await expect(
      endpoint.putWhole(whole, Readable.from([photo]), photo.length),
    ).rejects.toMatchObject({ code: 'not_found' });
    const session = await created('resumable');
    const range = { first: 0, last: photo.length - 1, total: photo.length };
    await expect(
      endpoint.putChunk(session, range, photo.length, Readable.from([photo])),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(await readdir(subject.stagingFolder('direct'))).toEqual(['.incoming']);
  });
});
