import { beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import sharp from 'sharp';
import { createHttpServer } from '../../src/http/server.js';
import { close, useEmulatorProxies, useLoggedApps } from './harness.js';
import { dataUri, fixture, jsonBody } from '../support/requests.js';
import { floodUpload, sendUpload, type UploadOutcome } from './upload-client.js';

/**
 * Answers sent before the request body has been read to its end (401, 413, 415, 429, 503) must
 * reach the client whole, over real sockets and with bodies of several megabytes: a server that
 * closes while the body is still arriving makes the kernel reset the connection, and the client
 * then sees EPIPE or ECONNRESET instead of the answer.
 */

const apiKey = 'k_test_early_0123456789abcdef';
const json = { 'Content-Type': 'application/json' };

/** A real JPEG whose JSON body is about 4.4 MB: noise does not compress. */
let largeJpeg: Buffer;
let largeBody: Buffer;

beforeAll(async () => {
  const side = 1060;
  largeJpeg = await sharp(randomBytes(side * side * 3), {
    raw: { width: side, height: side, channels: 3 },
  })
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toBuffer();
  largeBody = Buffer.from(jsonBody(largeJpeg, 'image/jpeg'));
  expect(largeBody.length).toBeGreaterThan(4 * 1024 * 1024);
});

const { start, defer } = useLoggedApps();
const emulatorProxy = useEmulatorProxies();

/** The whole answer arrived: status, the catalogue's JSON error, and any headers named. */
function expectAnswer(
  outcome: UploadOutcome,
  status: number,
  code: string,
  headers: Record<string, unknown> = {},
): void {
  expect({ error: outcome.error, status: outcome.response?.status }).toEqual({
    error: undefined,
    status,
  });
  expect(outcome.response?.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(outcome.response?.headers).toMatchObject(headers);
}

/** A body of `bytes` bytes whose data URI carries `head` padded with spaces. */
function paddedBody(head: string, bytes: number): Buffer {
  const padding = Buffer.alloc(Math.ceil((bytes * 3) / 4), 0x20);
  return Buffer.from(
    JSON.stringify({ data: dataUri(Buffer.concat([Buffer.from(head), padding])) }),
  );
}

describe('answers sent before the body was read reach the client whole', () => {
  it('401 for a missing credential', async () => {
    const { harness, port } = await start('local', { API_KEYS: apiKey });
    const outcome = await sendUpload({ port, headers: json, body: largeBody });
    expectAnswer(outcome, 401, 'unauthorized', { 'www-authenticate': expect.any(String) });
    await harness.expectNothingStored();
  });

  it('413 for a declared Content-Length over the limit', async () => {
    // 3 MB images: the largest accepted body is about 4.3 MB, the one sent 4.4 MB.
    const { harness, port } = await start('local', { MAX_IMAGE_BYTES: '3000000' });
    expect(largeBody.length).toBeGreaterThan(harness.config.maxBodyBytes);
    const outcome = await sendUpload({ port, headers: json, body: largeBody });
    expectAnswer(outcome, 413, 'payload_too_large');
    await harness.expectNothingStored();
  });

  it('413 for a chunked body that crosses the limit mid-body', async () => {
    const { harness, port } = await start('local', { MAX_IMAGE_BYTES: String(2 * 1024 * 1024) });
    const outcome = await sendUpload({ port, headers: json, body: largeBody, chunked: true });
    expectAnswer(outcome, 413, 'payload_too_large');
    await harness.expectNothingStored();
  });

  it('415 for a body that is not JSON', async () => {
    const { harness, port } = await start('local');
    const outcome = await sendUpload({
      port,
      headers: { 'Content-Type': 'text/plain' },
      body: largeBody,
    });
    expectAnswer(outcome, 415, 'unsupported_media_type');
    await harness.expectNothingStored();
  });

  it('415 for a compressed body', async () => {
    const { harness, port } = await start('local');
    const outcome = await sendUpload({
      port,
      headers: { ...json, 'Content-Encoding': 'gzip' },
      body: largeBody,
    });
    expectAnswer(outcome, 415, 'unsupported_media_type');
    await harness.expectNothingStored();
  });

  it.each([
    ['SVG', fixture('script.svg').toString('utf8')],
    ['HTML', fixture('page.html').toString('utf8')],
  ])('415 for bytes sniffed as %s after the first kilobytes', async (_label, head) => {
    const { harness, port } = await start('local');
    const body = paddedBody(head, 4.4 * 1024 * 1024);
    const outcome = await sendUpload({ port, headers: json, body });
    expectAnswer(outcome, 415, 'unsupported_image_type');
    await harness.expectNothingStored();
  });

  it('429 once the caller has used its minute', async () => {
    const { harness, port } = await start('local', { API_KEYS: apiKey, RATE_LIMIT: '1' });
    const headers = { ...json, Authorization: `Bearer ${apiKey}` };
    const first = await sendUpload({
      port,
      headers,
      body: Buffer.from(jsonBody(fixture('photo.png'))),
    });
    expect(first.response?.status).toBe(201);
    const stored = await harness.storedNames();
    const outcome = await sendUpload({ port, headers, body: largeBody });
    expectAnswer(outcome, 429, 'rate_limited', { 'retry-after': expect.any(String) });
    expect(await harness.storedNames()).toEqual(stored);
  });

  it('503 storage_unavailable when the store fails while the body is still arriving', async () => {
    // The streamed path hands the store a stream as soon as the type is known; toxiproxy in
    // front of the emulator cuts each of the store's connections once it has carried 256 KiB
    // upstream, as when GCS goes away mid-upload, long before the client has sent its body.
    const proxy = await emulatorProxy();
    await proxy.addToxic('cut', {
      type: 'limit_data',
      stream: 'upstream',
      attributes: { bytes: 256 * 1024 },
    });
    const { harness, port } = await start('gcs', {
      GCS_API_ENDPOINT: proxy.endpoint,
      STREAMING_THRESHOLD_BYTES: '65536',
      STORE_TIMEOUT_MS: '3000',
      STORE_ATTEMPT_TIMEOUT_MS: '1500',
    });
    const outcome = await sendUpload({ port, headers: json, body: largeBody });
    expectAnswer(outcome, 503, 'storage_unavailable', { 'retry-after': expect.any(String) });
    // A cut resumable session can make the emulator commit what it holds; the store removes
    // that in the background, so wait for its clean-ups before looking.
    await proxy.removeAllToxics();
    await harness.store.settle?.(5_000);
    await harness.expectNothingStored();
  });
});

describe('what a lingering close reads', () => {
  it('is never parsed: a request sent after the refused body gets no answer', async () => {
    const { log, port } = await start('local', { API_KEYS: apiKey });
    const body = Buffer.from(jsonBody(fixture('photo.png')));
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.setEncoding('latin1');
    let transcript = '';
    socket.on('data', (chunk: string) => (transcript += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /v1/images HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    while (!transcript.includes('"unauthorized"')) await new Promise((r) => setTimeout(r, 10));
    // The rest of the refused body, then a pipelined request the server would answer 200.
    socket.write(body);
    socket.end('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await closed;
    // Had the GET been parsed, the app would have handled it (and logged it) by now.
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(transcript).toMatch(/^HTTP\/1\.1 401 /);
    expect(transcript.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(log.text()).not.toContain('/healthz');
    expect(log.text().match(/"msg":"request"/g)).toHaveLength(1);
  });
});

describe('24 concurrent 4.4 MB uploads with two upload slots', () => {
  it('every client gets a complete 503 with Retry-After or a 201, none a reset', async () => {
    const { harness, port } = await start('local', { MAX_CONCURRENT_UPLOADS: '2' });
    const outcomes = await Promise.all(
      Array.from({ length: 24 }, () => sendUpload({ port, headers: json, body: largeBody })),
    );
    const seen = outcomes.map((outcome) =>
      outcome.error === undefined
        ? `${outcome.response?.status} ${outcome.response?.headers['retry-after'] ?? '-'}`
        : outcome.error,
    );
    const counts: Record<string, number> = {};
    for (const kind of seen) counts[kind] = (counts[kind] ?? 0) + 1;
    expect(Object.keys(counts).filter((kind) => kind !== '201 -' && kind !== '503 1')).toEqual([]);
    for (const outcome of outcomes) {
      if (outcome.response?.status === 503) expectAnswer(outcome, 503, 'server_busy');
    }
    expect(counts['503 1']).toBeGreaterThan(0);
    expect((await harness.storedNames()).length).toBe(counts['201 -'] ?? 0);
  });
});

describe('a client that keeps sending after its answer', () => {
  const unauthenticated = 'Content-Type: application/json\r\n';
  /** Declares a gigabyte and sends 1 KiB every 20 ms, whatever the server answers. */
  const trickle = (port: number) =>
    floodUpload({
      port,
      headers: unauthenticated,
      declaredBytes: 2 ** 30,
      maxMs: 20_000,
      chunkBytes: 1024,
      everyMs: 20,
    });

  it('is cut once it has sent more than the byte bound', async () => {
    const { harness, port } = await start('local', {
      API_KEYS: apiKey,
      MAX_IMAGE_BYTES: '1000000',
    });
    const outcome = await floodUpload({
      port,
      headers: unauthenticated,
      declaredBytes: 2 ** 30,
      maxMs: 20_000,
    });
    expect(outcome.received).toMatch(/^HTTP\/1\.1 401 /);
    expect(outcome.closedWith).not.toBe('still open');
    // Two bodies' worth is drained; what else was sent sat in the two socket buffers.
    const bound = 2 * harness.config.maxBodyBytes;
    expect(outcome.bytesSent).toBeGreaterThan(bound);
    expect(outcome.bytesSent).toBeLessThan(bound + 64 * 1024 * 1024);
  });

  it('is cut once the lingering time is over, however slowly it sends', async () => {
    const { port } = await start('local', { API_KEYS: apiKey, LINGERING_TIME_MS: '500' });
    const outcome = await trickle(port);
    expect(outcome.received).toMatch(/^HTTP\/1\.1 401 /);
    expect(outcome.closedWith).not.toBe('still open');
    expect(outcome.ms).toBeGreaterThanOrEqual(450);
    expect(outcome.ms).toBeLessThan(3_000);
  });

  it('is still cut by the server request timeout, when that comes first', async () => {
    const { app, harness } = await start('local', {
      API_KEYS: apiKey,
      LINGERING_TIME_MS: '60000',
      REQUEST_TIMEOUT_MS: '1000',
      HEADERS_TIMEOUT_MS: '1000',
    });
    // The service's own server, whose request timeout is under test.
    const server = createHttpServer(app, harness.config.security);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    defer(() => close(server));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const outcome = await trickle(port);
    expect(outcome.received).toMatch(/^HTTP\/1\.1 401 /);
    expect(outcome.closedWith).not.toBe('still open');
    expect(outcome.ms).toBeLessThan(5_000);
  });
});
