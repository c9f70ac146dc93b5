import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createStore } from '../../src/storage/create-store.js';
import { startEmulator, type RunningEmulator } from '../support/emulator.js';
import { createTestBucket, emulatorEndpoint, listObjectNames } from '../support/gcs.js';
import { expectErrorResponse } from './expect-error.js';
import { close, listen, silentLogger, startHarness, useCleanups, type Harness } from './harness.js';
import { startRawUpload } from './sockets.js';
import { fixture, jsonBody } from '../support/requests.js';
import { startTcpProxy } from './tcp-proxy.js';

const defer = useCleanups();

describe('503 storage_unavailable', () => {
  let emulator: RunningEmulator;

  async function appOnStoppedEmulator(env: Record<string, string> = {}) {
    emulator = await startEmulator();
    defer(() => emulator.stop());
    const bucket = await createTestBucket(emulator.endpoint);
    const config = loadConfig({
      STORAGE_DRIVER: 'gcs',
      GCS_BUCKET: bucket.name,
      GCS_API_ENDPOINT: emulator.endpoint,
      ...env,
    });
    const store = await createStore(config);
    // The clean-up of a failed write retries against a bucket that never comes back: stop it.
    defer(() => store.settle?.(0) ?? Promise.resolve());
    const app = createApp(config, { store, logger: silentLogger });
    await emulator.stop();
    return app.callback();
  }

  it.each([
    ['buffered', {}],
    ['streamed', { STREAMING_THRESHOLD_BYTES: '1024' }],
  ])('answers 503 with Retry-After when the bucket is down (%s path)', async (_label, env) => {
    const callback = await appOnStoppedEmulator(env);
    const response = await request(callback)
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('large.jpg'), 'image/jpeg'));
    expectErrorResponse(response, 'storage_unavailable');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });

  describe('through a TCP proxy to the shared emulator, so the bucket can be checked after', () => {
    async function appBehindProxy(env: Record<string, string>) {
      const bucket = await createTestBucket();
      const proxy = await startTcpProxy(emulatorEndpoint());
      defer(() => proxy.stop());
      // Decode mode spools the streamed image here; a failed write must not leave it behind.
      const spoolDir = await mkdtemp(path.join(tmpdir(), 'failures-spool-'));
      defer(() => rm(spoolDir, { recursive: true, force: true }));
      const config = loadConfig({
        STORAGE_DRIVER: 'gcs',
        GCS_BUCKET: bucket.name,
        GCS_API_ENDPOINT: proxy.endpoint,
        IMAGE_VALIDATION: 'decode',
        SPOOL_DIR: spoolDir,
        // The store's deadline bounds the answer to a failing write; keep it short here.
        STORE_TIMEOUT_MS: '3000',
        STORE_ATTEMPT_TIMEOUT_MS: '1500',
        ...env,
      });
      const store = await createStore(config);
      // Background clean-ups of failed writes must end before the test file does.
      defer(() => store.settle?.(5_000) ?? Promise.resolve());
      const callback = createApp(config, { store, logger: silentLogger }).callback();
      return { bucket, proxy, store, callback, spoolDir };
    }

    const paths = [
      ['buffered', {}],
      ['streamed', { STREAMING_THRESHOLD_BYTES: '1024' }],
    ] as const;

    it.each(paths)('503 when the store refuses connections (%s path)', async (_label, env) => {
      const { bucket, proxy, callback, spoolDir } = await appBehindProxy(env);
      await proxy.stop();
      const response = await request(callback)
        .post('/v1/images')
        .set('Content-Type', 'application/json')
        .send(jsonBody(fixture('large.jpg'), 'image/jpeg'));
      expectErrorResponse(response, 'storage_unavailable');
      expect(response.headers['retry-after']).toBeDefined();
      expect(await listObjectNames(bucket)).toEqual([]);
      expect(await readdir(spoolDir)).toEqual([]);
    });

    it.each(paths)(
      '503 when the connection drops in the middle of the upload (%s path)',
      async (_label, env) => {
        const { bucket, proxy, store, callback, spoolDir } = await appBehindProxy(env);
        proxy.cutAfter(256 * 1024);
        const response = await request(callback)
          .post('/v1/images')
          .set('Content-Type', 'application/json')
          .send(jsonBody(fixture('large.jpg'), 'image/jpeg'));
        expectErrorResponse(response, 'storage_unavailable');
        // Streamed: the resumable session is asked for its offset after the cut, which makes
        // fake-gcs-server 1.56.1 commit what it holds; the store removes that object in the
        // background, so wait for its clean-ups before looking.
        await store.settle?.(5_000);
        expect(await listObjectNames(bucket)).toEqual([]);
        expect(await readdir(spoolDir)).toEqual([]);
      },
      20_000,
    );
  });

  it('503 for a bucket that does not exist, storing nothing anywhere', async () => {
    const bucket = await createTestBucket();
    const config = loadConfig({
      STORAGE_DRIVER: 'gcs',
      GCS_BUCKET: `${bucket.name}-missing`,
      GCS_API_ENDPOINT: emulatorEndpoint(),
    });
    const store = await createStore(config);
    const response = await request(createApp(config, { store, logger: silentLogger }).callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('photo.png'), 'image/png'));
    expectErrorResponse(response, 'storage_unavailable');
    expect(response.headers['retry-after']).toBeDefined();
    expect(await listObjectNames(bucket)).toEqual([]);
  });
});

describe.each(['local', 'gcs'] as const)('a client that goes away (%s driver)', (driver) => {
  it.each([
    ['buffered', {}],
    ['streamed', { STREAMING_THRESHOLD_BYTES: '1024' }],
  ])('mid-body leaves nothing stored (%s path)', async (_label, env) => {
    const harness = await startHarness(driver, env);
    defer(() => harness.dispose());
    const logged: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
    const { server, port } = await listen(
      createApp(harness.config, { store: harness.store, logger }).callback(),
    );
    defer(() => close(server));

    const body = Buffer.from(jsonBody(fixture('large.jpg'), 'image/jpeg'));
    // Over half the image: the streamed path has begun writing to the store by then.
    (await startRawUpload(port, body, 700_000)).destroy();

    // The request is over when the app has logged the client's departure.
    while (!logged.some((line) => line.includes('client went away'))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await harness.expectNothingStored();
  });
});

describe('500 internal_error', () => {
  it.each(['local', 'gcs'] as const)(
    'answers a generic 500 without detail or stack, logs the detail, and stores nothing when the decode spool cannot be written (%s)',
    async (driver) => {
      // A real unknown failure: SPOOL_DIR names a file, as if the folder had been replaced
      // behind the service's back; the spool write fails with ENOTDIR and its path.
      const folder = await mkdtemp(path.join(tmpdir(), 'failures-not-a-spool-'));
      defer(() => rm(folder, { recursive: true, force: true }));
      const notAFolder = path.join(folder, 'secret-file');
      await writeFile(notAFolder, '');
      const harness: Harness = await startHarness(driver, {
        IMAGE_VALIDATION: 'decode',
        STREAMING_THRESHOLD_BYTES: '65536',
        SPOOL_DIR: notAFolder,
      });
      defer(() => harness.dispose());
      const logged: string[] = [];
      const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
      const app = createApp(harness.config, { store: harness.store, logger });
      const response = await request(app.callback())
        .post('/v1/images')
        .set('Content-Type', 'application/json')
        .send(jsonBody(fixture('large.jpg'), 'image/jpeg'));

      expectErrorResponse(response, 'internal_error');
      expect(response.text).not.toContain('secret-file');
      expect(response.text).not.toContain('ENOTDIR');
      expect((response.body as { error: { message: string } }).error.message).toBe(
        'An internal error occurred.',
      );
      expect(logged.join('')).toContain('secret-file');
      expect(logged.join('')).toContain('"stack"');
      await harness.expectNothingStored();
    },
  );
});
