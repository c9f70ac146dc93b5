import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bucket } from '@google-cloud/storage';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { pino } from 'pino';
import request from 'supertest';
import type Koa from 'koa';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createStore } from '../../src/storage/create-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { startEmulator, type RunningEmulator } from '../support/emulator.js';
import { createTestBucket, listObjectNames } from '../support/gcs.js';
import { startToxiproxy, type FaultProxy, type RunningToxiproxy } from '../support/toxiproxy.js';

/**
 * Real faults between the service and a real GCS-protocol server: toxiproxy sits on the TCP
 * path to fake-gcs-server and delays, throttles, resets and cuts the connections; the last
 * test stops the emulator itself. Each test asserts the promise of issue 5: a 201 means one
 * complete object with the right hash, anything else leaves nothing, and the answer comes
 * within the configured store deadline (plus a margin for the rest of the request).
 */

const storeTimeoutMs = 2_000;
const storeAttemptTimeoutMs = 700;
/** The rest of the request (parsing, hashing, the test's own HTTP hop) on a busy machine. */
const marginMs = 1_500;

let emulator: RunningEmulator;
let toxiproxy: RunningToxiproxy;
let proxy: FaultProxy;
let png: Buffer;
let large: Buffer;

beforeAll(async () => {
  [emulator, toxiproxy, png, large] = await Promise.all([
    startEmulator(),
    startToxiproxy(),
    readFile('__tests__/fixtures/photo.png'),
    readFile('__tests__/fixtures/large.jpg'),
  ]);
  proxy = await toxiproxy.createProxy('gcs', new URL(emulator.endpoint).host);
});

afterAll(async () => {
  await toxiproxy?.stop();
  await emulator?.stop();
});

afterEach(async () => {
  await proxy.removeAllToxics();
});

interface Harness {
  readonly app: Koa;
  readonly store: ObjectStore;
  readonly bucket: Bucket;
  readonly retries: () => number;
}

async function harness(env: Record<string, string> = {}): Promise<Harness> {
  const bucket = await createTestBucket(emulator.endpoint);
  const config = loadConfig({
    STORAGE_DRIVER: 'gcs',
    GCS_BUCKET: bucket.name,
    GCS_PROJECT_ID: 'test-project',
    GCS_API_ENDPOINT: proxy.endpoint,
    STORE_TIMEOUT_MS: String(storeTimeoutMs),
    STORE_ATTEMPT_TIMEOUT_MS: String(storeAttemptTimeoutMs),
    ...env,
  });
  const store = await createStore(config);
  let retries = 0;
  store.observe?.({ retried: () => (retries += 1) });
  const app = createApp(config, { store, logger: pino({ level: 'silent' }) });
  return { app, store, bucket, retries: () => retries };
}

function dataUri(type: string, bytes: Buffer): string {
  return JSON.stringify({ data: `data:${type};base64,${bytes.toString('base64')}` });
}

async function upload(app: Koa, body: string): Promise<{ response: request.Response; ms: number }> {
  const started = performance.now();
  const response = await request(app.callback())
    .post('/v1/images')
    .set('Content-Type', 'application/json')
    .send(body);
  return { response, ms: performance.now() - started };
}

function nameOf(response: request.Response): string {
  const body = response.body as { name: string };
  return body.name;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bucket as the emulator sees it, bypassing the proxy; after background clean-ups. */
async function settledObjects(store: ObjectStore, bucket: Bucket): Promise<string[]> {
  await proxy.removeAllToxics();
  await store.settle?.(10_000);
  return listObjectNames(bucket);
}

async function expectStoredExactly(bucket: Bucket, name: string, bytes: Buffer): Promise<void> {
  expect(await listObjectNames(bucket)).toEqual([name]);
  const [stored] = await bucket.file(name).download();
  expect(sha256(stored)).toBe(sha256(bytes));
}

/** Every connection through the proxy is closed once it has carried `bytes` upstream. */
async function cutConnectionsAfter(bytes: number): Promise<void> {
  await proxy.addToxic('cut', { type: 'limit_data', stream: 'upstream', attributes: { bytes } });
}

function expectUnavailable(response: request.Response, ms: number): void {
  expect(response.status).toBe(503);
  expect(response.body).toEqual({
    error: { code: 'storage_unavailable', message: expect.any(String) as unknown },
  });
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  expect(ms).toBeLessThan(storeTimeoutMs + marginMs);
}

describe('GCS behind a fault proxy', () => {
  it('stores normally through the proxy when no fault is injected', async () => {
    const { app, bucket } = await harness();
    const { response } = await upload(app, dataUri('image/png', png));
    expect(response.status).toBe(201);
    await expectStoredExactly(bucket, nameOf(response), png);
  });

  it('tolerates latency that fits in one attempt', async () => {
    const { app, bucket } = await harness();
    await proxy.addToxic('slow', {
      type: 'latency',
      stream: 'downstream',
      attributes: { latency: 150, jitter: 50 },
    });
    const { response, ms } = await upload(app, dataUri('image/png', png));
    expect(response.status).toBe(201);
    expect(ms).toBeLessThan(storeTimeoutMs + marginMs);
    await expectStoredExactly(bucket, nameOf(response), png);
  });

  it('answers 503 within the deadline when every answer is later than an attempt may wait, and removes the object the server did write', async () => {
    const { app, store, bucket } = await harness();
    // The request reaches the emulator, which stores the object; only its answer is late.
    await proxy.addToxic('late-answers', {
      type: 'latency',
      stream: 'downstream',
      attributes: { latency: 5_000 },
    });
    const { response, ms } = await upload(app, dataUri('image/png', png));
    expectUnavailable(response, ms);
    expect(await settledObjects(store, bucket)).toEqual([]);
  });

  it('answers 503 within the deadline when the bandwidth cannot carry the body in time', async () => {
    const { app, store, bucket } = await harness();
    await proxy.addToxic('thin-pipe', {
      type: 'bandwidth',
      stream: 'upstream',
      attributes: { rate: 64 }, // KB/s: 1 MiB needs ~16 s
    });
    const { response, ms } = await upload(app, dataUri('image/jpeg', large));
    expectUnavailable(response, ms);
    expect(await settledObjects(store, bucket)).toEqual([]);
  });

  it('stores a small image over the same thin pipe', async () => {
    const { app, bucket } = await harness();
    await proxy.addToxic('thin-pipe', {
      type: 'bandwidth',
      stream: 'upstream',
      attributes: { rate: 64 },
    });
    const { response } = await upload(app, dataUri('image/png', png));
    expect(response.status).toBe(201);
    await expectStoredExactly(bucket, nameOf(response), png);
  });

  it('retries after connection resets and stores exactly one object once they stop', async () => {
    const { app, bucket, retries } = await harness();
    await proxy.addToxic('resets', {
      type: 'reset_peer',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    const healed = new Promise((resolve) => setTimeout(resolve, 400)).then(() =>
      proxy.removeToxic('resets'),
    );
    const { response, ms } = await upload(app, dataUri('image/png', png));
    await healed;
    expect(response.status).toBe(201);
    expect(ms).toBeLessThan(storeTimeoutMs + marginMs);
    expect(retries()).toBeGreaterThan(0);
    await expectStoredExactly(bucket, nameOf(response), png);
  });

  it('answers 503 within the deadline while every connection is reset', async () => {
    const { app, store, bucket, retries } = await harness();
    await proxy.addToxic('resets', {
      type: 'reset_peer',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    const { response, ms } = await upload(app, dataUri('image/png', png));
    expectUnavailable(response, ms);
    expect(retries()).toBeGreaterThan(0);
    expect(await settledObjects(store, bucket)).toEqual([]);
  });

  it('answers 503 within the deadline when the connection is cut mid-body, leaving nothing', async () => {
    const { app, store, bucket } = await harness();
    await cutConnectionsAfter(200_000); // well inside the 1 MiB body
    const { response, ms } = await upload(app, dataUri('image/jpeg', large));
    expectUnavailable(response, ms);
    expect(await settledObjects(store, bucket)).toEqual([]);
  });

  it('answers 503 when a streamed upload is cut mid-body, leaving nothing', async () => {
    const { app, store, bucket } = await harness({ STREAMING_THRESHOLD_BYTES: '65536' });
    await cutConnectionsAfter(200_000);
    const { response, ms } = await upload(app, dataUri('image/jpeg', large));
    expectUnavailable(response, ms);
    expect(await settledObjects(store, bucket)).toEqual([]);
  });

  it('answers 503 within the deadline when the store goes silent (no data, no close)', async () => {
    const { app, store, bucket } = await harness();
    await proxy.addToxic('silence', {
      type: 'timeout',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    const { response, ms } = await upload(app, dataUri('image/png', png));
    expectUnavailable(response, ms);
    expect(await settledObjects(store, bucket)).toEqual([]);
  });

  it('recovers from a cut retry: an attempt cut after the server stored the object is recognised by its hash', async () => {
    const { app, bucket } = await harness();
    // First attempt: the object is stored but the answer comes after the attempt timeout;
    // the retry then meets the precondition (412) and must recognise our own bytes.
    await proxy.addToxic('late-first-answer', {
      type: 'latency',
      stream: 'downstream',
      attributes: { latency: storeAttemptTimeoutMs + 300 },
    });
    const healed = new Promise((resolve) => setTimeout(resolve, storeAttemptTimeoutMs + 50)).then(
      () => proxy.removeToxic('late-first-answer'),
    );
    const { response, ms } = await upload(app, dataUri('image/png', png));
    await healed;
    expect(response.status).toBe(201);
    expect(ms).toBeLessThan(storeTimeoutMs + marginMs);
    await expectStoredExactly(bucket, nameOf(response), png);
  });
});

/** Sends `body` to the app over a real socket in `parts` pieces spread over `spreadMs`. */
async function trickle(
  app: Koa,
  body: string,
  parts: number,
  spreadMs: number,
): Promise<{ status: number; json: { name?: string; error?: { code: string } }; ms: number }> {
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const started = performance.now();
  try {
    return await new Promise((resolve, reject) => {
      const bytes = Buffer.from(body);
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/images',
        headers: { 'Content-Type': 'application/json', 'Content-Length': bytes.length },
      });
      req.on('error', reject);
      req.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString()) as { name?: string },
            ms: performance.now() - started,
          }),
        );
      });
      const size = Math.ceil(bytes.length / parts);
      let index = 0;
      const next = (): void => {
        if (req.destroyed) return;
        const chunk = bytes.subarray(index * size, (index + 1) * size);
        index += 1;
        if (index >= parts) req.end(chunk);
        else req.write(chunk, () => setTimeout(next, spreadMs / parts));
      };
      next();
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('streamed uploads (larger than the streaming threshold)', () => {
  it("store a slow client's upload that takes longer than the store deadline", async () => {
    const { app, bucket } = await harness({ STREAMING_THRESHOLD_BYTES: '65536' });
    // The store keeps up the whole time; only the client is slow. Not a store failure.
    const { status, json, ms } = await trickle(app, dataUri('image/jpeg', large), 30, 3_000);
    expect(ms).toBeGreaterThan(storeTimeoutMs);
    expect(status).toBe(201);
    await expectStoredExactly(bucket, json.name!, large);
  });

  it('answer 503 soon after the store goes silent mid-stream, leaving nothing', async () => {
    const { app, store, bucket } = await harness({ STREAMING_THRESHOLD_BYTES: '65536' });
    await proxy.addToxic('silence', {
      type: 'timeout',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    const { status, json, ms } = await trickle(app, dataUri('image/jpeg', large), 10, 200);
    expect(status).toBe(503);
    expect(json.error?.code).toBe('storage_unavailable');
    expect(ms).toBeLessThan(storeTimeoutMs + marginMs);
    expect(await settledObjects(store, bucket)).toEqual([]);
  });
});

describe('streamed uploads as resumable sessions in 256 KiB chunks', () => {
  const chunked = { STREAMING_THRESHOLD_BYTES: '65536', GCS_CHUNK_BYTES: '262144' };

  it('store a streamed image in several chunks, with its content type and sha256', async () => {
    const { app, bucket } = await harness(chunked);
    const { response } = await upload(app, dataUri('image/jpeg', large));
    expect(response.status).toBe(201);
    const name = nameOf(response);
    await expectStoredExactly(bucket, name, large);
    const [metadata] = await bucket.file(name).getMetadata();
    expect(metadata.contentType).toBe('image/jpeg');
    // The image's record rides along: its hash, and the facts the walker read on the way.
    expect(metadata.metadata).toMatchObject({
      sha256: sha256(large),
      width: '1600',
      height: '1200',
    });
  });

  it('retry the opening of the session while the store refuses connections, then store', async () => {
    const { app, bucket, retries } = await harness(chunked);
    await proxy.setEnabled(false);
    const healed = new Promise((resolve) => setTimeout(resolve, 400)).then(() =>
      proxy.setEnabled(true),
    );
    try {
      const { response, ms } = await upload(app, dataUri('image/jpeg', large));
      await healed;
      expect(response.status).toBe(201);
      expect(ms).toBeLessThan(storeTimeoutMs + marginMs);
      expect(retries()).toBeGreaterThan(0);
      await expectStoredExactly(bucket, nameOf(response), large);
    } finally {
      await healed;
    }
  });

  // On real GCS the status query after the reset answers 308 with the persisted range and the
  // chunk is resent from there. fake-gcs-server 1.56.1 instead finalizes the session on that
  // query (see gcs-store.test.ts): the store must notice the object it did not finish, answer
  // 503 and remove it, never publish a truncated image.
  it('after a reset mid-chunk, ask the session for its offset; never leave a truncated object', async () => {
    const { app, store, bucket, retries } = await harness(chunked);
    await cutConnectionsAfter(150_000); // inside the first 256 KiB chunk
    const { response, ms } = await upload(app, dataUri('image/jpeg', large));
    expectUnavailable(response, ms);
    expect(retries()).toBeGreaterThan(0);
    expect(await settledObjects(store, bucket)).toEqual([]);
  });

  it('answer 503 within the deadline while the store is unreachable, leaving nothing', async () => {
    const { app, store, bucket } = await harness(chunked);
    await proxy.setEnabled(false);
    try {
      const { response, ms } = await upload(app, dataUri('image/jpeg', large));
      expectUnavailable(response, ms);
    } finally {
      await proxy.setEnabled(true);
    }
    expect(await settledObjects(store, bucket)).toEqual([]);
  });

  it.each([
    [
      'bytes after the end of the JPEG',
      422,
      (bytes: Buffer) => dataUri('image/jpeg', Buffer.concat([bytes, Buffer.from('trailing')])),
    ],
    [
      'a bad base64 character near the end',
      400,
      (bytes: Buffer) => {
        const text = dataUri('image/jpeg', bytes);
        const at = text.length - 100;
        return `${text.slice(0, at)}*${text.slice(at + 1)}`;
      },
    ],
  ])('refuse %s after chunks were sent, leaving nothing', async (_label, status, body) => {
    const { app, store, bucket } = await harness(chunked);
    const { response } = await upload(app, body(large));
    expect(response.status).toBe(status);
    expect(await settledObjects(store, bucket)).toEqual([]);
  });
});

describe('readiness and liveness while the store is silent', () => {
  it('answers /readyz 503 within READY_TIMEOUT_MS and /healthz 200', async () => {
    const { app } = await harness({ READY_TIMEOUT_MS: '500' });
    expect((await request(app.callback()).get('/readyz')).status).toBe(200);
    await proxy.addToxic('silence', {
      type: 'timeout',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    const started = performance.now();
    const ready = await request(app.callback()).get('/readyz');
    expect(ready.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(500 + marginMs);
    expect((await request(app.callback()).get('/healthz')).status).toBe(200);
  });
});

describe('GCS emulator stopped', () => {
  it('answers 503 within the deadline with Retry-After when the store is gone', async () => {
    const { app, store } = await harness();
    const port = Number(new URL(emulator.endpoint).port);
    await emulator.stop();
    const { response, ms } = await upload(app, dataUri('image/png', png));
    expectUnavailable(response, ms);
    // Nothing can have been stored: every connection was refused. The store's background
    // clean-up of the uncertain write ends once the emulator is back on its port.
    emulator = await startEmulator(port);
    await store.settle?.(10_000);
  });
});
