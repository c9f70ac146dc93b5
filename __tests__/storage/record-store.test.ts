import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RecordStore } from '../../src/storage/staging/record-store.js';
import { LocalRecordStore } from '../../src/storage/staging/local-record-store.js';
import { isStagingError } from '../../src/storage/staging/staging-error.js';
import { staleTempFileMs } from '../../src/files.js';
import { useCleanups, useHarnesses } from '../http/harness.js';
import { drivers } from '../support/requests.js';
import { rejectionOf } from './object-store-contract.js';

/**
 * The record store's contract (small JSON records, created once, replaced by compare-and-swap),
 * run against both drivers (GCS on the emulator), in both areas of the staging layer.
 */
describe.each(drivers)('record store (%s)', (driver) => {
  const harnessFor = useHarnesses();
  const recordsOf = async (kind: 'tus' | 'direct' = 'tus'): Promise<RecordStore> =>
    (await harnessFor(driver)).staging[kind].records;

  it('creates a record once and replaces it only at the version read', async () => {
    const records = await recordsOf();
    const id = randomUUID();
    await records.create(id, { n: 1 });
    expect(isStagingError(await rejectionOf(records.create(id, { n: 9 })), 'exists')).toBe(true);
    const first = await records.read(id);
    expect(first?.record).toEqual({ n: 1 });
    await records.replace(id, { n: 2 }, first!.version);
    // A second writer that read the same version loses.
    const lost = await rejectionOf(records.replace(id, { n: 3 }, first!.version));
    expect(isStagingError(lost, 'conflict')).toBe(true);
    const second = await records.read(id);
    expect(second?.record).toEqual({ n: 2 });
    expect(await records.read(randomUUID())).toBeUndefined();
  });

  it('of two concurrent replaces at one version, exactly one wins', async () => {
    const records = await recordsOf();
    const id = randomUUID();
    await records.create(id, { n: 0 });
    const { version } = (await records.read(id))!;
    const outcomes = await Promise.allSettled(
      [1, 2, 3, 4].map((n) => records.replace(id, { n }, version)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses a writer whose version was superseded twice (ABA)', async () => {
    const records = await recordsOf();
    const id = randomUUID();
    await records.create(id, { n: 1 });
    const a = (await records.read(id))!;
    await records.replace(id, { n: 2 }, a.version);
    const b = (await records.read(id))!;
    await records.replace(id, { n: 3 }, b.version);
    const late = await rejectionOf(records.replace(id, { n: 'a' }, a.version));
    expect(isStagingError(late, 'conflict')).toBe(true);
    const now = (await records.read(id))!;
    expect(now.record).toEqual({ n: 3 });
    await records.replace(id, { n: 4 }, now.version);
    expect((await records.read(id))?.record).toEqual({ n: 4 });
  });

  it('lists and removes records; a removed record cannot be replaced; areas are apart', async () => {
    const harness = await harnessFor(driver);
    const { tus, direct } = harness.staging;
    const id = randomUUID();
    await tus.records.create(id, { kind: 'tus' });
    const other = randomUUID();
    await direct.records.create(other, { kind: 'direct' });
    const listed = async (records: RecordStore): Promise<string[]> => {
      const ids: string[] = [];
      for await (const listedId of records.listIds()) ids.push(listedId);
      return ids;
    };
    expect(await listed(tus.records)).toEqual([id]);
    expect(await listed(direct.records)).toEqual([other]);
    expect(await direct.records.read(id)).toBeUndefined();
    const { version } = (await tus.records.read(id))!;
    await tus.records.remove(id);
    await tus.records.remove(id);
    expect(await tus.records.read(id)).toBeUndefined();
    expect(
      isStagingError(await rejectionOf(tus.records.replace(id, {}, version)), 'conflict'),
    ).toBe(true);
    expect(await listed(tus.records)).toEqual([]);
    await direct.records.remove(other);
    expect(await harness.leftovers()).toEqual([]);
    if (driver === 'gcs') expect(await harness.storedNames()).toEqual([]);
  });

  it('keeps whatever JSON it is given, as given', async () => {
    const records = await recordsOf('direct');
    const id = randomUUID();
    const record = { id, owner: null, nested: { list: [1, 'two', null] }, text: 'é\n"' };
    await records.create(id, record);
    expect((await records.read(id))?.record).toEqual(record);
  });

  it('refuses ids it did not make', async () => {
    const records = await recordsOf();
    await expect(records.read('../../etc')).rejects.toThrow(/unsafe/);
    await expect(records.create('../x', {})).rejects.toThrow(/unsafe/);
  });
});

describe('local records', () => {
  const defer = useCleanups();

  async function store(): Promise<{ root: string; records: LocalRecordStore }> {
    const root = await mkdtemp(path.join(tmpdir(), 'local-records-'));
    defer(() => rm(root, { recursive: true, force: true }));
    const records = new LocalRecordStore(root);
    await records.init();
    return { root, records };
  }

  it('keeps one record file per upload, however often it is replaced', async () => {
    const { root, records } = await store();
    const id = randomUUID();
    await records.create(id, { n: 0 });
    for (let n = 1; n <= 25; n += 1) {
      await records.replace(id, { n }, (await records.read(id))!.version);
    }
    expect(await readdir(path.join(root, id))).toEqual(['record.26']);
    expect((await records.read(id))?.record).toEqual({ n: 25 });
    // A writer that read version 1 finds its number freed, links it, and still loses (ABA).
    const late = await rejectionOf(records.replace(id, { n: 'late' }, '1'));
    expect(isStagingError(late, 'conflict')).toBe(true);
    expect(await readdir(path.join(root, id))).toEqual(['record.26']);
    expect((await records.read(id))?.record).toEqual({ n: 25 });
  });

  it('removes an upload folder with whatever is in it, out of the way of a late writer', async () => {
    const { root, records } = await store();
    const id = randomUUID();
    await records.create(id, {});
    const { version } = (await records.read(id))!;
    await writeFile(path.join(root, id, 'piece.0-aaaaaaaa'), 'late');
    await records.remove(id);
    expect(await readdir(root)).toEqual(['.incoming']);
    expect(await readdir(path.join(root, '.incoming'))).toEqual([]);
    expect(isStagingError(await rejectionOf(records.replace(id, {}, version)), 'conflict')).toBe(
      true,
    );
    expect(await records.read(id)).toBeUndefined();
  });

  it('removes the temp folders and records a crash left at start-up, and only old ones', async () => {
    const { root } = await store();
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

    await new LocalRecordStore(root).init();
    expect(await readdir(incoming)).toEqual([young]);
  });
});
