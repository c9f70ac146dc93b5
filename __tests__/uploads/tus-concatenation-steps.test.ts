import { afterAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { isAppError } from '../../src/errors.js';
import { HeldImageBuffers } from '../../src/ingest/held-image-buffers.js';
import { loadConfig } from '../../src/config.js';
import { createStaging } from '../../src/storage/create-staging.js';
import type { StagingArea } from '../../src/storage/staging/staging.js';
import { isRefusal } from '../../src/uploads/complete-staged-upload.js';
import { TusConcatenation } from '../../src/uploads/tus-concatenation.js';
import { TusUploads, type BaseIngestContext } from '../../src/uploads/tus-uploads.js';
import { parseUploadRecord } from '../../src/uploads/upload-record.js';
import { pipelineContext, useLocalStores } from '../support/local-ingest.js';
import { localObjectNames } from '../support/local-upload-dir.js';

/**
 * TusConcatenation without a server, over the local driver's real staging: what a store failure
 * in the middle of a final upload leaves (the partials given back, whole), and that a retried
 * final upload of the same partials finds the image a failed attempt stored rather than storing
 * a second one. The failures are injected around the real staging, at the one call they hit.
 */

const photo = await readFile(new URL('../fixtures/large.jpg', import.meta.url));
const buffers = new HeldImageBuffers(32 * 1024 * 1024);
afterAll(() => buffers.close());

const localStore = useLocalStores('tus-concat-');
const base = (): BaseIngestContext => pipelineContext(localStore().store, buffers);

/** The tus area of a local staging layer beside the test's store (its UPLOAD_DIR). */
async function tusArea(): Promise<StagingArea> {
  const { directory } = localStore();
  const config = loadConfig({
    STORAGE_DRIVER: 'local',
    UPLOAD_DIR: directory,
    SPOOL_DIR: path.join(tmpdir(), 'tus-concat-spool'),
  });
  return (await createStaging(config)).tus;
}

/** The real staging, with one call failing once when `fail` says so. */
function failingOnce(staging: StagingArea, fail: { readPieces?: boolean; create?: boolean }): StagingArea {
  const failed = { readPieces: false, create: false };
  const { records, bytes } = staging;
  const readPieces: typeof bytes.readPieces = (id, pieces) => {
    // The second partial's bytes, once: the pipeline has read the first one by then.
    if (fail.readPieces === true && !failed.readPieces && id === second) {
      failed.readPieces = true;
      const broken = new Readable({ read: () => undefined });
      process.nextTick(() => broken.destroy(new Error('connection reset')));
      return broken;
    }
    return bytes.readPieces(id, pieces);
  };
  return {
    records: {
      create: async (id, record) => {
        const concat = (record as { concat?: { kind: string } }).concat;
        if (fail.create === true && !failed.create && concat?.kind === 'final') {
          failed.create = true;
          throw new Error('store down');
        }
        await records.create(id, record);
      },
      read: (id) => records.read(id),
      replace: (id, record, version) => records.replace(id, record, version),
      remove: (id) => records.remove(id),
      listIds: () => records.listIds(),
    },
    // Every other call of the byte area as it is.
    bytes: new Proxy(bytes, {
      get(target, property) {
        if (property === 'readPieces') return readPieces;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }),
  };
}

let second = '';

/** Two complete partial uploads holding the photo's halves; answers their ids. */
async function partials(staging: StagingArea): Promise<string[]> {
  const uploads = new TusUploads({ staging, maxImageBytes: 10 * 1024 * 1024, expiresSeconds: 60 });
  const half = Math.floor(photo.length / 2);
  const ids: string[] = [];
  for (const bytes of [photo.subarray(0, half), photo.subarray(half)]) {
    const hints = { filename: null, filetype: null, focus: null };
    const record = await uploads.create({ owner: 'me', length: bytes.length, hints, partial: true });
    const patched = await uploads.patch(
      record.id,
      'me',
      { offset: 0, length: undefined, declaredBytes: bytes.length, checksum: undefined, body: Readable.from([bytes]) },
      base(),
    );
    // Complete, and still not an image.
    expect(patched).toMatchObject({ state: 'receiving', offset: bytes.length, image: null });
    ids.push(record.id);
  }
  second = ids[1] ?? '';
  return ids;
}

async function usedBy(staging: StagingArea, id: string): Promise<string | null | undefined> {
  const found = await staging.records.read(id);
  if (found === undefined) return undefined;
  const record = parseUploadRecord(found.record, id);
  return record.concat?.kind === 'partial' ? record.concat.usedBy : undefined;
}

const request = (ids: readonly string[]) => ({
  owner: 'me',
  partials: ids,
  urls: ids.map((id) => `/v1/uploads/${id}`),
  hints: { filename: 'large.jpg', filetype: 'image/jpeg', focus: null },
});

describe('TusConcatenation', () => {
  it('the store failing while the partials are read: 503, nothing published, the partials given back; a retry publishes', async () => {
    const real = await tusArea();
    const staging = failingOnce(real, { readPieces: true });
    const ids = await partials(staging);
    const concatenation = new TusConcatenation({ staging, maxImageBytes: 10 * 1024 * 1024, expiresSeconds: 60 });

    const failure = await concatenation.createFinal(request(ids), base()).catch((error: unknown) => error);
    expect(isAppError(failure) && failure.code).toBe('storage_unavailable');
    expect(await localObjectNames(localStore().directory)).toEqual([]);
    for (const id of ids) expect(await usedBy(real, id)).toBeNull();

    const done = await concatenation.createFinal(request(ids), base());
    expect(done).toMatchObject({ state: 'done', offset: photo.length, length: photo.length });
    expect(await localObjectNames(localStore().directory)).toEqual([done.image?.name]);
    for (const id of ids) expect(await real.records.read(id)).toBeUndefined();
  });

  it('the store failing after the image is stored: a retry of the same partials finds that image, not a second one', async () => {
    const real = await tusArea();
    const staging = failingOnce(real, { create: true });
    const ids = await partials(staging);
    const concatenation = new TusConcatenation({ staging, maxImageBytes: 10 * 1024 * 1024, expiresSeconds: 60 });

    const failure = await concatenation.createFinal(request(ids), base()).catch((error: unknown) => error);
    expect(isAppError(failure) && failure.code).toBe('storage_unavailable');
    const stored = await localObjectNames(localStore().directory);
    expect(stored).toHaveLength(1);
    for (const id of ids) expect(await usedBy(real, id)).toBeNull();

    const done = await concatenation.createFinal(request(ids), base());
    expect(done.image?.name).toBe(stored[0]);
    expect(await localObjectNames(localStore().directory)).toEqual(stored);
  });

  it('the client gone while the image is stored: nothing published, the partials given back for its retry', async () => {
    const real = await tusArea();
    const ids = await partials(real);
    const concatenation = new TusConcatenation({
      staging: real,
      maxImageBytes: 10 * 1024 * 1024,
      expiresSeconds: 60,
    });
    const gone = AbortSignal.abort(new Error('client closed the connection'));
    const failure = await concatenation
      .createFinal(request(ids), { ...base(), signal: gone })
      .catch((error: unknown) => error);
    // Not a refusal of the bytes (the store's write was stopped): a retry may still succeed.
    expect(failure).toMatchObject({ name: 'AbortError' });
    expect(isRefusal(failure)).toBe(false);
    expect(await localObjectNames(localStore().directory)).toEqual([]);
    for (const id of ids) expect(await usedBy(real, id)).toBeNull();
  });

  it('a partial taken by one final upload is refused to another until given back', async () => {
    const real = await tusArea();
    const ids = await partials(real);
    const concatenation = new TusConcatenation({ staging: real, maxImageBytes: 10 * 1024 * 1024, expiresSeconds: 60 });
    const found = await real.records.read(ids[1] ?? '');
    if (found === undefined) throw new Error('no partial');
    const record = parseUploadRecord(found.record, ids[1] ?? '');
    await real.records.replace(record.id, { ...record, concat: { kind: 'partial', usedBy: 'another' } }, found.version);

    const failure = await concatenation.createFinal(request(ids), base()).catch((error: unknown) => error);
    expect(isAppError(failure) && failure.code).toBe('partial_upload_used');
    // The first one, untouched.
    expect(await usedBy(real, ids[0] ?? '')).toBeNull();
    expect(await localObjectNames(localStore().directory)).toEqual([]);
  });
});
