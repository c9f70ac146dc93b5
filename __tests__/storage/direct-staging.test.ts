import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import type { DirectStaging, DirectUploadRecord } from '../../src/storage/direct/direct-staging.js';
import { GcsDirectStaging } from '../../src/storage/direct/gcs-direct-staging.js';
import { LocalDirectStaging } from '../../src/storage/direct/local-direct-staging.js';
import { useCleanups } from '../http/harness.js';
import { createTestBucket, listObjectNames } from '../support/gcs.js';
import { drivers, type Driver } from '../support/requests.js';
import { newSigningAccount, signingClient } from '../support/signing.js';

/**
 * One contract for both direct-upload staging drivers: a record is written once and read back
 * as written, bytes are absent until whole, and removal leaves nothing. The GCS driver's bytes
 * come from the client in production; here the test writes the staged object itself.
 */

const account = newSigningAccount();

function recordOf(id: string): DirectUploadRecord {
  const now = Date.now();
  return {
    id,
    owner: 'api_key:key:0123',
    size: 5,
    method: 'put',
    declaredType: 'image/png',
    nonce: 'nonce',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 600_000).toISOString(),
    completeBy: new Date(now + 1_200_000).toISOString(),
  };
}

interface Subject {
  readonly staging: DirectStaging;
  /** Puts the bytes as a client would (GCS: straight into the bucket). */
  readonly stage: (id: string, bytes: string) => Promise<void>;
  /** Everything the driver keeps, by name. */
  readonly leftovers: () => Promise<string[]>;
}

describe.each(drivers)('direct upload staging, %s driver', (driver: Driver) => {
  const defer = useCleanups();

  async function subject(): Promise<Subject> {
    if (driver === 'local') {
      const directory = await mkdtemp(path.join(tmpdir(), 'direct-staging-'));
      defer(() => rm(directory, { recursive: true, force: true }));
      const staging = new LocalDirectStaging(directory);
      await staging.init();
      return {
        staging,
        stage: (id, bytes) => staging.writeWhole(id, Readable.from([Buffer.from(bytes)])),
        leftovers: async () => (await readdir(staging.folder)).sort(),
      };
    }
    // Through a client that can sign, as the service's must.
    const bucket = signingClient(account).bucket((await createTestBucket()).name);
    const staging = new GcsDirectStaging(bucket, { prefix: 'staging/' });
    return {
      staging,
      stage: async (id, bytes) => {
        await bucket.file(staging.objectName(id)).save(Buffer.from(bytes), { resumable: false });
      },
      leftovers: () => listObjectNames(bucket),
    };
  }

  const id = '0f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
  const target = { origin: undefined, serviceOrigin: 'http://127.0.0.1:1' };

  it('keeps a record as written, and never overwrites it', async () => {
    const { staging } = await subject();
    const record = recordOf(id);
    await staging.create(record, target);
    expect(await staging.loadRecord(id)).toEqual(record);
    await expect(staging.create({ ...record, owner: null }, target)).rejects.toThrow();
    expect(await staging.loadRecord(id)).toEqual(record);
    expect(await staging.loadRecord('1f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b')).toBeUndefined();
  });

  it('has no staged object until the bytes are there, then reads them back', async () => {
    const { staging, stage } = await subject();
    await staging.create(recordOf(id), target);
    expect(await staging.stagedObject(id)).toBeUndefined();
    await stage(id, 'hello');
    const staged = await staging.stagedObject(id);
    expect(staged?.size).toBe(5);
    expect(await text(staging.openStaged(id, staged!))).toBe('hello');
  });

  it('lists uploads by id with their creation, and removes them whole', async () => {
    const { staging, stage, leftovers } = await subject();
    const before = Date.now() - 1000;
    await staging.create(recordOf(id), target);
    await stage(id, 'hello');
    const listed = [];
    for await (const upload of staging.list()) listed.push(upload);
    expect(listed.map((upload) => upload.id)).toEqual([id]);
    expect(listed[0]!.createdAt.valueOf()).toBeGreaterThanOrEqual(before);
    await staging.removeStaged(id);
    expect(await staging.stagedObject(id)).toBeUndefined();
    expect(await staging.loadRecord(id)).toBeDefined();
    await stage(id, 'again');
    await staging.remove(id);
    expect(await staging.loadRecord(id)).toBeUndefined();
    expect(await leftovers()).toEqual([]);
  });
});

// Runs with the GCS driver only (its emulator): not in `npm run test:unit`.
(drivers.includes('gcs') ? describe : describe.skip)(
  'direct upload staging, gcs driver without signing credentials',
  () => {
    it('leaves no record behind when the URL cannot be made', async () => {
      // A client without credentials that can sign (no key, no signBlob): the PUT URL fails.
      const bucket = await createTestBucket();
      const staging = new GcsDirectStaging(bucket, { prefix: 'staging/' });
      await expect(
        staging.create(recordOf('0f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b'), {
          origin: undefined,
          serviceOrigin: 'http://127.0.0.1:1',
        }),
      ).rejects.toThrow();
      expect(await listObjectNames(bucket)).toEqual([]);
    });
  },
);
