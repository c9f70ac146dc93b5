import { describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createHttpServer } from '../../src/http/server.js';
import type { DirectUploadCreated } from '../../src/http/routes/direct-uploads.js';
import { LogCapture } from '../security/helpers.js';
import { drivers, fixture, type Driver } from '../support/requests.js';
import { newSigningAccount, signingClient } from '../support/signing.js';
import { close, listen, useCleanups, useHarnesses, type Harness } from './harness.js';

/**
 * Single requests that stopped or jammed the service (issue 19): each must get its answer
 * while the app goes on serving, and be logged as what it is.
 */

const account = newSigningAccount();
const image = fixture('photo.png');

interface Service {
  readonly harness: Harness;
  readonly base: string;
  readonly port: number;
  readonly log: LogCapture;
}

/** Everything the server sends on a connection until it closes it: status, headers, body. */
interface WireAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/**
 * Writes `head` and the first `body` part on a raw socket; `more()` writes the rest, and
 * `answer` resolves with what came back once the server closed the connection.
 */
function rawRequest(
  port: number,
  head: string,
  first: Buffer,
): { more(rest: Buffer): void; answer: Promise<WireAnswer> } {
  const socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  const answer = new Promise<WireAnswer>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => {
      const all = Buffer.concat(received);
      const end = all.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: all.subarray(end + 4) });
    });
  });
  socket.write(Buffer.concat([Buffer.from(head), first]));
  return { more: (rest) => void socket.write(rest), answer };
}

describe.each(drivers)('hostile uploads, %s driver', (driver: Driver) => {
  const harnessFor = useHarnesses();
  const defer = useCleanups();

  async function start(): Promise<Service> {
    const harness = await harnessFor(
      driver,
      { RATE_LIMIT: '0' },
      { storageClient: driver === 'gcs' ? signingClient(account) : undefined },
    );
    const log = new LogCapture();
    const app = createApp(harness.config, {
      store: harness.store,
      logger: log.logger,
      staging: harness.staging,
    });
    const { server, port } = await listen(app.callback());
    defer(() => close(server));
    return { harness, base: `http://127.0.0.1:${port}`, port, log };
  }

  async function alive(service: Service): Promise<void> {
    const response = await fetch(`${service.base}/v1/images`, {
      method: 'POST',
      headers: { 'Content-Type': 'image/png' },
      body: new Uint8Array(image),
    });
    expect(response.status).toBe(201);
  }

  if (driver === 'local') {
    it('a chunked resumable PUT past its Content-Range is answered 413, and the app lives on', async () => {
      const service = await start();
      const created = await fetch(`${service.base}/v1/uploads/direct`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ size: 1000, method: 'resumable' }),
      });
      const { url } = (await created.json()) as DirectUploadCreated;
      const target = new URL(url);
      // Chunked: no Content-Length to refuse before a byte is read; 200 bytes for a 100-byte range.
      const chunk = Buffer.alloc(200).toString('latin1');
      const put = rawRequest(
        service.port,
        `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          'Connection: close\r\nContent-Type: application/octet-stream\r\n' +
          'Content-Range: bytes 0-99/1000\r\nTransfer-Encoding: chunked\r\n\r\n',
        Buffer.from(`${(200).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`, 'latin1'),
      );
      const answer = await put.answer;
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body.toString())).toMatchObject({
        error: { code: 'upload_too_large' },
      });
      await alive(service);
    });
  }

  it('POST with X-HTTP-Method-Override: HEAD sends the body its Content-Length announces', async () => {
    const service = await start();
    const unknown = '/v1/uploads/0b0c3a5e-0a4f-4f0e-9a51-0a5c4bd1f7d1';
    const answer = await rawRequest(
      service.port,
      `POST ${unknown} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
        'Tus-Resumable: 1.0.0\r\nX-HTTP-Method-Override: HEAD\r\nContent-Length: 0\r\n\r\n',
      Buffer.alloc(0),
    ).answer;
    // Not honoured: a POST to an upload is not allowed, and its error body arrives whole.
    expect(answer.status).toBe(405);
    expect(answer.body.length).toBe(Number(answer.headers['content-length']));
    expect(JSON.parse(answer.body.toString())).toMatchObject({
      error: { code: 'method_not_allowed' },
    });
  });

  it('DELETE of a tus upload while its last chunk arrives: 404 or 409 for the chunk, at info', async () => {
    const service = await start();
    const created = await fetch(`${service.base}/v1/uploads`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(image.length) },
    });
    const at = new URL(created.headers.get('location')!).pathname;
    const half = Math.floor(image.length / 2);
    const patch = rawRequest(
      service.port,
      `PATCH ${at} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTus-Resumable: 1.0.0\r\n` +
        'Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n' +
        `Content-Length: ${image.length}\r\n\r\n`,
      image.subarray(0, half),
    );
    // The PATCH is writing its piece when the upload is terminated.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const deleted = await fetch(`${service.base}${at}`, {
      method: 'DELETE',
      headers: { 'Tus-Resumable': '1.0.0' },
    });
    expect(deleted.status).toBe(204);
    patch.more(image.subarray(half));
    const answer = await patch.answer;
    expect([404, 409]).toContain(answer.status);
    const levels = service.log.lines.map((line) => (JSON.parse(line) as { level: number }).level);
    // pino: 30 info, 40 warn, 50 error.
    expect(levels.filter((level) => level >= 40)).toEqual([]);
    expect(
      (
        await fetch(`${service.base}${at}`, {
          method: 'HEAD',
          headers: { 'Tus-Resumable': '1.0.0' },
        })
      ).status,
    ).toBe(404);
    await alive(service);
  });

  it('a body cut off by the request timeout is logged with the bytes that arrived', async () => {
    const service = await start();
    const config = loadConfig({ ...timeouts, STORAGE_DRIVER: 'local', UPLOAD_DIR: '/nonexistent' });
    const app = createApp(service.harness.config, {
      store: service.harness.store,
      logger: service.log.logger,
    });
    const server = createHttpServer(app, config.security);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    defer(() => close(server));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no port');
    // 300 of the 5000 bytes declared, then nothing: the request timeout ends it.
    const slow = rawRequest(
      address.port,
      'POST /v1/images HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n' +
        'Content-Length: 5000\r\n\r\n',
      image.subarray(0, 300),
    );
    await slow.answer.catch(() => undefined);
    await service.log.waitFor('"msg":"request"');
    const line = service.log.lines
      .map((text) => JSON.parse(text) as { msg: string; bytesIn?: number })
      .find((entry) => entry.msg === 'request');
    expect(line).toMatchObject({ bytesIn: 300 });
  });
});

/** The shortest timeouts config accepts, so the request timeout runs out within the test. */
const timeouts = { HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1000' };
