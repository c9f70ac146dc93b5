import { describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import request from 'supertest';
import { useEmulatorProxies, useLoggedApps, type LoggedApp } from './harness.js';
import { startRawUpload } from './sockets.js';
import type { Env, LogCapture } from '../security/helpers.js';
import { freePort } from '../support/emulator.js';
import { fixture, jsonBody } from '../support/requests.js';

/**
 * Error level is for faults only (an unknown failure, a failing store); a full server is a
 * warning; what clients do (4xx) and clients that leave (499) are information.
 */

const levels = { info: 30, warn: 40, error: 50 } as const;

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly code?: string;
  readonly status?: number;
  readonly err?: { readonly stack?: string };
}

function linesOf(log: LogCapture): LogLine[] {
  return log.lines.map((line) => JSON.parse(line) as LogLine);
}

function requestLine(log: LogCapture): LogLine {
  const found = linesOf(log).filter((line) => line.msg === 'request');
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The highest level logged. */
function worstLevel(log: LogCapture): number {
  return Math.max(...linesOf(log).map((line) => line.level));
}

const { start } = useLoggedApps();

function upload(app: LoggedApp['app'], body: string) {
  return request(app.callback())
    .post('/v1/images')
    .set('Content-Type', 'application/json')
    .send(body);
}

/** The request of a client that left: a 499 info line, and nothing logged above info. */
function expectClientLeft(log: LogCapture): void {
  expect(requestLine(log)).toMatchObject({
    level: levels.info,
    status: 499,
    code: 'client_closed_request',
  });
  expect(worstLevel(log)).toBe(levels.info);
  expect(log.text()).not.toContain('internal_error');
  expect(log.text()).not.toContain('"stack"');
}

/** Resolves once the app's metrics count `count` uploads in flight. */
async function uploadsInFlight(app: LoggedApp['app'], count: number): Promise<void> {
  const line = `image_ingest_uploads_in_flight ${count}\n`;
  while (!(await request(app.callback()).get('/metrics')).text.includes(line)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const emulatorProxy = useEmulatorProxies();

describe('a client that goes away', () => {
  it('mid-body is an info line client_closed_request, status 499 in the request log', async () => {
    const { harness, log, port } = await start('local');
    const body = Buffer.from(jsonBody(fixture('large.jpg'), 'image/jpeg'));
    (await startRawUpload(port, body, 400_000)).destroy();
    await log.waitFor('"msg":"request"');
    await log.waitFor('client went away');

    expectClientLeft(log);
    expect(linesOf(log).find((line) => line.msg.includes('client went away'))).toMatchObject({
      level: levels.info,
      code: 'client_closed_request',
    });
    await harness.expectNothingStored();
  });

  it('while its image is being stored is the same info line, not an internal_error', async () => {
    // The store's connections reach a proxy that holds every byte: each attempt hangs until
    // its timeout, and the first retry proves the write is in flight when the client leaves.
    const proxy = await emulatorProxy();
    await proxy.addToxic('hold', {
      type: 'timeout',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    const { harness, log, port } = await start('gcs', {
      GCS_API_ENDPOINT: proxy.endpoint,
      STORE_TIMEOUT_MS: '60000',
      STORE_ATTEMPT_TIMEOUT_MS: '300',
    });
    const retried = new Promise<void>((resolve) =>
      harness.store.observe?.({ retried: () => resolve() }),
    );
    const body = Buffer.from(jsonBody(fixture('photo.png')));
    const socket = await startRawUpload(port, body, body.length);
    await retried;
    socket.destroy();
    await log.waitFor('"msg":"request"');
    await log.waitFor('client went away');

    expectClientLeft(log);
    await proxy.removeAllToxics();
    await harness.store.settle?.(5_000);
    await harness.expectNothingStored();
  });
});

describe('answers the client caused are info lines', () => {
  it.each([
    ['invalid_json', 400, {}, '{"data": '],
    ['missing_data', 422, {}, '{}'],
    ['unsupported_image_type', 415, {}, jsonBody(fixture('script.svg'))],
    ['payload_too_large', 413, { MAX_IMAGE_BYTES: '1000' }, jsonBody(fixture('large.jpg'))],
  ])('%s (%d)', async (code, status, env: Env, body) => {
    const { app, log } = await start('local', env);
    expect((await upload(app, body)).status).toBe(status);
    await log.waitFor('"msg":"request"');
    expect(requestLine(log)).toMatchObject({ level: levels.info, status, code });
    expect(worstLevel(log)).toBe(levels.info);
  });

  it('unauthorized (401)', async () => {
    const { app, log } = await start('local', { API_KEYS: 'k_test_levels_0123456789abcdef' });
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(401);
    await log.waitFor('"msg":"request"');
    expect(requestLine(log)).toMatchObject({ level: levels.info, code: 'unauthorized' });
    expect(worstLevel(log)).toBe(levels.info);
  });

  it('rate_limited (429)', async () => {
    const { app, log } = await start('local', { RATE_LIMIT: '1' });
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(201);
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(429);
    await log.waitFor('"code":"rate_limited"');
    expect(linesOf(log).find((line) => line.code === 'rate_limited')?.level).toBe(levels.info);
    expect(worstLevel(log)).toBe(levels.info);
  });
});

describe('server_busy', () => {
  it('is a warning, not an error', async () => {
    const { app, harness, log, port } = await start('local', { MAX_CONCURRENT_UPLOADS: '1' });
    // A slow client holds the only slot: it has sent its headers and part of its body.
    const body = Buffer.from(jsonBody(fixture('large.jpg'), 'image/jpeg'));
    const slow = await startRawUpload(port, body, 64 * 1024);
    await uploadsInFlight(app, 1);
    const busy = await upload(app, jsonBody(fixture('photo.png')));
    expect(busy.status).toBe(503);
    slow.destroy();
    await log.waitFor('client went away');
    await log.waitFor('"code":"server_busy"');
    expect(linesOf(log).find((line) => line.code === 'server_busy')?.level).toBe(levels.warn);
    expect(worstLevel(log)).toBe(levels.warn);
    await harness.expectNothingStored();
  });
});

describe('faults are errors', () => {
  it('an unknown failure: internal_error (500), with its stack', async () => {
    const { app, harness, log } = await start('local');
    // The upload folder is removed behind the service's back: opening the temp file fails
    // with ENOENT, which the local driver does not map to a storage error.
    const { storage } = harness.config;
    if (storage.driver !== 'local') throw new Error('expected the local driver');
    await rm(storage.uploadDir, { recursive: true, force: true });
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(500);
    await log.waitFor('"msg":"request"');
    expect(requestLine(log)).toMatchObject({ level: levels.error, code: 'internal_error' });
    const failed = linesOf(log).find((line) => line.msg === 'request failed');
    expect(failed).toMatchObject({ level: levels.error, code: 'internal_error' });
    expect(failed?.err?.stack).toContain('ENOENT');
    expect(failed?.err?.stack).toContain(storage.uploadDir);
  });

  it('a failing store: storage_unavailable (503)', async () => {
    // The gcs driver pointed at a loopback port nothing listens on: every attempt is refused.
    const { app, harness, log } = await start('gcs', {
      GCS_API_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      STORE_TIMEOUT_MS: '1000',
      STORE_ATTEMPT_TIMEOUT_MS: '300',
    });
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(503);
    await log.waitFor('"msg":"request"');
    expect(requestLine(log)).toMatchObject({ level: levels.error, code: 'storage_unavailable' });
    expect(linesOf(log).find((line) => line.msg === 'request failed')).toMatchObject({
      level: levels.error,
      code: 'storage_unavailable',
    });
    await harness.expectNothingStored();
  });
});
