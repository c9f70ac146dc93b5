import { describe, expect, it } from '@jest/globals';
import { readdir, readlink } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { createApp } from '../../src/http/app.js';
import { createHttpServer } from '../../src/http/server.js';
import type { DirectUploadCreated } from '../../src/http/routes/direct-uploads.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { parseUploadRecord } from '../../src/uploads/upload-record.js';
import { localLeftovers } from '../support/local-upload-dir.js';
import { drivers, fixture, jsonBody, multipartFile, type Driver } from '../support/requests.js';
import { newSigningAccount, signingClient } from '../support/signing.js';
import {
  close,
  eventually,
  silentLogger,
  useCleanups,
  useHarnesses,
  type Harness,
} from './harness.js';
import { tusStaging } from '../uploads/tus-client.js';

/**
 * Clients that leave at every step of every request that carries a body: real sockets send a
 * real request's headers, then close after them, halfway through the body, or once the whole
 * body is sent without reading the answer (the client that "sends and closes at once", whose
 * socket closes while the route waits on the store), or send half the body and stall until the
 * server's request timeout cuts them off. After each, the app must still answer,
 * hold no upload slot (the image_ingest_upload_slots_in_use gauge), hold no more open files than
 * before (/proc/self/fd, sockets aside: server connections are counted apart), and keep on disk
 * only what a live upload keeps (a tus upload's committed pieces, a resumable session's bytes).
 */

const account = newSigningAccount();
const image = fixture('photo.png');

/** How the client leaves. */
const steps = ['after-headers', 'mid-body', 'after-body', 'after-body-reset', 'stalled'] as const;
type Step = (typeof steps)[number];

/** One request on the wire: the head's lines and the body. */
interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

interface Service {
  readonly harness: Harness;
  readonly base: string;
  readonly port: number;
  readonly server: Server;
  readonly metrics: Metrics;
}

/** A route that takes a body: how to make a request to it (setting up what it needs first). */
interface BodyRoute {
  readonly name: string;
  /** The local driver's own upload targets exist on that driver only. */
  readonly localOnly?: boolean;
  request(service: Service): RawRequest | Promise<RawRequest>;
}

async function createDirect(
  service: Service,
  method: 'put' | 'resumable',
): Promise<DirectUploadCreated> {
  const response = await fetch(`${service.base}/v1/uploads/direct`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ size: image.length, method, type: 'image/png' }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as DirectUploadCreated;
}

async function createTus(service: Service): Promise<string> {
  const response = await fetch(`${service.base}/v1/uploads`, {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(image.length) },
  });
  expect(response.status).toBe(201);
  return new URL(response.headers.get('location')!).pathname;
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

function jsonRequest(urlPath: string): RawRequest {
  return {
    method: 'POST',
    path: urlPath,
    headers: { 'Content-Type': 'application/json' },
    body: Buffer.from(jsonBody(image)),
  };
}

function multipartRequest(urlPath: string): RawRequest {
  const { contentType, body } = multipartFile(image);
  return { method: 'POST', path: urlPath, headers: { 'Content-Type': contentType }, body };
}

const routes: readonly BodyRoute[] = [
  { name: 'POST /v1/images (JSON)', request: () => jsonRequest('/v1/images') },
  { name: 'POST /v1/images (multipart)', request: () => multipartRequest('/v1/images') },
  {
    name: 'POST /v1/images (raw)',
    request: () => ({
      method: 'POST',
      path: '/v1/images',
      headers: { 'Content-Type': 'image/png' },
      body: image,
    }),
  },
  { name: 'POST /v1/upload/image (compat)', request: () => jsonRequest('/v1/upload/image') },
  { name: 'POST /v1/upload/files (compat)', request: () => multipartRequest('/v1/upload/files') },
  {
    name: 'tus POST /v1/uploads (creation-with-upload)',
    request: () => ({
      method: 'POST',
      path: '/v1/uploads',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(image.length),
        'Content-Type': 'application/offset+octet-stream',
      },
      body: image,
    }),
  },
  {
    name: 'tus PATCH /v1/uploads/:id',
    request: async (service) => ({
      method: 'PATCH',
      path: await createTus(service),
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
      },
      body: image,
    }),
  },
  {
    name: 'direct PUT (signed local target)',
    localOnly: true,
    request: async (service) => ({
      method: 'PUT',
      path: pathOf((await createDirect(service, 'put')).url),
      headers: { 'Content-Type': 'image/png' },
      body: image,
    }),
  },
  {
    name: 'direct resumable PUT',
    localOnly: true,
    request: async (service) => ({
      method: 'PUT',
      path: pathOf((await createDirect(service, 'resumable')).url),
      headers: { 'Content-Range': `bytes 0-${image.length - 1}/${image.length}` },
      body: image,
    }),
  },
  {
    name: 'POST /v1/uploads/:id/complete',
    request: async (service) => {
      const created = await createDirect(service, 'put');
      const put = await fetch(created.url, {
        method: 'PUT',
        headers: { 'Content-Type': 'image/png', ...created.headers },
        body: new Uint8Array(image),
      });
      expect(put.status).toBe(200);
      // Its body is empty; the staged bytes are what the route reads.
      return {
        method: 'POST',
        path: pathOf(created.completeUrl),
        headers: {},
        body: Buffer.alloc(0),
      };
    },
  },
];

/** Sends `request` over a raw socket and leaves at `step`; resolves once the socket is closed. */
async function sendAndLeave(port: number, request: RawRequest, step: Step): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  // The server may reset a connection it has given up on; that is not this client's failure.
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const head =
    `${request.method} ${request.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    Object.entries({ ...request.headers, 'Content-Length': String(request.body.length) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  const sent =
    step === 'after-headers'
      ? Buffer.alloc(0)
      : step === 'mid-body' || step === 'stalled'
        ? request.body.subarray(0, Math.floor(request.body.length / 2))
        : request.body;
  await new Promise<void>((resolve) =>
    socket.write(Buffer.concat([Buffer.from(head), sent]), () => resolve()),
  );
  // The server starts on what arrived (the headers, a store lookup) before the client goes.
  await new Promise((resolve) => setTimeout(resolve, step === 'mid-body' ? 20 : 0));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  // Half a body, then nothing: the server's request timeout answers 408 and half-closes
  // (lingering, see closeLingering), and the client, its answer read, closes too.
  if (step === 'stalled') {
    socket.once('end', () => socket.destroy());
    socket.resume();
    await closed;
  } else if (step === 'after-body-reset') socket.resetAndDestroy();
  else socket.destroy();
  await closed;
}

/** Open descriptors of this process that are not sockets (files, pipes of our own making). */
async function openFiles(): Promise<string[]> {
  const targets = await Promise.all(
    (await readdir('/proc/self/fd')).map((fd) =>
      readlink(`/proc/self/fd/${fd}`).catch(() => undefined),
    ),
  );
  return targets
    .filter((target): target is string => target !== undefined && !target.startsWith('socket:'))
    .sort();
}

async function slotsInUse(metrics: Metrics): Promise<number> {
  const { values } = await metrics.uploadSlotsInUse.get();
  return values[0]?.value ?? 0;
}

/** Connections still open once idle keep-alive ones (the set-up's fetch) are closed. */
async function connections(server: Server): Promise<number> {
  server.closeIdleConnections();
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

/**
 * What is on disk (or in the bucket) that no live upload accounts for: the local store's temp
 * files and orphaned sidecars, decode spool files, staging temp files, a direct PUT's temp
 * files, and tus pieces that the upload's record does not name.
 */
async function leftovers(harness: Harness): Promise<string[]> {
  const found = await harness.leftovers();
  const tus = tusStaging(harness);
  const names = harness.driver === 'gcs' ? await harness.storedNames() : [];
  for await (const id of tus.records.listIds()) {
    const read = await tus.records.read(id);
    const record = read === undefined ? undefined : parseUploadRecord(read.record, id);
    // The pieces, and the raw bytes the walk held at the last PATCH's end (its tail piece).
    const recorded = new Set(
      record === undefined
        ? []
        : [...record.pieces, record.arrival?.tailPiece]
            .filter((piece) => piece !== undefined)
            .map((piece) => piece.name),
    );
    const pieces =
      harness.driver === 'local'
        ? (await readdir(path.join(stagingFolder(harness), 'tus', id)).catch(() => []))
            .filter((entry) => entry.startsWith('piece.'))
            .map((entry) => entry.slice('piece.'.length))
        : names
            .filter((name) => name.startsWith(`${harness.config.staging.prefix}tus/${id}/`))
            .map((name) => name.split('/').at(-1)!)
            .filter((name) => name !== 'upload.json')
            .map((name) => name.slice(0, name.lastIndexOf('.')));
    found.push(
      ...pieces.filter((piece) => !recorded.has(piece)).map((piece) => `tus/${id}/${piece}`),
    );
  }
  if (harness.driver === 'local') {
    const staging = stagingFolder(harness);
    for (const id of await readdir(path.join(staging, 'direct')).catch(() => [])) {
      const entries = await readdir(path.join(staging, 'direct', id)).catch(() => []);
      found.push(
        ...entries
          .filter((entry) => entry.startsWith('put-'))
          .map((entry) => `direct/${id}/${entry}`),
      );
    }
    for (const kind of ['tus', 'direct']) {
      const incoming = await readdir(path.join(staging, kind, '.incoming')).catch(() => []);
      found.push(...incoming.map((entry) => `${kind}/.incoming/${entry}`));
    }
    found.push(...(await localLeftovers(uploadDirOf(harness))));
  }
  return [...new Set(found)].sort();
}

function uploadDirOf(harness: Harness): string {
  const { storage } = harness.config;
  if (storage.driver !== 'local') throw new Error('only the local driver has an upload folder');
  return storage.uploadDir;
}

function stagingFolder(harness: Harness): string {
  return path.join(uploadDirOf(harness), '.staging');
}

describe.each(drivers)('clients that leave at every step, %s driver', (driver: Driver) => {
  const harnessFor = useHarnesses();
  const defer = useCleanups();

  async function start(): Promise<Service> {
    const harness = await harnessFor(
      driver,
      // Every request may use the slots; the rate limit is not what is tested here.
      {
        RATE_LIMIT: '0',
        IMAGE_VALIDATION: 'decode',
        STREAMING_THRESHOLD_BYTES: '65536',
        // Short, so that a stalled body is cut off within the test.
        HEADERS_TIMEOUT_MS: '500',
        REQUEST_TIMEOUT_MS: '1000',
      },
      { storageClient: driver === 'gcs' ? signingClient(account) : undefined },
    );
    const metrics = createMetrics({ processMetrics: false });
    const app = createApp(harness.config, {
      store: harness.store,
      logger: silentLogger,
      staging: harness.staging,
      metrics,
    });
    // The service's own server, with its timeouts.
    const server = createHttpServer(app, harness.config.security);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no port');
    const { port } = address;
    defer(() => close(server));
    return { harness, base: `http://127.0.0.1:${port}`, port, server, metrics };
  }

  const cases = routes
    .filter((route) => driver === 'local' || route.localOnly !== true)
    .flatMap((route) => steps.map((step) => [route.name, step, route] as const));

  it.each(cases)('%s, the client leaving %s, releases all it held', async (_name, step, route) => {
    const service = await start();
    // Warm up: the first request of a kind loads modules and opens what stays open (pools).
    await sendAndLeave(service.port, await route.request(service), 'after-body');
    await eventually(() => slotsInUse(service.metrics), 0);
    await eventually(() => connections(service.server), 0);
    const filesBefore = await eventually(openFiles, await openFiles());

    // Several at once, as a client that retries at once would: each one's slot must come back.
    const requests = await Promise.all([1, 2, 3, 4].map(async () => route.request(service)));
    await Promise.all(requests.map((request) => sendAndLeave(service.port, request, step)));

    expect(await eventually(() => connections(service.server), 0)).toBe(0);
    expect(await eventually(() => slotsInUse(service.metrics), 0)).toBe(0);
    expect(await eventually(openFiles, filesBefore)).toEqual(filesBefore);
    expect(await eventually(() => leftovers(service.harness), [])).toEqual([]);
    // Alive, and not jammed: an upload afterwards is stored.
    const after = await fetch(`${service.base}/v1/images`, {
      method: 'POST',
      headers: { 'Content-Type': 'image/png' },
      body: new Uint8Array(image),
    });
    expect(after.status).toBe(201);
  });
});
