import { describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { isStorageError } from '../../src/storage/object-store.js';
import { isStagingError, type UploadStaging } from '../../src/storage/staging/upload-staging.js';
import { GcsStaging, gcsPieceBytes } from '../../src/storage/staging/gcs-staging.js';
import { LocalStaging } from '../../src/storage/staging/local-staging.js';
import { staleTempFileMs } from '../../src/files.js';
import { useCleanups, useHarnesses } from '../http/harness.js';
import { createTestBucket, listObjectNames } from '../support/gcs.js';
import { drivers } from '../support/requests.js';
import { stagedPieceCount } from '../uploads/tus-client.js';
import { chunkedStream, rejectionOf } from './object-store-contract.js';

/** The staging contract, run against both drivers (GCS on the emulator). */
describe.each(drivers)('upload staging (%s)', (driver) => {
  const harnessFor = useHarnesses();
  const stagingOf = async (): Promise<UploadStaging> => {
    const { store } = await harnessFor(driver);
    if (store.staging === undefined) throw new Error('no staging');
    return store.staging.area('tus');
  };

  it('creates a record once and replaces it only at the version read', async () => {
    const staging = await stagingOf();
    const id = randomUUID();
    await staging.create(id, { n: 1 });
    expect(isStagingError(await rejectionOf(staging.create(id, { n: 9 })), 'exists')).toBe(true);
    const first = await staging.read(id);
    expect(first?.record).toEqual({ n: 1 });
    await staging.replace(id, { n: 2 }, first!.version);
    // A second writer that read the same version loses.
    const lost = await rejectionOf(staging.replace(id, { n: 3 }, first!.version));
    expect(isStagingError(lost, 'conflict')).toBe(true);
    const second = await staging.read(id);
    expect(second?.record).toEqual({ n: 2 });
    expect(await staging.read(randomUUID())).toBeUndefined();
  });

  it('of two concurrent replaces at one version, exactly one wins', async () => {
    const staging = await stagingOf();
    const id = randomUUID();
    await staging.create(id, { n: 0 });
    const { version } = (await staging.read(id))!;
    const outcomes = await Promise.allSettled(
      [1, 2, 3, 4].map((n) => staging.replace(id, { n }, version)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses a writer whose version was superseded twice (ABA)', async () => {
    const staging = await stagingOf();
    const id = randomUUID();
    await staging.create(id, { n: 1 });
    const a = (await staging.read(id))!;
    await staging.replace(id, { n: 2 }, a.version);
    const b = (await staging.read(id))!;
    await staging.replace(id, { n: 3 }, b.version);
    const late = await rejectionOf(staging.replace(id, { n: 'a' }, a.version));
    expect(isStagingError(late, 'conflict')).toBe(true);
    const now = (await staging.read(id))!;
    expect(now.record).toEqual({ n: 3 });
    await staging.replace(id, { n: 4 }, now.version);
    expect((await staging.read(id))?.record).toEqual({ n: 4 });
  });

  it('writes pieces, reads them back in order, and removes everything', async () => {
    const staging = await stagingOf();
    const id = randomUUID();
    await staging.create(id, {});
    const a = randomBytes(gcsPieceBytes + 12_345);
    const b = randomBytes(1000);
    const sizeA = await staging.writePiece(id, '0-aaaaaaaa', chunkedStream(a), { maxBytes: 1e9 });
    const sizeB = await staging.writePiece(id, `${a.length}-bbbbbbbb`, chunkedStream(b), {
      maxBytes: 1e9,
    });
    expect([sizeA, sizeB]).toEqual([a.length, b.length]);
    const pieces = [
      { name: '0-aaaaaaaa', size: sizeA },
      { name: `${a.length}-bbbbbbbb`, size: sizeB },
    ];
    expect((await buffer(staging.readPieces(id, pieces))).equals(Buffer.concat([a, b]))).toBe(true);
    const ids: string[] = [];
    for await (const listed of staging.listIds()) ids.push(listed);
    expect(ids).toEqual([id]);
    await staging.removeAll(id);
    expect(await staging.read(id)).toBeUndefined();
    const after: string[] = [];
    for await (const listed of staging.listIds()) after.push(listed);
    expect(after).toEqual([]);
  });

  it('removes every piece, whether a record names it or not, and keeps the record', async () => {
    const harness = await harnessFor(driver);
    const staging = harness.store.staging!.area('tus');
    const id = randomUUID();
    await staging.create(id, { n: 1 });
    for (const name of ['0-eeeeeeee', '1000-ffffffff']) {
      await staging.writePiece(id, name, chunkedStream(randomBytes(1000)), { maxBytes: 1e9 });
    }
    expect(await stagedPieceCount(harness, id)).toBe(2);
    await staging.removePieces(id);
    expect(await stagedPieceCount(harness, id)).toBe(0);
    expect((await staging.read(id))?.record).toEqual({ n: 1 });
    await staging.removePieces(randomUUID());
  });

  it('keeps what arrived before a body was cut', async () => {
    const staging = await stagingOf();
    const id = randomUUID();
    await staging.create(id, {});
    const body = new PassThrough();
    const sent = randomBytes(300_000);
    body.write(sent);
    setTimeout(() => body.destroy(new Error('client went away')), 100);
    const kept = await staging.writePiece(id, '0-cccccccc', body, { maxBytes: 1e9 });
    expect(kept).toBe(sent.length);
    const read = await buffer(staging.readPieces(id, [{ name: '0-cccccccc', size: kept }]));
    expect(read.equals(sent)).toBe(true);
  });

  it('refuses a piece past maxBytes and keeps none of it', async () => {
    const staging = await stagingOf();
    const id = randomUUID();
    await staging.create(id, {});
    const error = await rejectionOf(
      staging.writePiece(id, '0-dddddddd', chunkedStream(randomBytes(100_000)), {
        maxBytes: 50_000,
      }),
    );
    expect(isStagingError(error, 'too_large')).toBe(true);
    await staging.removePiece(id, { name: '0-dddddddd', size: 0 });
  });

  it('publishes pieces as one object of the store, create-only, described as put describes it, the pieces kept', async () => {
    const { store } = await harnessFor(driver);
    const staging = store.staging!.area('tus');
    const id = randomUUID();
    await staging.create(id, {});
    const a = randomBytes(gcsPieceBytes + 4321);
    const b = randomBytes(777);
    const pieces = [
      { name: '0-aaaaaaaa', size: 0 },
      { name: `${a.length}-bbbbbbbb`, size: 0 },
    ].map((piece, index) => ({ ...piece, body: [a, b][index]! }));
    for (const piece of pieces) {
      piece.size = await staging.writePiece(id, piece.name, chunkedStream(piece.body), {
        maxBytes: 1e9,
      });
    }
    const name = `${randomUUID()}.jpg`;
    const options = { contentType: 'image/jpeg', metadata: { sha256: 'abc', uploader: 'u1' } };
    expect(staging.publishPieces).toBeDefined();
    await staging.publishPieces!(id, pieces, name, options);
    const info = await store.stat(name);
    expect(info).toMatchObject({ size: a.length + b.length, contentType: 'image/jpeg' });
    expect(info?.metadata).toMatchObject(options.metadata);
    const opened = await store.read(name);
    expect((await buffer(opened!.body)).equals(Buffer.concat([a, b]))).toBe(true);
    // Create-only, as put is.
    const again = await rejectionOf(staging.publishPieces!(id, pieces, name, options));
    expect(isStorageError(again) && again.kind).toBe('exists');
    // The pieces stay until the upload's record says it is done; then they go, the object stays.
    expect((await buffer(staging.readPieces(id, pieces))).length).toBe(a.length + b.length);
    await staging.removeAll(id);
    expect((await store.stat(name))?.size).toBe(a.length + b.length);
  });

  it('publishes a single piece', async () => {
    const { store } = await harnessFor(driver);
    const staging = store.staging!.area('tus');
    const id = randomUUID();
    await staging.create(id, {});
    const bytes = randomBytes(5000);
    const size = await staging.writePiece(id, '0-cccccccc', chunkedStream(bytes), {
      maxBytes: 1e9,
    });
    const name = `${randomUUID()}.png`;
    await staging.publishPieces!(id, [{ name: '0-cccccccc', size }], name, {
      contentType: 'image/png',
      metadata: {},
    });
    await staging.removeAll(id);
    const opened = await store.read(name);
    expect(opened?.info.contentType).toBe('image/png');
    expect((await buffer(opened!.body)).equals(bytes)).toBe(true);
  });

  it('refuses ids and piece names it did not make', async () => {
    const staging = await stagingOf();
    await expect(staging.read('../../etc')).rejects.toThrow(/unsafe/);
    await expect(
      staging.writePiece(randomUUID(), '../x', chunkedStream(Buffer.alloc(1)), { maxBytes: 1 }),
    ).rejects.toThrow(/unsafe/);
  });
});

describe('local staging records', () => {
  const defer = useCleanups();

  it('keeps one record file per upload, however often it is replaced', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'local-staging-'));
    defer(() => rm(root, { recursive: true, force: true }));
    const staging = new LocalStaging(root);
    await staging.init();
    const id = randomUUID();
    await staging.create(id, { n: 0 });
    for (let n = 1; n <= 25; n += 1) {
      await staging.replace(id, { n }, (await staging.read(id))!.version);
    }
    expect(await readdir(path.join(root, id))).toEqual(['record.26']);
    expect((await staging.read(id))?.record).toEqual({ n: 25 });
    // A writer that read version 1 finds its number freed, links it, and still loses (ABA).
    const late = await rejectionOf(staging.replace(id, { n: 'late' }, '1'));
    expect(isStagingError(late, 'conflict')).toBe(true);
    expect(await readdir(path.join(root, id))).toEqual(['record.26']);
    expect((await staging.read(id))?.record).toEqual({ n: 25 });
  });
});

describe('local staging at start-up', () => {
  const defer = useCleanups();

  it('removes the temp folders and records a crash left, and only old ones', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'local-staging-'));
    defer(() => rm(root, { recursive: true, force: true }));
    await new LocalStaging(root).init();
    const incoming = path.join(root, '.incoming');
    const folder = path.join(incoming, randomUUID());
    await mkdir(folder);
    await writeFile(path.join(folder, 'record.1'), '{}');
    const record = path.join(incoming, `${randomUUID()}.record`);
    await writeFile(record, '{}');
    const young = `${randomUUID()}.record`;
    await writeFile(path.join(incoming, young), '{}');
    const crashed = new Date(Date.now() - 2 * staleTempFileMs);
    await utimes(folder, crashed, crashed);
    await utimes(record, crashed, crashed);

    await new LocalStaging(root).init();
    expect(await readdir(incoming)).toEqual([young]);
  });
});

(drivers.includes('gcs') ? describe : describe.skip)('GCS staging on the emulator', () => {
  it('composes more parts than one compose takes (32), in rounds, and leaves no intermediate', async () => {
    const bucket = await createTestBucket();
    const staging = new GcsStaging(bucket, 'staging/tus/', {}, 1000, bucket);
    const id = randomUUID();
    await staging.create(id, {});
    // 70 parts of 1000 bytes in three pieces: 3 intermediates, then the object.
    const bodies = [randomBytes(25_500), randomBytes(30_000), randomBytes(14_200)];
    const pieces: { name: string; size: number }[] = [];
    let offset = 0;
    for (const [index, body] of bodies.entries()) {
      const name = `${offset}-${'abc'[index]!.repeat(8)}`;
      pieces.push({
        name,
        size: await staging.writePiece(id, name, chunkedStream(body), { maxBytes: 1e9 }),
      });
      offset += body.length;
    }
    const name = `${randomUUID()}.webp`;
    await staging.publishPieces!(id, pieces, name, {
      contentType: 'image/webp',
      metadata: { sha256: 'x' },
    });
    const [bytes] = await bucket.file(name).download();
    expect(bytes.equals(Buffer.concat(bodies))).toBe(true);
    const [metadata] = await bucket.file(name).getMetadata();
    expect(metadata).toMatchObject({
      contentType: 'image/webp',
      cacheControl: 'public, max-age=31536000, immutable',
      metadata: { sha256: 'x' },
    });
    const left = (await listObjectNames(bucket)).filter((object) => object.includes('compose'));
    expect(left).toEqual([]);
    await staging.removeAll(id);
  });

  it('publishes from a staging bucket apart from the images bucket (compose there, then copy)', async () => {
    const [images, stagingBucket] = await Promise.all([createTestBucket(), createTestBucket()]);
    const staging = new GcsStaging(stagingBucket, 'staging/tus/', {}, 1000, images);
    const id = randomUUID();
    await staging.create(id, {});
    const body = randomBytes(40_500);
    const size = await staging.writePiece(id, '0-aaaaaaaa', chunkedStream(body), { maxBytes: 1e9 });
    const name = `${randomUUID()}.gif`;
    const options = { contentType: 'image/gif', metadata: { sha256: 'y' } };
    await staging.publishPieces!(id, [{ name: '0-aaaaaaaa', size }], name, options);
    const [bytes] = await images.file(name).download();
    expect(bytes.equals(body)).toBe(true);
    const [metadata] = await images.file(name).getMetadata();
    expect(metadata).toMatchObject({ contentType: 'image/gif', metadata: { sha256: 'y' } });
    const again = await rejectionOf(
      staging.publishPieces!(id, [{ name: '0-aaaaaaaa', size }], name, options),
    );
    expect(isStorageError(again) && again.kind).toBe('exists');
    await staging.removeAll(id);
    expect((await listObjectNames(stagingBucket)).filter((object) => object.includes(id))).toEqual(
      [],
    );
  });

  it('labels pieces as direct uploads are: octet-stream, Content-Disposition: attachment', async () => {
    const bucket = await createTestBucket();
    const staging = new GcsStaging(bucket, 'staging/tus/', {}, 1000);
    const id = randomUUID();
    await staging.create(id, {});
    // An HTML page sent as a piece, in three parts.
    const page = Buffer.from(`<html><script>alert(1)</script>${'x'.repeat(2500)}</html>`);
    await staging.writePiece(id, '0-aaaaaaaa', chunkedStream(page), { maxBytes: 1e9 });
    const [files] = await bucket.getFiles({ prefix: `staging/tus/${id}/0-aaaaaaaa.` });
    expect(files).toHaveLength(3);
    for (const file of files) {
      const [metadata] = await file.getMetadata();
      expect(metadata).toMatchObject({
        contentType: 'application/octet-stream',
        contentDisposition: 'attachment',
      });
    }
    await staging.removeAll(id);
  });
});
