import { afterEach, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { createHttpServer } from '../../src/http/server.js';
import { makeApp, type AppUnderTest } from '../security/helpers.js';
import { openUnder, pipeline, until } from '../support/pipelined-clients.js';

/**
 * What a served file (/uploads/<name>, local driver) holds while a connection lasts, over real
 * sockets: a client that pipelines many GETs and leaves, or one that stops reading. Either must
 * cost the service one open file at most, released when the connection ends; before, every
 * pipelined request held its own until the garbage collector closed it and Node killed the
 * process (`A FileHandle object was closed during garbage collection`).
 */

/** Larger than every buffer between the file and the client, so its answer cannot finish alone. */
const large = randomBytes(16 * 1024 * 1024);

interface Served {
  readonly subject: AppUnderTest;
  readonly server: http.Server;
  readonly port: number;
  readonly uploadDir: string;
  readonly name: string;
  /** Requests the server has parsed so far. */
  requests(): number;
  /** Connections the server has seen close so far. */
  closed(): number;
}

async function serve(env: Record<string, string> = {}): Promise<Served> {
  const subject = await makeApp('local', env);
  const { storage } = subject.config;
  if (storage.driver !== 'local') throw new Error('the local driver serves /uploads');
  // Stored as the service names its objects; the route serves whatever bytes are there.
  const name = `${randomUUID()}.png`;
  await writeFile(path.join(storage.uploadDir, name), large);
  const server = createHttpServer(subject.app, subject.config.security);
  let requests = 0;
  let closed = 0;
  server.on('request', () => (requests += 1));
  server.on('connection', (socket: Socket) => socket.on('close', () => (closed += 1)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    subject,
    server,
    port,
    uploadDir: storage.uploadDir,
    name,
    requests: () => requests,
    closed: () => closed,
  };
}

const get = (name: string, method = 'GET'): string =>
  `${method} /uploads/${name} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

let served: Served | undefined;
afterEach(async () => {
  served?.server.closeAllConnections();
  served?.server.close();
  await served?.subject.cleanup();
  served = undefined;
});

describe('served files and their connections', () => {
  it.each([
    ['GET', 20],
    ['GET', 200],
    ['HEAD', 20],
  ])(
    'pipelined %ss (%i) hold one file at a time and none once the client leaves',
    async (method, count) => {
      served = await serve();
      const { name, uploadDir } = served;
      const before = await openUnder(uploadDir);
      // The first answer first, so it holds its file while the others are parsed behind it.
      const client = await pipeline(served.port, [
        get(name),
        ...Array.from({ length: count - 1 }, () => get(name, method)),
      ]);
      await until('every request parsed', () => served!.requests() === count);
      await until(
        'the first answer holds its file',
        async () => (await openUnder(uploadDir)) > before,
      );
      // Every handler has had its turn at the event loop; only the first may hold a file.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await openUnder(uploadDir)) - before).toBe(1);

      client.destroy();
      await until('the server saw the connection close', () => served!.closed() === 1);
      await until('no file left open', async () => (await openUnder(uploadDir)) === before);
      // The requests that never had their turn end as clients gone away, not as failures.
      expect(served.subject.log.text()).not.toContain('"level":50');
      expect(served.subject.log.text()).toContain('client_closed_request');
      // Still serving.
      const fresh = await fetch(`http://127.0.0.1:${served.port}/uploads/${name}`, {
        method: 'HEAD',
      });
      expect(fresh.status).toBe(200);
    },
  );

  it('cuts a client that stops reading after SEND_TIMEOUT_MS, releasing its file', async () => {
    served = await serve({ SEND_TIMEOUT_MS: '300' });
    const { name, uploadDir } = served;
    const before = await openUnder(uploadDir);
    const client = await pipeline(served.port, [get(name), get(name)]);
    await until('the answer holds its file', async () => (await openUnder(uploadDir)) > before);
    // The client never reads; the server gives up on it and closes what it held.
    await until('the server cut the connection', () => served!.closed() === 1);
    await until('no file left open', async () => (await openUnder(uploadDir)) === before);
    client.destroy();
  });

  it('holds at most MAX_SERVED_FILES files; the next waits, holding none, for a place', async () => {
    served = await serve({ MAX_SERVED_FILES: '2' });
    const { name, uploadDir } = served;
    const before = await openUnder(uploadDir);
    // Clients that read the first bytes of their answer, then stop.
    const clients: Socket[] = [];
    const answered = new Set<Socket>();
    for (let i = 0; i < 4; i += 1) {
      const client = await pipeline(served.port, [get(name)]);
      client.once('data', () => {
        answered.add(client);
        client.pause();
      });
      client.resume();
      clients.push(client);
    }
    await until('four requests parsed', () => served!.requests() === 4);
    await until(
      'two answers hold their files',
      async () => (await openUnder(uploadDir)) === before + 2,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await openUnder(uploadDir)) - before).toBe(2);
    expect(clients.map((client) => answered.has(client))).toEqual([true, true, false, false]);
    // The first two leave: their places go to the two that waited.
    clients[0]!.destroy();
    clients[1]!.destroy();
    await until('the server saw two connections close', () => served!.closed() === 2);
    await until(
      'the waiting two are answered',
      () => answered.has(clients[2]!) && answered.has(clients[3]!),
    );
    expect((await openUnder(uploadDir)) - before).toBeLessThanOrEqual(2);
    for (const client of clients) client.destroy();
    await until('the server saw every connection close', () => served!.closed() === 4);
    await until('no file left open', async () => (await openUnder(uploadDir)) === before);
    // Every place was given back.
    const fresh = await fetch(`http://127.0.0.1:${served.port}/uploads/${name}`);
    expect(fresh.status).toBe(200);
    expect(Buffer.from(await fresh.arrayBuffer()).equals(large)).toBe(true);
    const again = await fetch(`http://127.0.0.1:${served.port}/uploads/${name}`, {
      method: 'HEAD',
    });
    expect(again.status).toBe(200);
  });

  it('sends a client that reads the whole file however slowly it starts', async () => {
    served = await serve({ SEND_TIMEOUT_MS: '60000' });
    const response = await fetch(`http://127.0.0.1:${served.port}/uploads/${served.name}`);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(large)).toBe(true);
    await until('no file left open', async () => (await openUnder(served!.uploadDir)) === 0);
  });
});
