import { afterEach, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { StorageError, type ObjectStore, type PutOptions } from '../../src/storage/object-store.js';
import { close, listen } from './harness.js';
import { LogCapture, makeApp, type AppUnderTest, type Env } from '../security/helpers.js';
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

let subject: AppUnderTest | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await subject?.cleanup();
  subject = undefined;
});

/** An app whose store is replaced by `store(real)`, logging into a fresh capture. */
async function start(env: Env = {}, store?: (real: ObjectStore) => ObjectStore) {
  subject = await makeApp('local', env);
  const log = new LogCapture();
  const app = createApp(subject.config, {
    store: store === undefined ? subject.store : store(subject.store),
    logger: log.logger,
  });
  return { app, log };
}

const replacePut = (put: ObjectStore['put']) => (real: ObjectStore) =>
  Object.assign(Object.create(real) as ObjectStore, { put });

function upload(app: Awaited<ReturnType<typeof start>>['app'], body: string) {
  return request(app.callback())
    .post('/v1/images')
    .set('Content-Type', 'application/json')
    .send(body);
}

describe('a client that goes away', () => {
  it('mid-body is an info line client_closed_request, status 499 in the request log', async () => {
    const { app, log } = await start();
    const { server, port } = await listen(app.callback());
    cleanups.push(() => close(server));
    const body = Buffer.from(jsonBody(fixture('large.jpg'), 'image/jpeg'));
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /v1/images HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    await new Promise<void>((resolve) => socket.write(body.subarray(0, 400_000), () => resolve()));
    socket.destroy();
    await log.waitFor('"msg":"request"');
    await log.waitFor('client went away');

    expect(requestLine(log)).toMatchObject({
      level: levels.info,
      status: 499,
      code: 'client_closed_request',
    });
    expect(linesOf(log).find((line) => line.msg.includes('client went away'))).toMatchObject({
      level: levels.info,
      code: 'client_closed_request',
    });
    expect(worstLevel(log)).toBe(levels.info);
    expect(log.text()).not.toContain('internal_error');
    expect(log.text()).not.toContain('"stack"');
  });

  it('while its image is being stored is the same info line, not an internal_error', async () => {
    let putStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (putStarted = resolve));
    // The store waits until the request's signal says the client left, as GCS does mid-upload.
    const { app, log } = await start(
      {},
      replacePut((_name: string, body: Buffer | Readable, options: PutOptions) => {
        if (!Buffer.isBuffer(body)) body.resume();
        putStarted();
        return new Promise<void>((_resolve, reject) => {
          options.signal?.addEventListener('abort', () => {
            const reason: unknown = options.signal?.reason;
            reject(reason instanceof Error ? reason : new Error('aborted'));
          });
        });
      }),
    );
    const { server, port } = await listen(app.callback());
    cleanups.push(() => close(server));
    const body = jsonBody(fixture('photo.png'));
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /v1/images HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await started;
    socket.destroy();
    await log.waitFor('"msg":"request"');
    await log.waitFor('client went away');

    expect(requestLine(log)).toMatchObject({
      level: levels.info,
      status: 499,
      code: 'client_closed_request',
    });
    expect(worstLevel(log)).toBe(levels.info);
    expect(log.text()).not.toContain('internal_error');
    expect(log.text()).not.toContain('"stack"');
  });
});

describe('answers the client caused are info lines', () => {
  it.each([
    ['invalid_json', 400, {}, '{"data": '],
    ['missing_data', 422, {}, '{}'],
    ['unsupported_image_type', 415, {}, jsonBody(fixture('script.svg'))],
    ['payload_too_large', 413, { MAX_IMAGE_BYTES: '1000' }, jsonBody(fixture('large.jpg'))],
  ])('%s (%d)', async (code, status, env: Env, body) => {
    const { app, log } = await start(env);
    expect((await upload(app, body)).status).toBe(status);
    await log.waitFor('"msg":"request"');
    expect(requestLine(log)).toMatchObject({ level: levels.info, status, code });
    expect(worstLevel(log)).toBe(levels.info);
  });

  it('unauthorized (401)', async () => {
    const { app, log } = await start({ API_KEYS: 'k_test_levels_0123456789abcdef' });
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(401);
    await log.waitFor('"msg":"request"');
    expect(requestLine(log)).toMatchObject({ level: levels.info, code: 'unauthorized' });
    expect(worstLevel(log)).toBe(levels.info);
  });

  it('rate_limited (429)', async () => {
    const { app, log } = await start({ RATE_LIMIT: '1' });
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(201);
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(429);
    await log.waitFor('"code":"rate_limited"');
    expect(linesOf(log).find((line) => line.code === 'rate_limited')?.level).toBe(levels.info);
    expect(worstLevel(log)).toBe(levels.info);
  });
});

describe('server_busy', () => {
  it('is a warning, not an error', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let putStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (putStarted = resolve));
    const { app, log } = await start(
      { MAX_CONCURRENT_UPLOADS: '1' },
      replacePut(async (_name, body) => {
        if (!Buffer.isBuffer(body)) body.resume();
        putStarted();
        await held;
      }),
    );
    // The first upload holds the only slot until its store write is released.
    const first = upload(app, jsonBody(fixture('photo.png'))).then((response) => response);
    await started;
    const busy = await upload(app, jsonBody(fixture('photo.png')));
    expect(busy.status).toBe(503);
    release();
    expect((await first).status).toBe(201);
    await log.waitFor('"code":"server_busy"');
    expect(linesOf(log).find((line) => line.code === 'server_busy')?.level).toBe(levels.warn);
    expect(worstLevel(log)).toBe(levels.warn);
  });
});

describe('faults are errors', () => {
  it('an unknown failure: internal_error (500), with its stack', async () => {
    const { app, log } = await start(
      {},
      replacePut(() => Promise.reject(new Error('disk on fire'))),
    );
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(500);
    await log.waitFor('"msg":"request"');
    expect(requestLine(log)).toMatchObject({ level: levels.error, code: 'internal_error' });
    const failed = linesOf(log).find((line) => line.msg === 'request failed');
    expect(failed).toMatchObject({ level: levels.error, code: 'internal_error' });
    expect(failed?.err?.stack).toContain('disk on fire');
  });

  it('a failing store: storage_unavailable (503)', async () => {
    const { app, log } = await start(
      {},
      replacePut(() => Promise.reject(new StorageError('unavailable', 'bucket unreachable'))),
    );
    expect((await upload(app, jsonBody(fixture('photo.png')))).status).toBe(503);
    await log.waitFor('"msg":"request"');
    expect(requestLine(log)).toMatchObject({ level: levels.error, code: 'storage_unavailable' });
    expect(linesOf(log).find((line) => line.msg === 'request failed')).toMatchObject({
      level: levels.error,
      code: 'storage_unavailable',
    });
  });
});
