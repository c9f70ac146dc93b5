import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cameraJpeg, type CameraPicture } from './bodies.ts';
import {
  freePort,
  removeOnExit,
  rssBytes,
  startNodeServer,
  watchRss,
  type ServerProcess,
} from './processes.ts';

/**
 * npm run bench:render: renditions (GET /v1/images/{id}/render) of image-ingest, local driver,
 * against a Node server calling sharp once per request (bench/render-peer-server.ts), on the
 * same originals in the same folder. Lines (docs/performance.md):
 *
 *   cold    a 12 MP phone JPEG to ~640 px WebP q75, `--cold` requests, 4 at a time, each a new
 *           rendition (w = 600, 601, ...): signature, store lookup, render, write-through
 *   warm    the same URLs again, against the same objects served by the file route, and the
 *           original itself
 *   gcs     cold and warm on fake-gcs-server, against the objects from the bucket's URL
 *   upload  the 12 MP JPEG uploaded 16 at a time with IMAGE_VARIANTS set, lazy and eager
 *   memory  64 cold renders at once of a ~25 MiB JPEG (6000 x 4000 q100): peak RSS growth
 *
 * One process at a time; the machine it runs on may be shared (say so with the numbers).
 */

const { values: args } = parseArgs({
  options: {
    cold: { type: 'string', default: '32' },
    uploads: { type: 'string', default: '32' },
    skip: { type: 'string', multiple: true },
    /** KEY=VALUE for image-ingest (IMAGE_VARIANT_CONCURRENCY=4, ...). */
    env: { type: 'string', multiple: true },
  },
});
const extraEnv = Object.fromEntries(
  (args.env ?? []).map((entry) => [
    entry.slice(0, entry.indexOf('=')),
    entry.slice(entry.indexOf('=') + 1),
  ]),
);
const coldRequests = Number(args.cold);
const uploadCount = Number(args.uploads);
const skip = new Set(args.skip ?? []);

const root = path.resolve(import.meta.dirname, '..');
const service = path.join(root, 'dist/index.js');
const key = 'bench-rendition-signing-key-of-32-bytes';
const phonePicture: CameraPicture = { width: 4000, height: 3000, quality: 88, noise: 24 };
const bigPicture: CameraPicture = { width: 6000, height: 4000, quality: 100, noise: 40 };
const presets = 'thumbnail:320x320:cover,small:640,large:1600';

interface Run {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly bytes: number;
}

/** Sends `requests` with `concurrency` in flight, each read to its end; any non-2xx fails. */
async function drive(
  requests: readonly (() => Promise<Response>)[],
  concurrency: number,
): Promise<Run> {
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const response = await requests[next++]!();
      const body = await response.arrayBuffer();
      if (!response.ok) throw new Error(`${response.status} ${Buffer.from(body).toString()}`);
      bytes += body.byteLength;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { requests: requests.length, seconds, rps: requests.length / seconds, bytes };
}

function signed(id: string, params: Record<string, string>): string {
  const renderPath = `/v1/images/${id}/render`;
  const query = Object.entries(params)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const sig = createHmac('sha256', key).update(`${renderPath}?${query}`).digest('base64url');
  return `${renderPath}?${query}&sig=${sig}`;
}

async function startService(
  uploadDir: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const port = await freePort();
  return startNodeServer({
    name: 'image-ingest',
    script: service,
    port,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      STORAGE_DRIVER: 'local',
      UPLOAD_DIR: uploadDir,
      SPOOL_DIR: mkdtempSync(path.join(os.tmpdir(), 'bench-render-spool-')),
      RATE_LIMIT: '0',
      LOG_LEVEL: 'warn',
      RENDER_SIGNING_KEYS: key,
      MAX_IMAGE_BYTES: String(64 * 1024 * 1024),
      MAX_CONCURRENT_UPLOADS: '128',
      ...extraEnv,
      ...env,
    },
  });
}

async function upload(server: ServerProcess, jpeg: Buffer): Promise<{ id: string; name: string }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/v1/images`, {
    method: 'POST',
    headers: { 'Content-Type': 'image/jpeg' },
    body: new Uint8Array(jpeg),
  });
  if (response.status !== 201)
    throw new Error(`upload: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; name: string };
}

async function renditionCounts(server: ServerProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^image_renditions_total\{outcome="(\w+)"\} (\d+)/gm)) {
    counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

const fixed = (value: number, digits = 1): string => value.toFixed(digits);
const lines: string[] = [];
function line(text: string): void {
  lines.push(text);
  console.log(text);
}

const uploadDir = mkdtempSync(path.join(os.tmpdir(), 'bench-render-'));
removeOnExit(uploadDir);
const jpeg = await cameraJpeg(phonePicture);
line(
  `12 MP phone JPEG: ${phonePicture.width} x ${phonePicture.height}, ${fixed(jpeg.length / 2 ** 20, 2)} MiB`,
);

if (!skip.has('cold')) {
  const server = await startService(uploadDir);
  const peerPort = await freePort();
  const peer = await startNodeServer({
    name: 'sharp per request',
    script: path.join(root, 'bench/render-peer-server.ts'),
    port: peerPort,
    env: { PORT: String(peerPort), UPLOAD_DIR: uploadDir },
  });
  try {
    const image = await upload(server, jpeg);
    const base = `http://127.0.0.1:${server.port}`;
    const urls = Array.from({ length: coldRequests }, (_, i) =>
      signed(image.id, { format: 'webp', q: '75', w: String(600 + i) }),
    );
    const peerWarm = await drive(
      [() => fetch(`http://127.0.0.1:${peerPort}/render?name=${image.name}&w=100`)],
      1,
    );
    void peerWarm;
    const peerCold = await drive(
      urls.map(
        (_, i) => () =>
          fetch(`http://127.0.0.1:${peerPort}/render?name=${image.name}&w=${600 + i}`),
      ),
      4,
    );
    const cold = await drive(
      urls.map((url) => () => fetch(`${base}${url}`)),
      4,
    );
    const afterCold = await renditionCounts(server);
    const rounds = 8;
    const warm = await drive(
      Array.from({ length: rounds }, () => urls.map((url) => () => fetch(`${base}${url}`))).flat(),
      4,
    );
    const afterWarm = await renditionCounts(server);
    const objectNames = (await import('node:fs'))
      .readdirSync(uploadDir)
      .filter((name) => name.includes('.r-'));
    const files = await drive(
      Array.from({ length: rounds }, () =>
        objectNames.map((name) => () => fetch(`${base}/uploads/${name}`)),
      ).flat(),
      4,
    );
    const original = await drive(
      Array.from({ length: coldRequests }, () => () => fetch(`${base}/uploads/${image.name}`)),
      4,
    );
    line('');
    line(`cold: ${coldRequests} renders to ~640 px WebP q75, 4 at a time, each a new rendition`);
    line(
      `  image-ingest        ${fixed(cold.rps)} req/s  (${fixed(cold.seconds)} s; metrics: ${JSON.stringify(afterCold)})`,
    );
    line(`  sharp per request   ${fixed(peerCold.rps)} req/s  (${fixed(peerCold.seconds)} s)`);
    line(`  ratio               ${fixed(cold.rps / peerCold.rps, 2)}x`);
    line(`warm: the same URLs again, ${rounds} rounds, 4 at a time`);
    line(
      `  image-ingest        ${fixed(warm.rps)} req/s  (${fixed(warm.bytes / warm.requests / 1024)} KiB each; metrics after: ${JSON.stringify(afterWarm)})`,
    );
    line(
      `  same objects, file route  ${fixed(files.rps)} req/s  -> ${fixed(warm.rps / files.rps, 2)}x`,
    );
    line(
      `  the original (${fixed(jpeg.length / 2 ** 20, 1)} MiB), file route  ${fixed(original.rps)} req/s  -> ${fixed(warm.rps / original.rps, 2)}x`,
    );
    line(`  warm / cold         ${fixed(warm.rps / cold.rps, 1)}x`);
  } finally {
    await server.stop();
    await peer.stop();
  }
}

if (!skip.has('gcs')) {
  // GCS (fake-gcs-server): a hit streamed through the service, against the object fetched
  // from the bucket's own URL, which is where a redirect would send the client.
  const { startEmulator } = await import('../__tests__/support/emulator.ts');
  const { gcsStorage } = await import('./storage.ts');
  const emulator = await startEmulator();
  try {
    const storage = await gcsStorage(emulator.endpoint, 'render');
    const server = await startService(uploadDir, storage.env);
    try {
      const image = await upload(server, jpeg);
      const base = `http://127.0.0.1:${server.port}`;
      const urls = Array.from({ length: coldRequests }, (_, i) =>
        signed(image.id, { format: 'webp', q: '75', w: String(600 + i) }),
      );
      const cold = await drive(
        urls.map((url) => () => fetch(`${base}${url}`)),
        4,
      );
      const rounds = 8;
      const warm = await drive(
        Array.from({ length: rounds }, () =>
          urls.map((url) => () => fetch(`${base}${url}`)),
        ).flat(),
        4,
      );
      const names = (await storage.listNames()).filter((name) => name.includes('.r-'));
      const bucket = storage.env.GCS_BUCKET!;
      const direct = await drive(
        Array.from({ length: rounds }, () =>
          names.map((name) => () => fetch(`${emulator.endpoint}/${bucket}/${name}`)),
        ).flat(),
        4,
      );
      line('');
      line(
        `gcs (fake-gcs-server): the same ${coldRequests} renditions, cold then warm, 4 at a time`,
      );
      line(
        `  cold                ${fixed(cold.rps)} req/s (metrics: ${JSON.stringify(await renditionCounts(server))})`,
      );
      line(`  warm, streamed by image-ingest  ${fixed(warm.rps)} req/s`);
      line(
        `  the objects from the bucket's URL (a redirect's second leg)  ${fixed(direct.rps)} req/s`,
      );
    } finally {
      await server.stop();
    }
  } finally {
    await emulator.stop();
  }
}

if (!skip.has('upload')) {
  line('');
  line(
    `upload: the 12 MP JPEG (raw body), ${uploadCount} uploads 16 at a time, IMAGE_VARIANTS=${presets}`,
  );
  for (const eager of ['false', 'true']) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-render-up-'));
    removeOnExit(dir);
    const server = await startService(dir, {
      IMAGE_VARIANTS: presets,
      IMAGE_VARIANTS_EAGER: eager,
    });
    try {
      await upload(server, jpeg);
      const run = await drive(
        Array.from(
          { length: uploadCount },
          () => () =>
            fetch(`http://127.0.0.1:${server.port}/v1/images`, {
              method: 'POST',
              headers: { 'Content-Type': 'image/jpeg' },
              body: new Uint8Array(jpeg),
            }),
        ),
        16,
      );
      line(
        `  ${eager === 'true' ? 'eager (IMAGE_VARIANTS_EAGER=true)' : 'lazy (the default)          '}  ${fixed(run.rps)} req/s (${fixed(run.seconds)} s)`,
      );
    } finally {
      await server.stop();
    }
  }
}

if (!skip.has('memory')) {
  const big = await cameraJpeg(bigPicture);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-render-mem-'));
  removeOnExit(dir);
  const server = await startService(dir);
  try {
    const image = await upload(server, big);
    // Settle after the upload, then measure from here.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idle = rssBytes(server.pid);
    const watch = watchRss(server.pid);
    const base = `http://127.0.0.1:${server.port}`;
    const run = await drive(
      Array.from(
        { length: 64 },
        (_, i) => () =>
          fetch(`${base}${signed(image.id, { format: 'webp', q: '75', w: String(600 + i) })}`),
      ),
      64,
    );
    const peak = watch.stop();
    line('');
    line(
      `memory: 64 cold renders at once of a ${fixed(big.length / 2 ** 20, 1)} MiB JPEG (${bigPicture.width} x ${bigPicture.height} q${bigPicture.quality})`,
    );
    line(
      `  idle RSS ${fixed(idle / 2 ** 20)} MiB, peak ${fixed(peak.peakBytes / 2 ** 20)} MiB: growth ${fixed((peak.peakBytes - idle) / 2 ** 20)} MiB (${fixed(run.seconds)} s; metrics: ${JSON.stringify(await renditionCounts(server))})`,
    );
  } finally {
    await server.stop();
  }
}
