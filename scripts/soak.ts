// Soak test: the built service (dist/index.js) on its own fake-gcs-server, under mixed valid,
// invalid and aborted uploads at high concurrency for a while. Reports requests served,
// answers by status and error code, latency percentiles, and the service's RSS and open file
// descriptors over time. Clients that leave (8% of requests) pick a body-taking route (JSON,
// raw, tus creation-with-upload, tus PATCH) and close or reset after a random part of it, from
// none of the body to all of it. Fails (exit 1) when a valid upload is lost or corrupted, any
// 5xx other than 503 appears, an invalid upload gets anything but its expected error, an
// aborted upload leaves an object, memory keeps growing, or at the end the service is dead,
// holds an upload slot, counted an uncaught error, or holds more files open than once warm.
//
//   npm run soak                      # 3 minutes, 32 concurrent clients
//   npm run soak -- --seconds 20      # the short CI variant
//   npm run soak -- --seconds 600 --concurrency 64
//
// Runs with Node's built-in type stripping (no build step for the script itself).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
// Node runs this file directly, so the shared helper is imported by its .ts name.
import { freePort } from '../__tests__/support/emulator.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '180' },
    concurrency: { type: 'string', default: '32' },
    // Aborted uploads happen during the run (8% of requests); if fewer than this, more are
    // made at the end, so even the short CI run checks a thousand.
    'min-aborts': { type: 'string', default: '1000' },
  },
});
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
const minAborts = Number(args['min-aborts']);

function fixture(name: string): Buffer {
  return readFileSync(path.join(root, '__tests__/fixtures', name));
}
function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}
function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
function dataUriBody(type: string, bytes: Buffer): string {
  return JSON.stringify({ data: `data:${type};base64,${bytes.toString('base64')}` });
}

interface Valid {
  readonly kind: 'valid';
  readonly label: string;
  readonly body: string;
  readonly sha256: string;
  readonly md5: string;
}
interface Invalid {
  readonly kind: 'invalid';
  readonly label: string;
  readonly body: string;
  readonly status: number;
  readonly code: string;
}
type Case = Valid | Invalid;

// The service stores an image less its location and personal metadata (IMAGE_METADATA=strip,
// the default): what it answers and stores is what its own stripper (from dist/) makes of it.
const { stripImage } = (await import(
  new URL('../dist/images/formats/index.js', import.meta.url).href
)) as typeof import('../src/images/formats/index.ts');

const valid = (label: string, type: string, file: string): Valid => {
  const bytes = fixture(file);
  // MAX_IMAGE_PIXELS' default, as the service under soak runs.
  const stored = stripImage(bytes, type as Parameters<typeof stripImage>[1], 100_000_000);
  return {
    kind: 'valid',
    label,
    body: dataUriBody(type, bytes),
    sha256: sha256(stored),
    md5: md5(stored),
  };
};
const invalid = (label: string, body: string, status: number, code: string): Invalid => ({
  kind: 'invalid',
  label,
  body,
  status,
  code,
});

// Weighted: mostly small valid images, some large ones, a fair share of every bad input.
const cases: Case[] = [
  valid('png', 'image/png', 'photo.png'),
  valid('png', 'image/png', 'photo.png'),
  valid('jpg', 'image/jpeg', 'photo.jpg'),
  valid('jpg', 'image/jpeg', 'photo.jpg'),
  valid('gif', 'image/gif', 'anim.gif'),
  valid('webp', 'image/webp', 'photo.webp'),
  valid('avif', 'image/avif', 'photo.avif'),
  valid('large-jpg', 'image/jpeg', 'large.jpg'),
  invalid('text', dataUriBody('image/png', fixture('text.txt')), 415, 'unsupported_image_type'),
  invalid(
    'svg',
    dataUriBody('image/svg+xml', fixture('script.svg')),
    415,
    'unsupported_image_type',
  ),
  invalid(
    'bad-base64',
    JSON.stringify({ data: 'data:image/png;base64,iVBOR*w0KGgo=' }),
    400,
    'invalid_base64',
  ),
  invalid('empty', JSON.stringify({ data: 'data:image/png;base64,' }), 400, 'empty_image'),
  invalid('missing-data', JSON.stringify({ image: 'x' }), 422, 'missing_data'),
  invalid('bad-json', '{"data": "data:image/png;base64,AAAA', 400, 'invalid_json'),
  invalid(
    'not-data-uri',
    JSON.stringify({ data: 'https://example.com/a.png' }),
    400,
    'invalid_data_uri',
  ),
];
const abortBody = Buffer.from(cases.find((c) => c.label === 'large-jpg')!.body);

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? 0 : Math.round(Number(match[1]) / 1024);
}
function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** A request as it goes on the wire, for a client that leaves partway. */
interface WireRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

const tusHeaders = { 'Tus-Resumable': '1.0.0', 'Content-Type': 'application/offset+octet-stream' };
const jpeg = fixture('large.jpg');

/** The requests that take a body, one picked at random for each client that leaves. */
const abortable: readonly ((base: string) => WireRequest | Promise<WireRequest>)[] = [
  () => ({
    method: 'POST',
    path: '/v1/images',
    headers: { 'Content-Type': 'application/json' },
    body: abortBody,
  }),
  () => ({
    method: 'POST',
    path: '/v1/images',
    headers: { 'Content-Type': 'image/jpeg' },
    body: jpeg,
  }),
  () => ({
    method: 'POST',
    path: '/v1/uploads',
    headers: { ...tusHeaders, 'Upload-Length': String(jpeg.length) },
    body: jpeg,
  }),
  async (base) => {
    const created = await fetch(`${base}/v1/uploads`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(jpeg.length) },
    });
    await created.arrayBuffer();
    return {
      method: 'PATCH',
      path: new URL(created.headers.get('location')!).pathname,
      headers: { ...tusHeaders, 'Upload-Offset': '0' },
      body: jpeg,
    };
  },
];

/**
 * A client that vanishes: a random body-taking request, sent up to a random point (nothing of
 * the body, part of it, or all of it without waiting for the answer), then closed (FIN) or
 * reset (RST).
 */
async function abortedUpload(port: number): Promise<void> {
  const pick = abortable[Math.floor(Math.random() * abortable.length)]!;
  let request: WireRequest;
  try {
    request = await pick(`http://127.0.0.1:${port}`);
  } catch {
    return;
  }
  // A whole body is a finished upload, which may be stored: only for a PATCH, whose upload
  // tells (HEAD) which image it became, so that the bucket check knows it.
  const whole = request.method === 'PATCH' && Math.random() < 0.5;
  if (whole) finishedByLeavers.push(request.path);
  const cut = whole ? request.body.length : Math.floor(Math.random() * request.body.length);
  const head =
    `${request.method} ${request.path} HTTP/1.1\r\nHost: soak\r\n` +
    Object.entries({ ...request.headers, 'Content-Length': String(request.body.length) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      socket.write(request.body.subarray(0, cut), () =>
        setImmediate(() => {
          if (Math.random() < 0.5) socket.resetAndDestroy();
          else socket.destroy();
          resolve();
        }),
      );
    });
    socket.on('error', () => resolve());
  });
}

/** tus uploads whose clients sent the last byte and left without the answer. */
const finishedByLeavers: string[] = [];

/** Open descriptors of `pid` that are not sockets (files: staged pieces, spool, temp files). */
function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return !readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
}

/** A metric's value (summed over its labels) from the service's GET /metrics. */
async function metricValue(serviceUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

async function main(): Promise<number> {
  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const emulator = spawn(
    path.join(root, '.tools/bin/fake-gcs-server'),
    [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(emulatorPort),
      '-backend',
      'memory',
      '-public-host',
      `127.0.0.1:${emulatorPort}`,
      '-external-url',
      emulatorUrl,
      '-log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  const children: ChildProcess[] = [emulator];
  const killAll = (): void => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  await waitFor(`${emulatorUrl}/storage/v1/b`, emulator);
  const bucket = `soak-${randomUUID()}`;
  await fetch(`${emulatorUrl}/storage/v1/b?project=soak`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: bucket }),
  }).then((response) => response.arrayBuffer());

  const port = await freePort();
  const service = spawn(path.join(root, 'node_modules/.bin/node'), ['dist/index.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      STORAGE_DRIVER: 'gcs',
      GCS_BUCKET: bucket,
      GCS_PROJECT_ID: 'soak',
      GCS_API_ENDPOINT: emulatorUrl,
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '10000',
      // High concurrency from one address is the point of a soak, not abuse to throttle.
      RATE_LIMIT: '0',
      MAX_CONCURRENT_UPLOADS: '1000',
      // Clients that leave tus uploads behind, all from this one address.
      MAX_OPEN_UPLOADS_PER_CALLER: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(service);
  const serviceUrl = `http://127.0.0.1:${port}`;
  await waitFor(`${serviceUrl}/readyz`, service);
  const pid = service.pid!;

  const counts = new Map<string, number>();
  const count = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
  const failures: string[] = [];
  const fail = (message: string): void => {
    if (failures.length < 20) failures.push(message);
    count('FAILURE');
  };
  const latencies: number[] = [];
  const stored = new Map<string, Valid>();
  let served = 0;
  let aborted = 0;

  const samples: { t: number; rssMiB: number; fds: number; files: number }[] = [];
  const started = Date.now();
  const endAt = started + seconds * 1000;
  const sampler = setInterval(() => {
    samples.push({
      t: Math.round((Date.now() - started) / 1000),
      rssMiB: rssMiB(pid),
      fds: openFds(pid),
      files: openFiles(pid),
    });
  }, 1000);

  async function client(): Promise<void> {
    while (Date.now() < endAt) {
      if (Math.random() < 0.08) {
        await abortedUpload(port);
        aborted += 1;
        continue;
      }
      const chosen = cases[Math.floor(Math.random() * cases.length)]!;
      const t0 = performance.now();
      let status: number;
      let body: { name?: string; sha256?: string; error?: { code?: string } };
      try {
        const response = await fetch(`${serviceUrl}/v1/images`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: chosen.body,
        });
        status = response.status;
        body = (await response.json()) as typeof body;
      } catch (error) {
        fail(`${chosen.label}: request failed: ${String(error)}`);
        continue;
      }
      served += 1;
      if (chosen.kind === 'valid') latencies.push(performance.now() - t0);
      const code = body.error?.code;
      count(`${status}${code === undefined ? '' : ` ${code}`}`);
      if (status >= 500 && status !== 503) fail(`${chosen.label}: ${status} ${code}`);
      if (chosen.kind === 'valid') {
        if (status === 201) {
          if (body.sha256 !== chosen.sha256) fail(`${chosen.label}: wrong sha256 in answer`);
          stored.set(body.name!, chosen);
        } else if (status !== 503) {
          fail(`${chosen.label}: valid upload got ${status} ${code}`);
        }
      } else if (status !== chosen.status || code !== chosen.code) {
        fail(`${chosen.label}: expected ${chosen.status} ${chosen.code}, got ${status} ${code}`);
      }
    }
  }

  console.log(`soak: ${seconds}s, ${concurrency} concurrent clients, service pid ${pid}`);
  await Promise.all(Array.from({ length: concurrency }, () => client()));
  const abortMore = async (): Promise<void> => {
    while (aborted < minAborts) {
      aborted += 1;
      await abortedUpload(port);
    }
  };
  await Promise.all(Array.from({ length: 8 }, abortMore));
  clearInterval(sampler);
  // Let aborted requests and background clean-ups finish before judging what remains.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const fdsAtEnd = openFds(pid);
  const filesAtEnd = openFiles(pid);
  // Alive, every slot given back, no error that nothing caught, no file left open: the
  // files open at the end are at most those open once warmed up (the first sample after it).
  if (service.exitCode !== null) fail(`the service died (exit ${service.exitCode})`);
  // Requests still at work (a store call under retry) give theirs back within their timeouts.
  let slotsInUse = await metricValue(serviceUrl, 'image_ingest_upload_slots_in_use');
  const slotsDeadline = Date.now() + 30_000;
  while (slotsInUse !== 0 && Date.now() < slotsDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    slotsInUse = await metricValue(serviceUrl, 'image_ingest_upload_slots_in_use');
  }
  if (slotsInUse !== 0) fail(`${slotsInUse} upload slots still held at the end`);
  const uncaught = await metricValue(serviceUrl, 'process_uncaught_errors_total');
  if (uncaught !== 0) fail(`${uncaught} uncaught errors in the service`);
  const filesWarm = samples[Math.min(samples.length - 1, 2)]?.files ?? filesAtEnd;
  if (filesAtEnd > filesWarm)
    fail(`open files grew: ${filesWarm} once warm, ${filesAtEnd} at the end`);

  // Every 201 must be in the bucket with the bytes sent (GCS's MD5), and nothing else.
  const listed = new Map<string, string>();
  let pageToken: string | undefined;
  do {
    const url = `${emulatorUrl}/storage/v1/b/${bucket}/o?maxResults=1000${pageToken ? `&pageToken=${pageToken}` : ''}`;
    const page = (await (await fetch(url)).json()) as {
      items?: { name: string; md5Hash: string }[];
      nextPageToken?: string;
    };
    for (const item of page.items ?? []) listed.set(item.name, item.md5Hash);
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
  for (const [name, sent] of stored) {
    const storedMd5 = listed.get(name);
    if (storedMd5 === undefined)
      fail(`lost: ${name} (${sent.label}) answered 201 but is not stored`);
    else if (storedMd5 !== sent.md5) fail(`corrupted: ${name} (${sent.label}) has other bytes`);
  }
  // The images of tus uploads finished by a client that left are the uploads' to answer.
  const finishedImages = new Set<string>();
  for (const at of finishedByLeavers) {
    const head = await fetch(`${serviceUrl}${at}`, {
      method: 'HEAD',
      headers: { 'Tus-Resumable': '1.0.0' },
    });
    const location = head.headers.get('image-location');
    if (location !== null) finishedImages.add(new URL(location).pathname.split('/').at(-1)!);
  }
  for (const name of listed.keys()) {
    // Staged uploads (tus records and pieces) are live uploads, not images.
    if (name.startsWith('staging/')) continue;
    if (!stored.has(name) && !finishedImages.has(name)) {
      fail(`orphan: ${name} is stored but no request got a 201 for it`);
    }
  }

  // Memory: after warm-up (first quarter), the last quarter must not sit well above the second.
  const quarter = Math.floor(samples.length / 4);
  const second = samples.slice(quarter, 2 * quarter).map((sample) => sample.rssMiB);
  const last = samples.slice(3 * quarter).map((sample) => sample.rssMiB);
  const growthMiB = quarter > 0 ? median(last) - median(second) : 0;
  if (growthMiB > Math.max(32, median(second) * 0.2)) {
    fail(`memory keeps growing: RSS median ${median(second)} MiB -> ${median(last)} MiB`);
  }

  service.kill('SIGTERM');
  const exitCode = await new Promise<number | null>((resolve) => service.once('exit', resolve));
  if (exitCode !== 0) fail(`service exited with ${exitCode} after SIGTERM`);
  emulator.kill('SIGTERM');

  const sorted = [...latencies].sort((a, b) => a - b);
  const elapsed = (Date.now() - started) / 1000;
  console.log(
    JSON.stringify(
      {
        seconds: Math.round(elapsed),
        concurrency,
        requestsServed: served,
        requestsPerSecond: Math.round(served / elapsed),
        abortedUploads: aborted,
        validStored: stored.size,
        objectsInBucket: listed.size,
        answers: Object.fromEntries([...counts].sort()),
        validUploadLatencyMs: {
          p50: Math.round(percentile(sorted, 50)),
          p99: Math.round(percentile(sorted, 99)),
          max: Math.round(sorted.at(-1) ?? 0),
        },
        rssMiB: {
          start: samples[0]?.rssMiB,
          secondQuarterMedian: median(second),
          lastQuarterMedian: median(last),
          max: Math.max(...samples.map((sample) => sample.rssMiB)),
        },
        openFds: { start: samples[0]?.fds, end: fdsAtEnd },
        openFiles: { warm: samples[Math.min(samples.length - 1, 2)]?.files, end: filesAtEnd },
        uploadSlotsInUseAtEnd: slotsInUse,
        uncaughtErrors: uncaught,
        rssOverTime: samples
          .filter((_, index) => index % Math.max(1, Math.round(samples.length / 12)) === 0)
          .map((sample) => `${sample.t}s:${sample.rssMiB}MiB/${sample.fds}fd`),
        failures,
      },
      null,
      2,
    ),
  );
  console.log(failures.length === 0 ? 'soak: PASS' : 'soak: FAIL');
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
