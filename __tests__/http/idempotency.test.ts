import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import type Koa from 'koa';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createStore } from '../../src/storage/create-store.js';
import { createTestBucket, emulatorEnv, listObjectNames } from '../support/gcs.js';
import { localObjectNames } from '../support/local-upload-dir.js';

/**
 * Idempotency-Key: a repeated upload returns the first one's result without a second object;
 * the key reused for another image is a 422. Run on both drivers, and across two separate
 * app instances sharing one store, which proves nothing is kept in process memory.
 */

interface Driver {
  readonly name: string;
  /** A fresh, empty store; `newApp` builds another app instance on that same store. */
  setUp(env?: Record<string, string>): Promise<{
    newApp: () => Promise<Koa>;
    storedNames: () => Promise<string[]>;
    storedBytes: (name: string) => Promise<Buffer>;
  }>;
}

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

const drivers: Driver[] = [
  {
    name: 'local',
    async setUp(env = {}) {
      const dir = await mkdtemp(path.join(tmpdir(), 'ingest-idem-'));
      scratch.push(dir);
      const config = loadConfig({ STORAGE_DRIVER: 'local', UPLOAD_DIR: dir, ...env });
      return {
        newApp: async () =>
          createApp(config, {
            store: await createStore(config),
            logger: pino({ level: 'silent' }),
          }),
        storedNames: () => localObjectNames(dir),
        storedBytes: (name) => readFile(path.join(dir, name)),
      };
    },
  },
  {
    name: 'gcs',
    async setUp(env = {}) {
      const bucket = await createTestBucket();
      const config = loadConfig({ ...emulatorEnv(bucket), ...env });
      return {
        newApp: async () =>
          createApp(config, {
            store: await createStore(config),
            logger: pino({ level: 'silent' }),
          }),
        storedNames: () => listObjectNames(bucket),
        storedBytes: async (name) => (await bucket.file(name).download())[0],
      };
    },
  },
];

let png: Buffer;
let jpg: Buffer;
let large: Buffer;
let largeVariant: Buffer;

beforeAll(async () => {
  [png, jpg, large] = await Promise.all([
    readFile('__tests__/fixtures/photo.png'),
    readFile('__tests__/fixtures/photo.jpg'),
    readFile('__tests__/fixtures/large.jpg'),
  ]);
  // Same size and type, one byte different near the end: only a hash can tell them apart.
  largeVariant = Buffer.from(large);
  largeVariant[largeVariant.length - 10] = largeVariant[largeVariant.length - 10]! ^ 0xff;
});

function body(type: string, bytes: Buffer): string {
  return JSON.stringify({ data: `data:${type};base64,${bytes.toString('base64')}` });
}

function post(app: Koa, payload: string, key?: string): request.Test {
  const test = request(app.callback()).post('/v1/images').set('Content-Type', 'application/json');
  if (key !== undefined) test.set('Idempotency-Key', key);
  return test.send(payload);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface Created {
  id: string;
  name: string;
  url: string;
  sha256: string;
}

describe.each(drivers)('Idempotency-Key on the $name driver', (driver) => {
  it('returns the same id and URL for a repeated upload, storing one object', async () => {
    const { newApp, storedNames, storedBytes } = await driver.setUp();
    const app = await newApp();
    const key = randomUUID();
    const first = await post(app, body('image/png', png), key);
    const second = await post(app, body('image/png', png), key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.location).toBe(first.headers.location);
    const created = first.body as Created;
    expect(await storedNames()).toEqual([created.name]);
    expect(sha256(await storedBytes(created.name))).toBe(sha256(png));
  });

  it('answers a repeat on another instance of the service the same way (no memory state)', async () => {
    const { newApp, storedNames } = await driver.setUp();
    const key = randomUUID();
    const first = await post(await newApp(), body('image/png', png), key);
    const second = await post(await newApp(), body('image/png', png), key);
    expect(first.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(await storedNames()).toEqual([(first.body as Created).name]);
  });

  it('refuses the key reused for a different image of the same type with 422', async () => {
    const { newApp, storedNames } = await driver.setUp();
    const app = await newApp();
    const key = randomUUID();
    const first = await post(app, body('image/jpeg', jpg), key);
    const second = await post(app, body('image/jpeg', large), key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(422);
    expect((second.body as { error: { code: string } }).error.code).toBe('idempotency_key_reused');
    expect(await storedNames()).toEqual([(first.body as Created).name]);
  });

  it('refuses the key reused for an image of another type with 422', async () => {
    const { newApp, storedNames } = await driver.setUp();
    const app = await newApp();
    const key = randomUUID();
    const first = await post(app, body('image/png', png), key);
    const second = await post(app, body('image/jpeg', jpg), key);
    expect(second.status).toBe(422);
    expect(await storedNames()).toEqual([(first.body as Created).name]);
  });

  it('tells a streamed repeat from a streamed image differing in one byte', async () => {
    const { newApp, storedNames, storedBytes } = await driver.setUp({
      STREAMING_THRESHOLD_BYTES: '65536',
    });
    const app = await newApp();
    const key = randomUUID();
    const first = await post(app, body('image/jpeg', large), key);
    const repeat = await post(app, body('image/jpeg', large), key);
    const variant = await post(app, body('image/jpeg', largeVariant), key);
    expect(first.status).toBe(201);
    expect(repeat.body).toEqual(first.body);
    expect(variant.status).toBe(422);
    const created = first.body as Created;
    expect(await storedNames()).toEqual([created.name]);
    expect(sha256(await storedBytes(created.name))).toBe(sha256(large));
  });

  it('gives every one of many concurrent repeats the same answer and stores one object', async () => {
    const { newApp, storedNames } = await driver.setUp();
    const app = await newApp();
    const key = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => post(app, body('image/png', png), key)),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(201));
    const ids = new Set(responses.map((response) => (response.body as Created).id));
    expect(ids.size).toBe(1);
    expect(await storedNames()).toEqual([(responses[0]!.body as Created).name]);
  });

  it('gives different keys different objects, and requests without a key fresh ones', async () => {
    const { newApp, storedNames } = await driver.setUp();
    const app = await newApp();
    const responses = [
      await post(app, body('image/png', png), 'key-a'),
      await post(app, body('image/png', png), 'key-b'),
      await post(app, body('image/png', png)),
      await post(app, body('image/png', png)),
    ];
    const names = responses.map((response) => (response.body as Created).name).sort();
    expect(new Set(names).size).toBe(4);
    expect(await storedNames()).toEqual(names);
  });

  it.each([['has space'], ['x'.repeat(256)], ['naïve']])(
    'rejects the malformed key %j with 400 and stores nothing',
    async (key) => {
      const { newApp, storedNames } = await driver.setUp();
      const response = await post(await newApp(), body('image/png', png), key);
      expect(response.status).toBe(400);
      expect((response.body as { error: { code: string } }).error.code).toBe(
        'invalid_idempotency_key',
      );
      expect(await storedNames()).toEqual([]);
    },
  );
});

describe('Idempotency-Key against a GCS object without sha256 metadata', () => {
  it.each([
    ['held', '10485760'],
    ['streamed', '65536'],
  ])(
    'compares a %s repeat by MD5, computed only then: the same image is recognised, another refused',
    async (_mode, threshold) => {
      const bucket = await createTestBucket();
      const config = loadConfig({ ...emulatorEnv(bucket), STREAMING_THRESHOLD_BYTES: threshold });
      const app = createApp(config, {
        store: await createStore(config),
        logger: pino({ level: 'silent' }),
      });
      const key = randomUUID();
      const first = await post(app, body('image/jpeg', large), key);
      expect(first.status).toBe(201);
      const { name } = first.body as Created;
      // As an object stored before the pipeline wrote sha256 (GCS keeps its MD5 regardless).
      await bucket.file(name).setMetadata({ metadata: { sha256: null } });
      const same = await post(app, body('image/jpeg', large), key);
      const other = await post(app, body('image/jpeg', largeVariant), key);
      // Recognised by MD5; its facts are unreadable without the sha256, so: retry later.
      expect(same.status).toBe(503);
      expect(same.headers['retry-after']).toBe('1');
      expect(other.status).toBe(422);
      expect((other.body as { error: { code: string } }).error.code).toBe('idempotency_key_reused');
      expect(await listObjectNames(bucket)).toEqual([name]);
    },
  );
});
