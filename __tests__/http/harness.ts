import { afterEach, expect } from '@jest/globals';
import type { Bucket, FileMetadata, Storage } from '@google-cloud/storage';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createStore } from '../../src/storage/create-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import type { Staging } from '../../src/storage/staging/staging.js';
import { createStaging } from '../../src/storage/create-staging.js';
import { sweepUploads, sweptAreasOf, type SweepResult } from '../../src/uploads/sweep.js';
import { LogCapture } from '../security/helpers.js';
import { createTestBucket, emulatorEndpoint, listObjectNames } from '../support/gcs.js';
import { startToxiproxy, type FaultProxy } from '../support/toxiproxy.js';
import type { Driver } from '../support/requests.js';
import { localLeftovers, localObjectNames } from '../support/local-upload-dir.js';

type Env = Record<string, string>;
type App = ReturnType<typeof createApp>;
type RequestListener = ReturnType<App['callback']>;

/** A running app over a fresh, empty store, with ways to look into the store directly. */
export interface Harness {
  readonly driver: Driver;
  readonly config: Config;
  readonly store: ObjectStore;
  /** Where the app keeps direct uploads (POST /v1/uploads/direct). */
  /** The staging layer the app serves tus and direct uploads from. */
  readonly staging: Staging;
  readonly callback: RequestListener;
  /** The decode spool folder of this harness (SPOOL_DIR). */
  readonly spoolDir: string;
  /** Names of stored objects, sorted. */
  storedNames(): Promise<string[]>;
  /** Bytes of a stored object, read around the app (file system or the official client). */
  storedBytes(name: string): Promise<Buffer>;
  /** GCS only: the object's metadata as the official client reads it. */
  storedMetadata(name: string): Promise<FileMetadata>;
  /**
   * Files left behind: the local store's partial writes (GCS keeps none by construction) and
   * decode spool files (either driver), the latter prefixed "spool/".
   */
  leftovers(): Promise<string[]>;
  /** Fails unless the store holds no object and nothing is left behind. */
  expectNothingStored(): Promise<void>;
  dispose(): Promise<void>;
}

export const silentLogger = pino({ level: 'silent' });

export interface HarnessOptions {
  /** GCS: the client direct uploads use, e.g. one with credentials that sign locally. */
  readonly storageClient?: Storage | undefined;
}

/** Builds config from an environment, exactly as the service does, then store and app. */
export async function startHarness(
  driver: Driver,
  env: Env = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  let directory: string | undefined;
  let bucket: Bucket | undefined;
  let config: Config;
  // Its own spool folder, so that what one test leaves there is seen, and only by that test.
  const spoolDir = await mkdtemp(path.join(tmpdir(), 'http-spool-'));
  if (driver === 'local') {
    directory = await mkdtemp(path.join(tmpdir(), 'http-local-'));
    config = loadConfig({
      STORAGE_DRIVER: 'local',
      UPLOAD_DIR: directory,
      SPOOL_DIR: spoolDir,
      ...env,
    });
  } else {
    bucket = await createTestBucket();
    config = loadConfig({
      STORAGE_DRIVER: 'gcs',
      GCS_BUCKET: bucket.name,
      GCS_API_ENDPOINT: emulatorEndpoint(),
      SPOOL_DIR: spoolDir,
      // As emulatorEnv: one origin for rendition URLs, whatever port supertest listens on.
      RENDER_BASE_URL: 'http://image-ingest.test',
      ...env,
    });
  }
  // One client for the store and the staging layer, as src/index.ts does.
  const client = options.storageClient;
  const store = await createStore(config, { client });
  const staging = await createStaging(config, { client, store });
  const app = createApp(config, { store, logger: silentLogger, staging });

  const storedNames = async (): Promise<string[]> => {
    if (bucket !== undefined) return listObjectNames(bucket);
    return localObjectNames(directory!);
  };
  const leftovers = async (): Promise<string[]> => [
    ...(directory === undefined ? [] : await localLeftovers(directory)),
    ...(await readdir(spoolDir)).sort().map((name) => `spool/${name}`),
  ];

  return {
    driver,
    config,
    store,
    staging,
    callback: app.callback(),
    storedNames,
    storedBytes: async (name) => {
      if (bucket !== undefined) return (await bucket.file(name).download())[0];
      return readFile(path.join(directory!, name));
    },
    storedMetadata: async (name) => {
      if (bucket === undefined) throw new Error('only the gcs driver keeps object metadata');
      return (await bucket.file(name).getMetadata())[0];
    },
    spoolDir,
    leftovers,
    expectNothingStored: async () => {
      expect(await storedNames()).toEqual([]);
      expect(await leftovers()).toEqual([]);
    },
    dispose: async () => {
      // Clean-ups of failed writes still retrying (a store the test broke) end with the test.
      await store.settle?.(0);
      if (directory !== undefined) await rm(directory, { recursive: true, force: true });
      await rm(spoolDir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers an afterEach that runs, newest first, what each test deferred; returns `defer`.
 * Call it at the top of a test file (or describe), never inside a test.
 */
export function useCleanups(): (cleanup: () => Promise<unknown>) => void {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => void cleanups.push(cleanup);
}

/** Returns `harnessFor(driver, env)`: a harness that is disposed of after its test. */
export function useHarnesses(): (
  driver: Driver,
  env?: Env,
  options?: HarnessOptions,
) => Promise<Harness> {
  const defer = useCleanups();
  return async (driver, env = {}, options = {}) => {
    const harness = await startHarness(driver, env, options);
    defer(() => harness.dispose());
    return harness;
  };
}

/**
 * Returns `emulatorProxy()`: a toxiproxy in front of the shared emulator, for a gcs harness's
 * GCS_API_ENDPOINT; the proxy goes after the test.
 */
export function useEmulatorProxies(): () => Promise<FaultProxy> {
  const defer = useCleanups();
  return async () => {
    const toxiproxy = await startToxiproxy();
    defer(() => toxiproxy.stop());
    return toxiproxy.createProxy('gcs', new URL(emulatorEndpoint()).host);
  };
}

/** An app over a harness's store, logging into a capture, and listening on loopback. */
export interface LoggedApp {
  readonly harness: Harness;
  readonly app: App;
  readonly log: LogCapture;
  readonly port: number;
}

/**
 * Returns `start(driver, env)`, which builds a LoggedApp (no rate limit unless env sets one),
 * and `defer`; the server, the harness and whatever the test deferred go after the test.
 */
export function useLoggedApps(): {
  readonly start: (driver: Driver, env?: Env) => Promise<LoggedApp>;
  readonly defer: (cleanup: () => Promise<unknown>) => void;
} {
  const defer = useCleanups();
  return {
    defer,
    start: async (driver, env = {}) => {
      const harness = await startHarness(driver, { RATE_LIMIT: '0', ...env });
      defer(() => harness.dispose());
      const log = new LogCapture();
      const app = createApp(harness.config, {
        store: harness.store,
        staging: harness.staging,
        logger: log.logger,
      });
      const { server, port } = await listen(app.callback());
      defer(() => close(server));
      return { harness, app, log, port };
    },
  };
}

/** Listens on a loopback port, for tests that talk raw HTTP or TCP. */
export async function listen(callback: RequestListener): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => void callback(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

/** Listens on a loopback port until the test ends (`defer`: useCleanups); the base URL clients use. */
export async function serve(
  harness: Harness,
  defer: (cleanup: () => Promise<unknown>) => void,
): Promise<string> {
  const { server, port } = await listen(harness.callback);
  defer(() => close(server));
  return `http://127.0.0.1:${port}`;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface SentResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/**
 * Sends a byte-exact body over a real socket with Node's fetch (supertest serialises a Buffer
 * from jest's realm as JSON). Chunked when `chunked` is set: no Content-Length is declared.
 */
export async function send(
  harness: Harness,
  urlPath: string,
  { contentType, body, headers = {}, method = 'POST', chunked = false }: SendOptions,
): Promise<SentResponse> {
  const { server, port } = await listen(harness.callback);
  try {
    const bytes = body === undefined ? undefined : new Uint8Array(body);
    const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
      method,
      headers: {
        ...(contentType === undefined ? {} : { 'Content-Type': contentType }),
        ...headers,
      },
      ...(bytes === undefined
        ? {}
        : chunked
          ? { body: new Blob([bytes]).stream(), duplex: 'half' }
          : { body: bytes }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: the text itself is the body.
    }
    return { status: response.status, headers: Object.fromEntries(response.headers), body: parsed };
  } finally {
    await close(server);
  }
}

export interface SendOptions {
  readonly contentType?: string;
  readonly body?: Buffer;
  readonly headers?: Record<string, string>;
  readonly method?: string;
  readonly chunked?: boolean;
}

/** Polls until `read` gives `expected` or ten seconds pass; returns the last value read. */
export async function eventually<T>(read: () => Promise<T>, expected: T): Promise<T> {
  const deadline = Date.now() + 10_000;
  let value = await read();
  while (JSON.stringify(value) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

/** One sweep of a harness's whole staging layer (tus and direct), as src/index.ts runs it. */
export function sweepStaging(harness: Harness, now?: Date): Promise<SweepResult> {
  return sweepUploads(sweptAreasOf(harness.staging, harness.config.staging.directExpiresSeconds), {
    now,
  });
}
