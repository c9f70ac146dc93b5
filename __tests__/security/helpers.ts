import { expect } from '@jest/globals';
import type { Bucket } from '@google-cloud/storage';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Koa from 'koa';
import { pino, type Logger } from 'pino';
import type { Response } from 'supertest';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import type { RateLimitStore } from '../../src/http/middleware/rate-limit.js';
import { createStaging } from '../../src/storage/create-staging.js';
import { GcsStore } from '../../src/storage/gcs-store.js';
import { LocalStore } from '../../src/storage/local-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { createTestBucket, emulatorEndpoint, listObjectNames } from '../support/gcs.js';
import { localLeftovers, localObjectNames } from '../support/local-upload-dir.js';
import { sendUpload } from '../http/upload-client.js';

export type Env = Record<string, string>;

// The request builders every test shares, under the names these tests have always used.
import type { Driver } from '../support/requests.js';
export { dataUri, drivers, fixture, jsonBody, type Driver } from '../support/requests.js';

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
  /** Resolves once a log line contains `text` (the request that logs it has then finished). */
  async waitFor(text: string): Promise<void> {
    while (!this.text().includes(text)) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface AppUnderTest {
  readonly app: Koa;
  readonly config: Config;
  readonly store: ObjectStore;
  readonly log: LogCapture;
  /** How the store was handed each body: a Buffer (held in memory) or a stream. */
  readonly puts: ('buffer' | 'stream')[];
  /**
   * Every object a reader could see, plus anything a write left behind (temp files, and
   * decode spool files prefixed "spool/").
   */
  stored(): Promise<string[]>;
  /**
   * Sends raw bytes over a real socket. (supertest serialises a Buffer from jest's realm as
   * JSON, so a byte-exact body needs this.)
   */
  postBytes(path: string, headers: Record<string, string>, body: Buffer): Promise<RawResponse>;
  cleanup(): Promise<void>;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  readonly body: unknown;
}

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
  // Outside UPLOAD_DIR, as config requires, and one per app so leftovers are this test's own.
  const spoolDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ingest-security-spool-'));
  let store: ObjectStore;
  let storedObjects: () => Promise<string[]>;
  let bucket: Bucket | undefined;
  const config = loadConfig(
    {
      // No auth configured unless a test asks for it: the service runs open, as in development.
      RATE_LIMIT: '0',
      ...(driver === 'gcs'
        ? { STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'placeholder', GCS_API_ENDPOINT: emulatorEndpoint() }
        : { UPLOAD_DIR: dir, PUBLIC_BASE_URL: 'http://images.test' }),
      SPOOL_DIR: spoolDir,
      ...env,
    },
    dir,
  );
  if (driver === 'local') {
    const local = new LocalStore(dir, 'http://images.test');
    await local.init();
    store = local;
    storedObjects = () => listLocalStore(dir);
  } else {
    const created = await createTestBucket();
    bucket = created;
    store = new GcsStore(created, { apiEndpoint: emulatorEndpoint() });
    storedObjects = () => listObjectNames(created);
  }
  const stored = async (): Promise<string[]> => [
    ...(await storedObjects()),
    ...(await listFiles(spoolDir)).map((name) => `spool/${name}`),
  ];
  const puts: ('buffer' | 'stream')[] = [];
  const recorded = store;
  store = Object.assign(Object.create(recorded) as ObjectStore, {
    put: (...args: Parameters<ObjectStore['put']>) => {
      puts.push(Buffer.isBuffer(args[1]) ? 'buffer' : 'stream');
      return recorded.put(...args);
    },
  });
  // Staging in the bucket the test made (the config names a placeholder).
  const staging = await createStaging(
    bucket === undefined || config.storage.driver !== 'gcs'
      ? config
      : { ...config, storage: { ...config.storage, bucket: bucket.name } },
  );
  const app = createApp(config, {
    store,
    logger: log.logger,
    rateLimitStore: options.rateLimitStore,
    staging,
  });
  let server: http.Server | undefined;
  const postBytes = async (
    urlPath: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<RawResponse> => {
    if (server === undefined) {
      const handle = app.callback();
      const listening = http.createServer((incoming, outgoing) => {
        void handle(incoming, outgoing);
      });
      await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
      server = listening;
    }
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    // Reading while sending: the server may answer and close before the whole body is sent
    // (a 413 or 415), as Node's http client would see it.
    const outcome = await sendUpload({
      port,
      path: urlPath,
      headers,
      body,
      reads: 'while-sending',
    });
    if (outcome.response === undefined) throw new Error(`no answer: ${outcome.error}`);
    return outcome.response;
  };
  return {
    app,
    config,
    postBytes,
    store,
    log,
    puts,
    stored,
    cleanup: async () => {
      // Clean-ups of failed writes still retrying (a store the test broke) end with the test.
      await recorded.settle?.(0);
      if (server !== undefined) {
        server.closeAllConnections();
        await new Promise((resolve) => server!.close(resolve));
      }
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rm(spoolDir, { recursive: true, force: true });
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

/** The local store's objects and what its writes left behind; an object's own sidecar is part of it. */
async function listLocalStore(dir: string): Promise<string[]> {
  return [...(await localObjectNames(dir)), ...(await localLeftovers(dir))];
}

/** Asserts an error response in the catalogue's shape, with nothing stored. */
export async function expectRefused(
  response: Response | RawResponse,
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
