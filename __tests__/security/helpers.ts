import { expect } from '@jest/globals';
import type { Bucket } from '@google-cloud/storage';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Koa from 'koa';
import { pino, type Logger } from 'pino';
import type { Response } from 'supertest';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import type { RateLimitStore } from '../../src/http/middleware/rate-limit.js';
import { GcsStore } from '../../src/storage/gcs-store.js';
import { LocalStore } from '../../src/storage/local-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { createTestBucket, emulatorEndpoint, listObjectNames } from '../support/gcs.js';

export type Env = Record<string, string>;

export const fixture = (name: string): Buffer => readFileSync(`__tests__/fixtures/${name}`);

export function dataUri(bytes: Buffer, type = 'image/png'): string {
  return `data:${type};base64,${bytes.toString('base64')}`;
}

export function jsonBody(bytes: Buffer, type = 'image/png'): string {
  return JSON.stringify({ data: dataUri(bytes, type) });
}

/** Captures everything the app logs, so tests can prove what never reaches the log. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger = pino(
    { level: 'debug' },
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  text(): string {
    return this.lines.join('');
  }
}

export interface AppUnderTest {
  readonly app: Koa;
  readonly config: Config;
  readonly store: ObjectStore;
  readonly log: LogCapture;
  /** How the store was handed each body: a Buffer (held in memory) or a stream. */
  readonly puts: ('buffer' | 'stream')[];
  /** Every object a reader could see, plus anything a write left behind (temp files). */
  stored(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export type Driver = 'local' | 'gcs';
export const drivers: readonly Driver[] = ['local', 'gcs'];

export interface AppOptions {
  readonly rateLimitStore?: RateLimitStore;
}

/** A fresh app on a fresh, empty store of the given driver (GCS: a bucket on the emulator). */
export async function makeApp(
  driver: Driver,
  env: Env = {},
  options: AppOptions = {},
): Promise<AppUnderTest> {
  const log = new LogCapture();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ingest-security-'));
  let store: ObjectStore;
  let stored: () => Promise<string[]>;
  let bucket: Bucket | undefined;
  const config = loadConfig(
    {
      // No auth configured unless a test asks for it: the service runs open, as in development.
      RATE_LIMIT: '0',
      ...(driver === 'gcs'
        ? { STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'placeholder', GCS_API_ENDPOINT: emulatorEndpoint() }
        : { UPLOAD_DIR: dir, PUBLIC_BASE_URL: 'http://images.test' }),
      ...env,
    },
    dir,
  );
  if (driver === 'local') {
    const local = new LocalStore(dir, 'http://images.test');
    await local.init();
    store = local;
    stored = () => listFiles(dir);
  } else {
    const created = await createTestBucket();
    bucket = created;
    store = new GcsStore(created, { apiEndpoint: emulatorEndpoint() });
    stored = () => listObjectNames(created);
  }
  const puts: ('buffer' | 'stream')[] = [];
  const recorded = store;
  store = Object.assign(Object.create(recorded) as ObjectStore, {
    put: (...args: Parameters<ObjectStore['put']>) => {
      puts.push(Buffer.isBuffer(args[1]) ? 'buffer' : 'stream');
      return recorded.put(...args);
    },
  });
  const app = createApp(config, {
    store,
    logger: log.logger,
    rateLimitStore: options.rateLimitStore,
  });
  return {
    app,
    config,
    store,
    log,
    puts,
    stored,
    cleanup: async () => {
      await fs.rm(dir, { recursive: true, force: true });
      if (bucket !== undefined) await bucket.deleteFiles({ force: true }).catch(() => undefined);
    },
  };
}

/** Every file under `dir`, temp folder included, relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** Asserts an error response in the catalogue's shape, with nothing stored. */
export async function expectRefused(
  response: Response,
  status: number,
  code: string,
  subject: AppUnderTest,
): Promise<void> {
  expect({ status: response.status, body: response.body as unknown }).toMatchObject({
    status,
    body: { error: { code, message: expect.any(String) } },
  });
  expect(await subject.stored()).toEqual([]);
}
