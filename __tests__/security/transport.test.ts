import { afterEach, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { createHttpServer } from '../../src/http/server.js';
import {
  drivers,
  expectRefused,
  fixture,
  jsonBody,
  makeApp,
  type AppUnderTest,
  type Env,
} from './helpers.js';

/**
 * The transport, over real sockets: trickling clients are cut off with 408 by the server's
 * own timeouts, uploads beyond the concurrency cap get 503 server_busy, and compressed or
 * oddly encoded bodies are refused with 415 before a byte is inflated.
 */

interface Running {
  readonly subject: AppUnderTest;
  readonly server: Server;
  readonly port: number;
}

async function listen(driver: 'local' | 'gcs', env: Env): Promise<Running> {
  const subject = await makeApp(driver, env);
  const server = createHttpServer(subject.app, subject.config.security);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { subject, server, port };
}

/** Everything the server sends on one connection until it closes it. */
function connectionTranscript(
  port: number,
  trickle: { first: string; then: () => string },
): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (received += data));
    socket.on('error', () => undefined);
    socket.write(trickle.first);
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(trickle.then());
    }, 50);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(received);
    });
  });
}

describe.each(drivers)('transport on the %s driver', (driver) => {
  let running: Running | undefined;
  afterEach(async () => {
    if (running !== undefined) {
      running.server.closeAllConnections();
      await new Promise((resolve) => running!.server.close(resolve));
      await running.subject.cleanup();
      running = undefined;
    }
  });

  it('cuts off a client trickling its headers (slowloris) with 408', async () => {
    running = await listen(driver, { HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '600' });
    let header = 0;
    const transcript = await connectionTranscript(running.port, {
      first: 'POST /v1/images HTTP/1.1\r\nHost: localhost\r\n',
      then: () => `X-Slow-${(header += 1)}: a\r\n`,
    });
    expect(transcript).toMatch(/^HTTP\/1\.1 408 /);
    expect(await running.subject.stored()).toEqual([]);
  });

  it('cuts off a client trickling its body with 408 and stores nothing', async () => {
    running = await listen(driver, {
      HEADERS_TIMEOUT_MS: '300',
      REQUEST_TIMEOUT_MS: '600',
      STREAMING_THRESHOLD_BYTES: '0',
    });
    const body = jsonBody(fixture('large.jpg'), 'image/jpeg');
    let sent = 8192;
    const transcript = await connectionTranscript(running.port, {
      first:
        'POST /v1/images HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, sent)}`,
      then: () => body.slice(sent, (sent += 16)),
    });
    expect(transcript).toMatch(/^HTTP\/1\.1 408 /);
    // The socket closes first; the handler then sees the aborted body and cleans up.
    await running.subject.log.waitFor('client went away');
    expect(await running.subject.stored()).toEqual([]);
  });

  it('answers 503 server_busy with Retry-After beyond MAX_CONCURRENT_UPLOADS', async () => {
    running = await listen(driver, { MAX_CONCURRENT_UPLOADS: '1' });
    const { port, subject } = running;
    const body = jsonBody(fixture('photo.png'));

    // Upload A: headers and half its body, then it waits, holding the only slot.
    const held = net.connect(port, '127.0.0.1');
    let heldResponse = '';
    held.setEncoding('latin1');
    held.on('data', (data: string) => (heldResponse += data));
    const heldClosed = new Promise((resolve) => held.on('close', resolve));
    held.write(
      'POST /v1/images HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 100)}`,
    );

    // Until A is being handled, a probe that stores nothing gets 422; then 503.
    const url = `http://127.0.0.1:${port}/v1/images`;
    let probe: Response;
    do {
      probe = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
    } while (probe.status === 422);
    expect(probe.status).toBe(503);

    const busy = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(await busy.json()).toMatchObject({ error: { code: 'server_busy' } });
    expect(await subject.stored()).toEqual([]);

    // A finishes and is stored; its slot is free again.
    held.write(body.slice(100));
    await heldClosed;
    expect(heldResponse).toMatch(/^HTTP\/1\.1 201 /);
    const after = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    expect(after.status).toBe(201);
    expect(await subject.stored()).toHaveLength(2);
  });
});

describe.each(drivers)('Content-Encoding on the %s driver', (driver) => {
  let subject: AppUnderTest | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  // 50 MB of zeros inside a valid JSON string compress to about 50 KB.
  const bomb = gzipSync(
    Buffer.concat([
      Buffer.from('{"data":"data:image/png;base64,'),
      Buffer.alloc(50 * 1024 * 1024, 0x41),
      Buffer.from('"}'),
    ]),
  );

  it.each([
    ['a gzip bomb', 'gzip', bomb],
    ['deflate', 'deflate', bomb],
    ['brotli', 'br', bomb],
    ['an unknown encoding', 'x-evil', Buffer.from(jsonBody(fixture('photo.png')))],
    ['a list of encodings', 'gzip, identity', bomb],
  ])('refuses %s with 415, never 500', async (_name, encoding, body) => {
    subject = await makeApp(driver);
    const response = await subject.postBytes(
      '/v1/images',
      { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
      body,
    );
    await expectRefused(response, 415, 'unsupported_media_type', subject);
  });

  it('accepts an explicit identity encoding', async () => {
    subject = await makeApp(driver);
    const response = await request(subject.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'identity')
      .send(jsonBody(fixture('photo.png')));
    expect(response.status).toBe(201);
  });
});
