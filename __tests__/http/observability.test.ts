import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createStore } from '../../src/storage/create-store.js';
import { createTestBucket, emulatorEndpoint } from '../support/gcs.js';

/** An app on the emulator whose log lines are captured as parsed JSON. */
async function observedApp() {
  const bucket = await createTestBucket();
  const config = loadConfig({
    STORAGE_DRIVER: 'gcs',
    GCS_BUCKET: bucket.name,
    GCS_PROJECT_ID: 'test-project',
    GCS_API_ENDPOINT: emulatorEndpoint(),
  });
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const app = createApp(config, { store: await createStore(config), logger });
  const lines = (): Record<string, unknown>[] =>
    raw
      .join('')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { app: app.callback(), lines, raw: () => raw.join('') };
}

async function waitForLines(read: () => unknown[], count: number): Promise<void> {
  for (let tries = 0; tries < 100 && read().length < count; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const png = await readFile('__tests__/fixtures/photo.png');
const pngBody = JSON.stringify({ data: `data:image/png;base64,${png.toString('base64')}` });

describe('request ids and request logs', () => {
  it('echoes a sane X-Request-Id and logs one line with it, without image data or credentials', async () => {
    const { app, lines, raw } = await observedApp();
    const response = await request(app)
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .set('X-Request-Id', 'mobile-7f3a.42')
      .set('Authorization', 'Bearer super-secret-token')
      .send(pngBody);
    expect(response.status).toBe(201);
    expect(response.headers['x-request-id']).toBe('mobile-7f3a.42');
    await waitForLines(lines, 1);
    const requestLines = lines().filter((line) => line.msg === 'request');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      reqId: 'mobile-7f3a.42',
      method: 'POST',
      route: '/v1/images',
      status: 201,
      ms: expect.any(Number) as unknown,
      bytesOut: expect.any(Number) as unknown,
    });
    expect(requestLines[0]).toMatchObject({ bytesIn: pngBody.length, imageBytes: png.length });
    expect(requestLines[0]).not.toHaveProperty('code');
    const log = raw();
    expect(log).not.toContain('super-secret-token');
    expect(log).not.toContain(png.toString('base64').slice(0, 40));
    expect(log).not.toContain('data:image');
  });

  it('replaces an unsafe X-Request-Id with a fresh UUID', async () => {
    const { app } = await observedApp();
    const response = await request(app).get('/healthz').set('X-Request-Id', 'a b "c"');
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const another = await request(app).get('/healthz');
    expect(another.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(another.headers['x-request-id']).not.toBe(response.headers['x-request-id']);
  });

  it('logs the error code of a failed request', async () => {
    const { app, lines } = await observedApp();
    const response = await request(app)
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send('{"data": ');
    expect(response.status).toBe(400);
    await waitForLines(lines, 1);
    expect(lines().filter((line) => line.msg === 'request')).toEqual([
      expect.objectContaining({ status: 400, code: 'invalid_json', route: '/v1/images' }),
    ]);
  });
});

describe('GET /metrics', () => {
  it('counts requests by route and status, bytes ingested, store latency and uploads in flight', async () => {
    const { app } = await observedApp();
    const post = (body: string) =>
      request(app).post('/v1/images').set('Content-Type', 'application/json').send(body);
    expect((await post(pngBody)).status).toBe(201);
    expect((await post(pngBody)).status).toBe(201);
    expect((await post('{}')).status).toBe(422);
    await request(app).get('/healthz');

    const response = await request(app).get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.text;
    const value = (series: string): number | undefined => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('http_requests_total{method="POST",route="/v1/images",status="201"}')).toBe(2);
    expect(value('http_requests_total{method="POST",route="/v1/images",status="422"}')).toBe(1);
    expect(value('http_requests_total{method="GET",route="/healthz",status="200"}')).toBe(1);
    expect(
      value('http_request_duration_seconds_count{method="POST",route="/v1/images",status="201"}'),
    ).toBe(2);
    expect(value('image_ingest_bytes_total')).toBe(2 * png.length);
    expect(value('image_ingest_uploads_in_flight')).toBe(0);
    expect(value('store_operation_duration_seconds_count{operation="put",outcome="ok"}')).toBe(2);
    expect(text).toContain('# TYPE store_retries_total counter');
  });
});
