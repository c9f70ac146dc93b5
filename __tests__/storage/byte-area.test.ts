import { describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import { isStorageError } from '../../src/storage/object-store.js';
import type { ByteArea, TargetRequest } from '../../src/storage/staging/byte-area.js';
import { removeUpload, type StagingArea } from '../../src/storage/staging/staging.js';
import { GcsByteArea, gcsPieceBytes } from '../../src/storage/staging/gcs-byte-area.js';
import { LocalByteArea } from '../../src/storage/staging/local-byte-area.js';
import { LocalRecordStore } from '../../src/storage/staging/local-record-store.js';
import { UploadUrlSigner } from '../../src/storage/staging/local-upload-urls.js';
import { isStagingError } from '../../src/storage/staging/staging-error.js';
import { useCleanups, useEmulatorProxies, useHarnesses, type Harness } from '../http/harness.js';
import { createTestBucket, emulatorEndpoint, listObjectNames } from '../support/gcs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { drivers, type Driver } from '../support/requests.js';
import { newSigningAccount, signingClient } from '../support/signing.js';
import { stagedPieceCount } from '../uploads/tus-client.js';
import { chunkedStream, rejectionOf } from './object-store-contract.js';

/**
 * The byte area's contract, run against both drivers (GCS on the emulator): pieces the service
 * writes (tus), and the one object a client writes through a target (direct uploads). The
 * GCS client's object comes from the client in production; here the test writes it itself.
 */

const account = newSigningAccount();

function targetRequestOf(id: string, method: 'put' | 'resumable' = 'put'): TargetRequest {
  const now = Math.floor(Date.now() / 1000) * 1000;
  return {
    id,
    method,
    size: 5,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 600_000).toISOString(),
  };
}

const targetOptions = { origin: undefined, serviceOrigin: 'http://127.0.0.1:1' };

/** Puts a client's object as the client would (GCS: straight into the bucket). */
async function stage(bytes: ByteArea, id: string, content: string): Promise<void> {
  if (bytes instanceof LocalByteArea) {
    await bytes.writeWhole(id, Readable.from([Buffer.from(content)]), content.length);
    return;
  }
  await (bytes as GcsByteArea).objectFile(id).save(Buffer.from(content), { resumable: false });
}

/** Everything staged in an area's place, by name: files under its folder, or objects. */
async function stagedNames(harness: Harness, kind: 'tus' | 'direct'): Promise<string[]> {
  if (harness.config.storage.driver === 'local') {
    const root = path.join(harness.config.storage.uploadDir, '.staging', kind);
    const names: string[] = [];
    for (const entry of await readdir(root)) {
      if (entry === '.incoming') continue;
      names.push(
        entry,
        ...(await readdir(path.join(root, entry))).map((file) => `${entry}/${file}`),
      );
    }
    return names.sort();
  }
  const prefix = `${harness.config.staging.prefix}${kind}/`;
  return (await harness.storedNames()).filter((name) => name.startsWith(prefix));
}

describe.each(drivers)('byte area (%s)', (driver: Driver) => {
  const harnessFor = useHarnesses();
  const areaOf = async (kind: 'tus' | 'direct' = 'tus'): Promise<StagingArea> => {
    // Through a client that can sign, as the service's must.
    const harness = await harnessFor(
      driver,
      {},
      {
        storageClient: driver === 'gcs' ? signingClient(account) : undefined,
      },
    );
    return harness.staging[kind];
  };

  it('writes pieces, reads them back in order, and removes everything', async () => {
    const area = await areaOf();
    const id = randomUUID();
    await area.records.create(id, {});
    const a = randomBytes(gcsPieceBytes + 12_345);
    const b = randomBytes(1000);
    const sizeA = await area.bytes.writePiece(id, '0-aaaaaaaa', chunkedStream(a), {
      maxBytes: 1e9,
    });
    const sizeB = await area.bytes.writePiece(id, `${a.length}-bbbbbbbb`, chunkedStream(b), {
      maxBytes: 1e9,
    });
    expect([sizeA, sizeB]).toEqual([a.length, b.length]);
    const pieces = [
      { name: '0-aaaaaaaa', size: sizeA },
      { name: `${a.length}-bbbbbbbb`, size: sizeB },
    ];
    expect((await buffer(area.bytes.readPieces(id, pieces))).equals(Buffer.concat([a, b]))).toBe(
      true,
    );
    const listed = [];
    for await (const upload of area.bytes.list()) listed.push(upload.id);
    expect(listed).toEqual([id]);
    await removeUpload(area, id);
    expect(await area.records.read(id)).toBeUndefined();
    const after = [];
    for await (const upload of area.bytes.list()) after.push(upload.id);
    expect(after).toEqual([]);
  });

  it('removes every piece, whether a record names it or not, and keeps the record', async () => {
    const harness = await harnessFor(driver);
    const area = harness.staging.tus;
    const id = randomUUID();
    await area.records.create(id, { n: 1 });
    for (const name of ['0-eeeeeeee', '1000-ffffffff']) {
      await area.bytes.writePiece(id, name, chunkedStream(randomBytes(1000)), { maxBytes: 1e9 });
    }
    expect(await stagedPieceCount(harness, id)).toBe(2);
    await area.bytes.removePieces(id);
    expect(await stagedPieceCount(harness, id)).toBe(0);
    expect((await area.records.read(id))?.record).toEqual({ n: 1 });
    await area.bytes.removePieces(randomUUID());
  });

  it('keeps what arrived before a body was cut', async () => {
    const area = await areaOf();
    const id = randomUUID();
    await area.records.create(id, {});
    const body = new PassThrough();
    const sent = randomBytes(300_000);
    body.write(sent);
    setTimeout(() => body.destroy(new Error('client went away')), 100);
    const kept = await area.bytes.writePiece(id, '0-cccccccc', body, { maxBytes: 1e9 });
    expect(kept).toBe(sent.length);
    const read = await buffer(area.bytes.readPieces(id, [{ name: '0-cccccccc', size: kept }]));
    expect(read.equals(sent)).toBe(true);
  });

  it('refuses a piece past maxBytes and keeps none of it', async () => {
    const area = await areaOf();
    const id = randomUUID();
    await area.records.create(id, {});
    const error = await rejectionOf(
      area.bytes.writePiece(id, '0-dddddddd', chunkedStream(randomBytes(100_000)), {
        maxBytes: 50_000,
      }),
    );
    expect(isStagingError(error, 'too_large')).toBe(true);
    await area.bytes.removePiece(id, { name: '0-dddddddd', size: 0 });
  });

  it('refuses ids and piece names it did not make', async () => {
    const area = await areaOf();
    await expect(
      area.bytes.writePiece(randomUUID(), '../x', chunkedStream(Buffer.alloc(1)), { maxBytes: 1 }),
    ).rejects.toThrow(/unsafe/);
    await expect(area.bytes.stagedObject('../../etc')).rejects.toThrow(/unsafe/);
  });

  it("has no client's object until the bytes are whole, then reads them back", async () => {
    const area = await areaOf('direct');
    const id = randomUUID();
    await area.records.create(id, {});
    const target = await area.bytes.target(targetRequestOf(id), targetOptions);
    expect(target.url).toContain(id);
    expect(await area.bytes.stagedObject(id)).toBeUndefined();
    await stage(area.bytes, id, 'hello');
    const staged = await area.bytes.stagedObject(id);
    expect(staged?.size).toBe(5);
    expect(await text(area.bytes.openStaged(id, staged!))).toBe('hello');
  });

  it("lists a client's object with its creation; removes it apart from the record, or all", async () => {
    const harness = await harnessFor(
      driver,
      {},
      {
        storageClient: driver === 'gcs' ? signingClient(account) : undefined,
      },
    );
    const area = harness.staging.direct;
    const id = randomUUID();
    const before = Date.now() - 1000;
    await area.records.create(id, {});
    await stage(area.bytes, id, 'hello');
    const listed = [];
    for await (const upload of area.bytes.list()) listed.push(upload);
    expect(listed.map((upload) => upload.id)).toEqual([id]);
    expect(listed[0]!.createdAt.valueOf()).toBeGreaterThanOrEqual(before);
    await area.bytes.removeStaged(id);
    expect(await area.bytes.stagedObject(id)).toBeUndefined();
    expect(await area.records.read(id)).toBeDefined();
    await stage(area.bytes, id, 'again');
    await removeUpload(area, id);
    expect(await area.records.read(id)).toBeUndefined();
    expect(await stagedNames(harness, 'direct')).toEqual([]);
  });
});

describe('local byte area', () => {
  const defer = useCleanups();

  async function area(): Promise<{ root: string; area: StagingArea & { bytes: LocalByteArea } }> {
    const root = await mkdtemp(path.join(tmpdir(), 'local-bytes-'));
    defer(() => rm(root, { recursive: true, force: true }));
    const records = new LocalRecordStore(root);
    const bytes = new LocalByteArea(root, await UploadUrlSigner.open(root));
    await records.init();
    await bytes.init();
    return { root, area: { records, bytes } };
  }

  it('never shows a short PUT body as the staged object; staged bytes are 0600', async () => {
    const { root, area: local } = await area();
    const id = randomUUID();
    await local.records.create(id, {});
    // A body that ended early: a complete running now must not see three bytes of five.
    expect(await local.bytes.writeWhole(id, Readable.from([Buffer.from('hel')]), 5)).toBe(3);
    expect(await local.bytes.stagedObject(id)).toBeUndefined();
    expect(await readdir(path.join(root, id))).toEqual(['record.1']);
    expect(await local.bytes.writeWhole(id, Readable.from([Buffer.from('hello')]), 5)).toBe(5);
    expect((await local.bytes.stagedObject(id))?.size).toBe(5);
    expect((await stat(path.join(root, id, 'data'))).mode & 0o777).toBe(0o600);
  });

  it('refuses bytes for an upload whose record is gone', async () => {
    const { area: local } = await area();
    const id = randomUUID();
    const error = await rejectionOf(
      local.bytes.writeWhole(id, Readable.from([Buffer.from('hello')]), 5),
    );
    expect(isStagingError(error, 'conflict')).toBe(true);
    const piece = await rejectionOf(
      local.bytes.writePiece(id, '0-aaaaaaaa', chunkedStream(Buffer.alloc(10)), { maxBytes: 10 }),
    );
    expect(isStagingError(piece, 'conflict')).toBe(true);
  });

  it('never lets a PATCH that read the record before a removal bring the upload back', async () => {
    const { root, area: local } = await area();
    const id = randomUUID();
    await local.records.create(id, { pieces: [] });
    const before = (await local.records.read(id))!;
    await local.bytes.writePiece(id, '0-aaaaaaaa', chunkedStream(Buffer.from('old')), {
      maxBytes: 10,
    });
    // removeUpload (a tus DELETE) takes the bytes, a PATCH opens its piece, then the record goes.
    await local.bytes.removeAll(id);
    await local.bytes.writePiece(id, '3-bbbbbbbb', chunkedStream(Buffer.from('new')), {
      maxBytes: 10,
    });
    await local.records.remove(id);
    const commit = await rejectionOf(
      local.records.replace(id, { pieces: ['0-aaaaaaaa', '3-bbbbbbbb'] }, before.version),
    );
    expect(isStagingError(commit, 'conflict')).toBe(true);
    expect(await local.records.read(id)).toBeUndefined();
    const piece = await rejectionOf(
      local.bytes.writePiece(id, '6-cccccccc', chunkedStream(Buffer.from('later')), {
        maxBytes: 10,
      }),
    );
    expect(isStagingError(piece, 'conflict')).toBe(true);
    expect((await readdir(root)).filter((entry) => entry === id)).toEqual([]);
  });

  it('signs its upload URLs, and verifies only its own signatures', async () => {
    const { area: local } = await area();
    const id = randomUUID();
    const request = targetRequestOf(id);
    const { url } = await local.bytes.target(request, targetOptions);
    const query = new URL(url).searchParams;
    const fields = {
      id,
      method: 'put' as const,
      expires: Number(query.get('expires')),
      size: Number(query.get('size')),
    };
    expect(local.bytes.signer.verify(fields, query.get('signature') ?? '')).toBe(true);
    expect(local.bytes.signer.verify({ ...fields, size: 6 }, query.get('signature') ?? '')).toBe(
      false,
    );
    expect(local.bytes.signer.verify(fields, 'f'.repeat(64))).toBe(false);
  });
});

// Runs with the GCS driver only (its emulator): not in `npm run test:unit`.
(drivers.includes('gcs') ? describe : describe.skip)('GCS byte area on the emulator', () => {
  const defer = useCleanups();
  const emulatorProxy = useEmulatorProxies();

  it('labels pieces as direct uploads are: octet-stream, Content-Disposition: attachment', async () => {
    const bucket = await createTestBucket();
    const bytes = new GcsByteArea(bucket, 'staging/tus/', { pieceBytes: 1000 });
    const id = randomUUID();
    // An HTML page sent as a piece, in three parts.
    const page = Buffer.from(`<html><script>alert(1)</script>${'x'.repeat(2500)}</html>`);
    await bytes.writePiece(id, '0-aaaaaaaa', chunkedStream(page), { maxBytes: 1e9 });
    const [files] = await bucket.getFiles({ prefix: `staging/tus/${id}/0-aaaaaaaa.` });
    expect(files).toHaveLength(3);
    for (const file of files) {
      const [metadata] = await file.getMetadata();
      expect(metadata).toMatchObject({
        contentType: 'application/octet-stream',
        contentDisposition: 'attachment',
      });
    }
    await bytes.removeAll(id);
    expect((await bucket.getFiles())[0]).toEqual([]);
  });

  it('cannot sign without a signing identity, and says so as its own kind of error', async () => {
    // A client without credentials that can sign (no key, no signBlob): the PUT URL fails.
    const bucket = await createTestBucket();
    const told: unknown[] = [];
    const bytes = new GcsByteArea(bucket, 'staging/direct/', {
      onSigningUnavailable: (cause) => told.push(cause),
    });
    await bytes.checkSigning();
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const error = await rejectionOf(bytes.target(targetRequestOf(randomUUID()), targetOptions));
      expect(isStagingError(error, 'cannot_sign')).toBe(true);
    }
    expect(told).toHaveLength(1);
    // A resumable session needs no signature.
    const session = await bytes.target(targetRequestOf(randomUUID(), 'resumable'), targetOptions);
    expect(session.url).toContain('upload_id');
  });

  it('opens a resumable session for exactly the declared size (X-Upload-Content-Length)', async () => {
    const proxy = await startRecordingProxy(emulatorEndpoint());
    defer(() => proxy.stop());
    const { name } = await createTestBucket();
    const bytes = new GcsByteArea(signingClient(account, proxy.endpoint).bucket(name), 'staging/');
    const request = targetRequestOf(randomUUID(), 'resumable');
    await bytes.target(request, targetOptions);
    const opened = proxy.requests.filter((sent) => sent.url.includes('uploadType=resumable'));
    expect(opened).toHaveLength(1);
    // GCS refuses a session whose bytes add up to any other total; the emulator does not check.
    expect(opened[0]!.headers['x-upload-content-length']).toBe(String(request.size));
  });

  it('gives up on a store that never answers within its deadline', async () => {
    const proxy = await emulatorProxy();
    const { name } = await createTestBucket();
    const bytes = new GcsByteArea(signingClient(account, proxy.endpoint).bucket(name), 'staging/', {
      retry: { deadlineMs: 1500, attemptTimeoutMs: 400 },
    });
    const id = randomUUID();
    await proxy.addToxic('hang', {
      type: 'timeout',
      stream: 'downstream',
      attributes: { timeout: 0 },
    });
    const started = Date.now();
    const error = await rejectionOf(bytes.stagedObject(id));
    expect(isStagingError(error, 'unavailable')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    await proxy.removeAllToxics();
    expect(await bytes.stagedObject(id)).toBeUndefined();
  });
});

/** publishPieces: a finished tus upload's pieces made an object of the store without the pipeline. */
describe.each(drivers)('publishing staged pieces (%s)', (driver) => {
  const harnessFor = useHarnesses();

  it('publishes pieces as one object of the store, create-only, described as put describes it, the pieces kept', async () => {
    const { store, staging: layer } = await harnessFor(driver);
    const staging = layer.tus.bytes;
    const id = randomUUID();
    await layer.tus.records.create(id, {});
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
    await removeUpload(layer.tus, id);
    expect((await store.stat(name))?.size).toBe(a.length + b.length);
  });

  it('publishes a single piece', async () => {
    const { store, staging: layer } = await harnessFor(driver);
    const staging = layer.tus.bytes;
    const id = randomUUID();
    await layer.tus.records.create(id, {});
    const bytes = randomBytes(5000);
    const size = await staging.writePiece(id, '0-cccccccc', chunkedStream(bytes), {
      maxBytes: 1e9,
    });
    const name = `${randomUUID()}.png`;
    await staging.publishPieces!(id, [{ name: '0-cccccccc', size }], name, {
      contentType: 'image/png',
      metadata: {},
    });
    await removeUpload(layer.tus, id);
    const opened = await store.read(name);
    expect((await store.stat(name))?.contentType).toBe('image/png');
    expect((await buffer(opened!.body)).equals(bytes)).toBe(true);
  });
});

(drivers.includes('gcs') ? describe : describe.skip)(
  'publishing staged pieces on the emulator',
  () => {
    it('composes more parts than one compose takes (32), in rounds, and leaves no intermediate', async () => {
      const bucket = await createTestBucket();
      const staging = new GcsByteArea(bucket, 'staging/tus/', {
        pieceBytes: 1000,
        publishTo: bucket,
      });
      const id = randomUUID();
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

    it('two publishes of one upload at once, with other last pieces, each compose their own bytes', async () => {
      const bucket = await createTestBucket();
      const staging = new GcsByteArea(bucket, 'staging/tus/', {
        pieceBytes: 1000,
        publishTo: bucket,
      });
      const id = randomUUID();
      // 40 parts committed, then a last piece each (two instances took the final PATCH).
      const committed = randomBytes(40_000);
      const lasts = [randomBytes(5_000), randomBytes(5_000)];
      const shared = {
        name: '0-aaaaaaaa',
        size: await staging.writePiece(id, '0-aaaaaaaa', chunkedStream(committed), {
          maxBytes: 1e9,
        }),
      };
      const finishes = await Promise.all(
        lasts.map(async (last, index) => {
          const pieceName = `40000-${'bc'[index]!.repeat(8)}`;
          const size = await staging.writePiece(id, pieceName, chunkedStream(last), {
            maxBytes: 1e9,
          });
          const name = `${randomUUID()}.png`;
          await staging.publishPieces!(id, [shared, { name: pieceName, size }], name, {
            contentType: 'image/png',
            metadata: {},
          });
          return name;
        }),
      );
      for (const [index, name] of finishes.entries()) {
        const [bytes] = await bucket.file(name).download();
        expect(bytes.equals(Buffer.concat([committed, lasts[index]!]))).toBe(true);
      }
      await staging.removeAll(id);
    });

    it('publishes from a staging bucket apart from the images bucket (compose there, then copy)', async () => {
      const [images, stagingBucket] = await Promise.all([createTestBucket(), createTestBucket()]);
      const staging = new GcsByteArea(stagingBucket, 'staging/tus/', {
        pieceBytes: 1000,
        publishTo: images,
      });
      const id = randomUUID();
      const body = randomBytes(40_500);
      const size = await staging.writePiece(id, '0-aaaaaaaa', chunkedStream(body), {
        maxBytes: 1e9,
      });
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
      expect(
        (await listObjectNames(stagingBucket)).filter((object) => object.includes(id)),
      ).toEqual([]);
    });
  },
);
