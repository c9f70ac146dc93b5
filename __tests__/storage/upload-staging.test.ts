import { describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { isStagingError, type UploadStaging } from '../../src/storage/staging/upload-staging.js';
import { gcsPieceBytes } from '../../src/storage/staging/gcs-staging.js';
import { useHarnesses } from '../http/harness.js';
import { drivers } from '../support/requests.js';
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

  it('refuses ids and piece names it did not make', async () => {
    const staging = await stagingOf();
    await expect(staging.read('../../etc')).rejects.toThrow(/unsafe/);
    await expect(
      staging.writePiece(randomUUID(), '../x', chunkedStream(Buffer.alloc(1)), { maxBytes: 1 }),
    ).rejects.toThrow(/unsafe/);
  });
});
