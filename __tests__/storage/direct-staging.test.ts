import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import type { DirectStaging, DirectUploadRecord } from '../../src/storage/direct/direct-staging.js';
import { GcsDirectStaging } from '../../src/storage/direct/gcs-direct-staging.js';
import { LocalDirectStaging } from '../../src/storage/direct/local-direct-staging.js';
import { useCleanups, useEmulatorProxies } from '../http/harness.js';
import { createTestBucket, emulatorEndpoint, listObjectNames } from '../support/gcs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
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
        stage: async (id, bytes) => {
          await staging.writeWhole(id, Readable.from([Buffer.from(bytes)]), bytes.length);
        },
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

describe('direct upload staging, a local signed PUT', () => {
  const defer = useCleanups();

  it('never shows a short PUT body as the staged object', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'direct-staging-'));
    defer(() => rm(directory, { recursive: true, force: true }));
    const staging = new LocalDirectStaging(directory);
    await staging.init();
    const id = '0f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    await staging.create(recordOf(id), { origin: undefined, serviceOrigin: 'http://127.0.0.1:1' });
    // A body that ended early: a complete running now must not see three bytes of five.
    expect(await staging.writeWhole(id, Readable.from([Buffer.from('hel')]), 5)).toBe(3);
    expect(await staging.stagedObject(id)).toBeUndefined();
    expect(await readdir(staging.folder)).toEqual([`${id}.json`]);
    expect(await staging.writeWhole(id, Readable.from([Buffer.from('hello')]), 5)).toBe(5);
    expect((await staging.stagedObject(id))?.size).toBe(5);
  });
});

// The emulator behind a recording proxy and toxiproxy: not in `npm run test:unit`.
(drivers.includes('gcs') ? describe : describe.skip)(
  'direct upload staging, gcs driver on the wire',
  () => {
    const defer = useCleanups();
    const emulatorProxy = useEmulatorProxies();

    it('opens a resumable session for exactly the declared size (X-Upload-Content-Length)', async () => {
      const proxy = await startRecordingProxy(emulatorEndpoint());
      defer(() => proxy.stop());
      const { name } = await createTestBucket();
      const staging = new GcsDirectStaging(signingClient(account, proxy.endpoint).bucket(name), {
        prefix: 'staging/',
      });
      const record = {
        ...recordOf('2f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b'),
        method: 'resumable' as const,
      };
      await staging.create(record, { origin: undefined, serviceOrigin: 'http://127.0.0.1:1' });
      const opened = proxy.requests.filter((request) =>
        request.url.includes('uploadType=resumable'),
      );
      expect(opened).toHaveLength(1);
      // GCS refuses a session whose bytes add up to any other total; the emulator does not check.
      expect(opened[0]!.headers['x-upload-content-length']).toBe(String(record.size));
    });

    it('gives up on a store that never answers within its deadline', async () => {
      const proxy = await emulatorProxy();
      const { name } = await createTestBucket();
      const staging = new GcsDirectStaging(signingClient(account, proxy.endpoint).bucket(name), {
        prefix: 'staging/',
        retry: { deadlineMs: 1500, attemptTimeoutMs: 400 },
      });
      const id = '3f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
      await proxy.addToxic('hang', {
        type: 'timeout',
        stream: 'downstream',
        attributes: { timeout: 0 },
      });
      const started = Date.now();
      await expect(staging.loadRecord(id)).rejects.toThrow();
      await expect(staging.stagedObject(id)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5000);
      await proxy.removeAllToxics();
      expect(await staging.loadRecord(id)).toBeUndefined();
    });
  },
);
