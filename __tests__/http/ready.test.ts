import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { Lifecycle } from '../../src/lifecycle.js';
import { createStore } from '../../src/storage/create-store.js';
import { freePort } from '../support/emulator.js';
import { createTestBucket, emulatorEndpoint } from '../support/gcs.js';

async function appFor(config: Config, lifecycle = new Lifecycle()) {
  const store = await createStore(config);
  return createApp(config, { store, lifecycle, logger: pino({ level: 'silent' }) }).callback();
}

describe('GET /readyz and GET /healthz', () => {
  it('is ready with a writable upload folder, and not once the folder is gone', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ingest-ready-'));
    const app = await appFor(loadConfig({ STORAGE_DRIVER: 'local', UPLOAD_DIR: dir }));
    expect((await request(app).get('/readyz')).status).toBe(200);
    await rm(dir, { recursive: true, force: true });
    const response = await request(app).get('/readyz');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ status: 'store_unreachable' });
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('is ready when the GCS bucket answers', async () => {
    const bucket = await createTestBucket();
    const app = await appFor(
      loadConfig({
        STORAGE_DRIVER: 'gcs',
        GCS_BUCKET: bucket.name,
        GCS_PROJECT_ID: 'test-project',
        GCS_API_ENDPOINT: emulatorEndpoint(),
      }),
    );
    const response = await request(app).get('/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready' });
  });

  it('is not ready when the bucket does not exist', async () => {
    const app = await appFor(
      loadConfig({
        STORAGE_DRIVER: 'gcs',
        GCS_BUCKET: 'no-such-bucket-here',
        GCS_PROJECT_ID: 'test-project',
        GCS_API_ENDPOINT: emulatorEndpoint(),
      }),
    );
    expect((await request(app).get('/readyz')).status).toBe(503);
  });

  it('is not ready, within its timeout, when GCS cannot be reached; liveness stays 200', async () => {
    const port = await freePort(); // nothing listens there
    const app = await appFor(
      loadConfig({
        STORAGE_DRIVER: 'gcs',
        GCS_BUCKET: 'some-bucket',
        GCS_API_ENDPOINT: `http://127.0.0.1:${port}`,
        READY_TIMEOUT_MS: '500',
      }),
    );
    const started = performance.now();
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBe('5');
    expect(performance.now() - started).toBeLessThan(500 + 1_500);
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('says 503 "draining" as soon as shutdown begins', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ingest-ready-'));
    const lifecycle = new Lifecycle();
    const app = await appFor(loadConfig({ STORAGE_DRIVER: 'local', UPLOAD_DIR: dir }), lifecycle);
    lifecycle.startDraining();
    const response = await request(app).get('/readyz');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ status: 'draining' });
    expect(response.headers.connection).toBe('close');
    expect((await request(app).get('/healthz')).status).toBe(200);
    await rm(dir, { recursive: true, force: true });
  });
});
