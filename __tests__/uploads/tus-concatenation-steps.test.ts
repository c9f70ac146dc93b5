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
import { sweepUploads, sweptAreasOf } from '../../src/uploads/sweep.js';
import { expiryFrom, parseUploadRecord } from '../../src/uploads/upload-record.js';
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

/** The ids with bytes staged (any of `ids`, or all). */
async function staged(staging: StagingArea, ...ids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for await (const { id } of staging.bytes.list()) if (ids.length === 0 || ids.includes(id)) found.add(id);
  return found;
}

/** The real staging, `onRead` told of each partial's bytes as the final upload opens them. */
function watchingReads(staging: StagingArea, onRead: (id: string) => Promise<void>): StagingArea {
  const { bytes } = staging;
  return {
    records: staging.records,
    bytes: new Proxy(bytes, {
      get(target, property) {
        if (property === 'readPieces') {
          return (id: string, pieces: Parameters<typeof bytes.readPieces>[1]) =>
            Readable.from(
              (async function* () {
                await onRead(id);
                yield* bytes.readPieces(id, pieces);
              })(),
            );
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }),
  };
}

/** The real staging, its record replaces meeting another's: each waits, before and after its first, until `meet` has seen both. */
function meetingAtFirstReplace(staging: StagingArea, meet: () => Promise<void>): StagingArea {
  let first = true;
  return {
    records: {
      ...staging.records,
      create: (id, record) => staging.records.create(id, record),
      read: (id) => staging.records.read(id),
      remove: (id) => staging.records.remove(id),
      listIds: () => staging.records.listIds(),
      replace: async (id, record, version) => {
        if (!first) return staging.records.replace(id, record, version);
        first = false;
        await meet();
        try {
          await staging.records.replace(id, record, version);
        } finally {
          await meet();
        }
      },
    },
    bytes: staging.bytes,
  };
}

/** Resolves each call once `count` calls of the same round have come. */
function barrier(count: number): () => Promise<void> {
  let waiting: (() => void)[] = [];
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length < count) return;
      for (const release of waiting) release();
      waiting = [];
    });
}

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
  it('taking a partial renews its expiry, and so does giving it back: no sweep removes it while it is read', async () => {
    const real = await tusArea();
    const ids = await partials(real);
    // 50 s on: the partials (60 s from their last byte) have 10 s left.
    const later = new Date(Date.now() + 50_000);
    const renewed = expiryFrom(later, 60);
    const whileRead: string[] = [];
    const watched = watchingReads(real, async (id) => {
      const found = await real.records.read(id);
      whileRead.push(found === undefined ? 'gone' : parseUploadRecord(found.record, id).expiresAt);
    });
    const staging = failingOnce(watched, { readPieces: true });
    const options = { staging, maxImageBytes: 10 * 1024 * 1024, expiresSeconds: 60, now: () => later };
    const concatenation = new TusConcatenation(options);

    const failure = await concatenation.createFinal(request(ids), base()).catch((error: unknown) => error);
    expect(isAppError(failure) && failure.code).toBe('storage_unavailable');
    expect(whileRead).toEqual([renewed]);
    for (const id of ids) {
      const found = await real.records.read(id);
      expect(found && parseUploadRecord(found.record, id).expiresAt).toBe(renewed);
    }
  });

  it('a retry of a published final upload (its 201 lost) answers it again; other partials, or another order, are refused', async () => {
    const real = await tusArea();
    const ids = await partials(real);
    const concatenation = new TusConcatenation({ staging: real, maxImageBytes: 10 * 1024 * 1024, expiresSeconds: 60 });
    const done = await concatenation.createFinal(request(ids), base());
    const again = await concatenation.createFinal(request(ids), base());
    expect(again).toEqual(done);
    expect(await localObjectNames(localStore().directory)).toEqual([done.image?.name]);
    for (const other of [[...ids].reverse(), ids.slice(0, 1)]) {
      const failure = await concatenation.createFinal(request(other), base()).catch((error: unknown) => error);
      expect(isAppError(failure) && failure.code).toBe('partial_upload_used');
    }
    // Another caller learns nothing of them.
    const theirs = await concatenation
      .createFinal({ ...request(ids), owner: 'them' }, base())
      .catch((error: unknown) => error);
    expect(isAppError(theirs) && theirs.code).toBe('partial_upload_not_found');
    // The used-up records go with the sweep at their expiry, as any.
    const swept = await sweepUploads(sweptAreasOf({ driver: 'local', tus: real, direct: real }, 60).slice(0, 1), {
      now: new Date(Date.now() + 61_000),
    });
    expect(swept.removed).toBe(3);
    for (const id of [...ids, done.id]) expect(await real.records.read(id)).toBeUndefined();
  });

  it('DELETE of a partial a final upload took is refused, its bytes kept', async () => {
    const real = await tusArea();
    const ids = await partials(real);
    const id = ids[1] ?? '';
    const found = await real.records.read(id);
    if (found === undefined) throw new Error('no partial');
    const record = parseUploadRecord(found.record, id);
    await real.records.replace(id, { ...record, concat: { kind: 'partial', usedBy: 'another' } }, found.version);
    const uploads = new TusUploads({ staging: real, maxImageBytes: 10 * 1024 * 1024, expiresSeconds: 60 });

    const refused = await uploads.terminate(id, 'me').catch((error: unknown) => error);
    expect(isAppError(refused) && refused.code).toBe('partial_upload_used');
    expect(await usedBy(real, id)).toBe('another');
    expect([...(await staged(real, id))]).toEqual([id]);
    // An untaken one goes.
    await uploads.terminate(ids[0] ?? '', 'me');
    expect(await real.records.read(ids[0] ?? '')).toBeUndefined();
  });

  it('two final uploads naming the same partials in different orders at once: one goes on, the other is refused', async () => {
    const real = await tusArea();
    const ids = await partials(real);
    const meet = barrier(2);
    const options = { maxImageBytes: 10 * 1024 * 1024, expiresSeconds: 60 };
    const answers = await Promise.allSettled(
      [ids, [...ids].reverse()].map((order) =>
        new TusConcatenation({ ...options, staging: meetingAtFirstReplace(real, meet) }).createFinal(
          request(order),
          base(),
        ),
      ),
    );
    // The one that goes on reads the halves in its order: the photo, or (reversed) no image.
    const outcomes = answers.map((answer) =>
      answer.status === 'fulfilled'
        ? 'published'
        : isAppError(answer.reason)
          ? answer.reason.code
          : String((answer.reason as Error).stack),
    );
    expect(outcomes.filter((outcome) => outcome === 'partial_upload_used')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome !== 'partial_upload_used')).toEqual([
      expect.stringMatching(/^(published|unsupported_image_type)$/),
    ]);
  });

  it('a stored "concat": null is not a record this service wrote', () => {
    const record = { id: 'x', offset: 0, pieces: [], expiresAt: '', state: 'receiving', error: null, concat: null };
    expect(() => parseUploadRecord(record, 'x')).toThrow('is not one this service wrote');
  });

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
    // Used up: the bytes gone, the records kept for a retry whose 201 was lost.
    for (const id of ids) {
      expect(await usedBy(real, id)).toBe(done.id);
      expect([...(await staged(real, id))]).toEqual([]);
    }
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
