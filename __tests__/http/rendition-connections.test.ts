import { afterEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { createHttpServer } from '../../src/http/server.js';
import { renditionPath, signRendition } from '../../src/renditions/rendition-signing.js';
import { makeApp, type AppUnderTest } from '../security/helpers.js';
import { openUnder, pipeline, until } from '../support/pipelined-clients.js';
import { fixture, jsonBody } from '../support/requests.js';

/**
 * What a stored rendition (GET /v1/images/{id}/render, local driver) holds while a connection
 * lasts, over real sockets: a client that pipelines many GETs of it and leaves must cost one
 * open file at most, released when the connection ends. Before, every pipelined request opened
 * the rendition as soon as its handler ran, and the ones queued behind the first were never
 * cleaned up: the garbage collector closed their FileHandles and Node killed the process.
 */

const key = 'a-rendition-signing-key-of-32-bytes-at-least';

/** Larger than every buffer between the file and the client, so its answer cannot finish alone. */
const large = randomBytes(16 * 1024 * 1024);

let subject: AppUnderTest | undefined;
let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  await subject?.cleanup();
  subject = undefined;
  server = undefined;
});

/**
 * A real server over the app (local driver), with the large JPEG uploaded: the server, its
 * origin, and the signed path of one rendition of that image.
 */
async function serveUploaded(
  app: AppUnderTest,
  params: ReadonlyMap<string, string>,
): Promise<{ running: http.Server; origin: string; url: string }> {
  const running = createHttpServer(app.app, app.config.security);
  server = running;
  await new Promise<void>((resolve) => running.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(running.address() as AddressInfo).port}`;
  const uploaded = await fetch(`${origin}/v1/images`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: jsonBody(fixture('large.jpg'), 'image/jpeg'),
  });
  expect(uploaded.status).toBe(201);
  const { id } = (await uploaded.json()) as { id: string };
  const query = new URLSearchParams([...params]);
  query.set('sig', signRendition(renditionPath(id), params, key));
  return { running, origin, url: `${renditionPath(id)}?${query.toString()}` };
}

describe('stored renditions and their connections', () => {
  it('are served without a listener warning per answer', async () => {
    subject = await makeApp('local', { RENDER_SIGNING_KEYS: key });
    const { running, origin, url } = await serveUploaded(subject, new Map([['w', '64']]));
    // Node warns (an Error, its stack, a line on stderr) once an emitter has more listeners
    // for one event than its limit: every answer that did so paid for it.
    const over: string[] = [];
    running.on('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
      response.on('newListener', (event: string) => {
        if (response.listenerCount(event) + 1 > response.getMaxListeners()) over.push(event);
      });
    });
    // The first renders (a Buffer body), the others are streamed from the store.
    for (let i = 0; i < 3; i++) {
      const answer = await fetch(`${origin}${url}`);
      expect(answer.status).toBe(200);
      await answer.arrayBuffer();
    }
    expect(over).toEqual([]);
  });

  it('pipelined GETs (200) hold one file at a time and none once the client leaves', async () => {
    subject = await makeApp('local', { RENDER_SIGNING_KEYS: key });
    const { storage } = subject.config;
    if (storage.driver !== 'local') throw new Error('the local driver stores files on disk');
    const { uploadDir } = storage;
    const { running, origin, url } = await serveUploaded(
      subject,
      new Map([
        ['w', '1600'],
        ['format', 'png'],
      ]),
    );
    let requests = 0;
    let closed = 0;
    running.on('request', () => (requests += 1));
    running.on('connection', (socket: Socket) => socket.on('close', () => (closed += 1)));

    // Rendered once, and so stored.
    const first = await fetch(`${origin}${url}`);
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const stored = (await readdir(uploadDir)).filter((name) => /\.r-[0-9a-f]{24}\.png$/.test(name));
    expect(stored).toHaveLength(1);
    // The route serves whatever bytes are stored under the rendition's name, at the file's size:
    // made larger than the buffers, the first answer holds its file while the rest queue.
    await writeFile(path.join(uploadDir, stored[0]!), large);
    const served = await fetch(`${origin}${url}`);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(large)).toBe(true);
    await until('no file left open', async () => (await openUnder(uploadDir)) === 0);

    const before = await openUnder(uploadDir);
    const count = 200;
    const asked = requests;
    const get = `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const client = await pipeline(
      (running.address() as AddressInfo).port,
      Array.from({ length: count }, () => get),
    );
    await until('every request parsed', () => requests === asked + count);
    await until(
      'the first answer holds its file',
      async () => (await openUnder(uploadDir)) > before,
    );
    // Every handler has had its turn at the event loop; only the first may hold a file.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await openUnder(uploadDir)) - before).toBe(1);

    const closedBefore = closed;
    client.destroy();
    await until('the server saw the connection close', () => closed === closedBefore + 1);
    await until('no file left open', async () => (await openUnder(uploadDir)) === before);
    // The requests that never had their turn end as clients gone away, not as failures.
    expect(subject.log.text()).not.toContain('"level":50');
    expect(subject.log.text()).toContain('client_closed_request');
    // Still serving.
    const fresh = await fetch(`${origin}${url}`);
    expect(fresh.status).toBe(200);
    expect(Buffer.from(await fresh.arrayBuffer()).equals(large)).toBe(true);
  });
});
