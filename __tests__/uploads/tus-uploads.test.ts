import { afterEach, describe, expect, it } from '@jest/globals';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { TusUploads, type PatchRequest } from '../../src/uploads/tus-uploads.js';
import { fixture, sha256 } from '../support/requests.js';
import { stagedUploadsSubject, type StagedUploadsSubject } from './staged-uploads-support.js';

/**
 * TusUploads called directly, as tus-node-server tests its handlers: the protocol's steps over
 * a local staging layer in a temp folder, no HTTP server. The protocol on the wire is in
 * tus-protocol.test.ts.
 */

const subjects: StagedUploadsSubject[] = [];
afterEach(async () => {
  await Promise.all(subjects.splice(0).map((subject) => subject.dispose()));
});

async function start(now?: () => Date): Promise<{ subject: StagedUploadsSubject; uploads: TusUploads; ended: string[] }> {
  const subject = await stagedUploadsSubject();
  subjects.push(subject);
  const ended: string[] = [];
  const uploads = new TusUploads({
    staging: subject.staging.tus,
    maxImageBytes: subject.config.maxImageBytes,
    expiresSeconds: 60,
    now,
    onEnded: (id) => ended.push(id),
  });
  return { subject, uploads, ended };
}

function patchOf(offset: number, bytes: Buffer): PatchRequest {
  return {
    offset,
    length: undefined,
    declaredBytes: bytes.length,
    checksum: undefined,
    body: Readable.from([bytes]),
  };
}

const hints = { filename: 'photo.jpg', filetype: 'image/jpeg', focus: null };

describe('TusUploads, without a server', () => {
  it('takes an upload in two PATCHes and publishes the bytes as sent', async () => {
    const { subject, uploads, ended } = await start();
    const photo = fixture('photo.jpg');
    const created = await uploads.create({ owner: undefined, length: photo.length, hints });
    expect(created).toMatchObject({ offset: 0, state: 'receiving', length: photo.length });
    const half = Math.floor(photo.length / 2);
    const first = await uploads.patch(created.id, undefined, patchOf(0, photo.subarray(0, half)), subject.base);
    expect(first).toMatchObject({ offset: half, state: 'receiving' });
    expect((await uploads.head(created.id, undefined)).offset).toBe(half);
    const done = await uploads.patch(created.id, undefined, patchOf(half, photo.subarray(half)), subject.base);
    expect(done.state).toBe('done');
    expect(done.image?.sha256).toBe(sha256(photo));
    expect(ended).toEqual([created.id]);
    // The bytes published are those sent; the staged pieces are gone, the record stays.
    const stored = await subject.store.read(`${done.image!.id}.jpg`);
    const chunks: Buffer[] = [];
    for await (const chunk of stored!.body) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(photo));
    expect(await readdir(`${subject.stagingFolder('tus')}/${created.id}`)).toEqual([
      expect.stringMatching(/^record\.\d+$/),
    ]);
    // Once done, a PATCH at its final offset answers the finished record; any other is 409.
    const again = await uploads.patch(
      created.id,
      undefined,
      patchOf(photo.length, Buffer.alloc(0)),
      subject.base,
    );
    expect(again.image).toEqual(done.image);
    await expect(
      uploads.patch(created.id, undefined, patchOf(half, Buffer.alloc(1)), subject.base),
    ).rejects.toMatchObject({ code: 'upload_offset_mismatch' });
  });

  it('answers 409 to a PATCH at the wrong offset, and 404 to another caller', async () => {
    const { subject, uploads } = await start();
    const created = await uploads.create({ owner: 'api_key:a', length: 1000, hints });
    await expect(
      uploads.patch(created.id, 'api_key:a', patchOf(10, Buffer.alloc(10)), subject.base),
    ).rejects.toMatchObject({ code: 'upload_offset_mismatch' });
    await expect(uploads.head(created.id, 'api_key:b')).rejects.toMatchObject({ code: 'not_found' });
    await expect(uploads.head(created.id, undefined)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('ends an upload whose first bytes are of a refused type, its bytes removed', async () => {
    const { subject, uploads, ended } = await start();
    const svg = Buffer.concat([fixture('script.svg'), Buffer.alloc(8192, 0x20)]);
    const created = await uploads.create({ owner: undefined, length: svg.length + 1000, hints });
    await expect(
      uploads.patch(created.id, undefined, patchOf(0, svg), subject.base),
    ).rejects.toMatchObject({ status: 415 });
    await expect(uploads.head(created.id, undefined)).rejects.toMatchObject({ code: 'upload_rejected' });
    expect((await uploads.status(created.id, undefined)).state).toBe('rejected');
    expect(ended).toEqual([created.id]);
    const files = await readdir(`${subject.stagingFolder('tus')}/${created.id}`);
    expect(files.filter((file) => file.startsWith('piece.'))).toEqual([]);
  });

  it('expires an upload that took no bytes for its expiry, and terminates one whole', async () => {
    let now = new Date();
    const { subject, uploads } = await start(() => now);
    const created = await uploads.create({ owner: undefined, length: 100, hints });
    now = new Date(now.valueOf() + 61_000);
    await expect(uploads.head(created.id, undefined)).rejects.toMatchObject({ code: 'upload_expired' });
    await uploads.terminate(created.id, undefined);
    await expect(uploads.head(created.id, undefined)).rejects.toMatchObject({ code: 'not_found' });
    expect(await readdir(subject.stagingFolder('tus'))).toEqual(['.incoming']);
  });
});
