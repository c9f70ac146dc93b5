import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cameraJpeg, type CameraPicture } from './bodies.ts';
import {
  cpuSeconds,
  freePort,
  removeOnExit,
  rssBytes,
  startNodeServer,
  startProgramServer,
  watchRss,
  type ServerProcess,
} from './processes.ts';
import { newestProfileSummary } from './profile-summary.ts';

/**
 * Renditions (GET /v1/images/{id}/render) of image-ingest, local driver, against a Node server
 * calling sharp once per request (bench/render-peer-server.ts) and a bare Go server in
 * imgproxy's style (bench/govips-peer: govips, vips_thumbnail with shrink-on-load; built here
 * with `go build`, skipped with a line saying why when Go or libvips-dev is missing), on the
 * same originals in the same folder. `npm run bench -- --scenarios rc,rw,...` runs them beside the other scenarios;
 * `node bench/renditions.ts` alone. Lines (docs/performance.md):
 *
 *   cold    a 12 MP phone JPEG to ~640 px WebP q75, `cold` requests, 4 at a time, each a new
 *           rendition (w = 600, 601, ...): signature, store lookup, render, write-through;
 *           `rounds` times, the Go peer, the sharp peer and image-ingest in turn, each round
 *           new widths
 *   warm    the same URLs again, against the same objects served by the file route (in turns,
 *           two rounds each, with the CPU per request of the server), and the original itself
 *   gcs     cold and warm on fake-gcs-server, against the objects from the bucket's URL
 *   upload  the 12 MP JPEG uploaded 16 at a time with IMAGE_VARIANTS set, lazy and eager
 *   memory  64 cold renders at once of a ~25 MiB JPEG (6000 x 4000 q100): peak RSS growth
 *
 * One load at a time; the machine it runs on may be shared (say so with the numbers).
 */

export type RenditionLine = 'cold' | 'warm' | 'gcs' | 'upload' | 'memory';
export const renditionLines: readonly RenditionLine[] = ['cold', 'warm', 'gcs', 'upload', 'memory'];

export interface RenditionBench {
  readonly root: string;
  /** KEY=VALUE for image-ingest (IMAGE_VARIANT_CONCURRENCY=4, ...), over everything else. */
  readonly extraEnv: Readonly<Record<string, string>>;
  readonly nodeArgs: readonly string[];
  /** Where image-ingest's CPU profiles go (the cold line's server), when profiling. */
  readonly profileDir: string | undefined;
  /** A fake-gcs-server already running (npm run bench's); the gcs line starts one otherwise. */
  readonly emulatorEndpoint?: string | undefined;
}

export interface RenditionOptions {
  readonly lines: ReadonlySet<RenditionLine>;
  /** Cold renders per round. */
  readonly cold: number;
  /** Cold rounds, the peer and image-ingest alternating. */
  readonly rounds: number;
  readonly uploads: number;
  /** Warm rounds over the cold URLs. */
  readonly warmRounds: number;
  /** The phone picture; smaller in --smoke. */
  readonly phone: CameraPicture;
  readonly big: CameraPicture;
}

export const fullRenditionOptions: Omit<RenditionOptions, 'lines'> = {
  cold: 32,
  rounds: 3,
  uploads: 32,
  // A round of 32 stored renditions takes a twentieth of a second: enough of them that the
  // server's CPU time (in 10 ms ticks) is read to a few per cent.
  warmRounds: 24,
  phone: { width: 4000, height: 3000, quality: 88, noise: 24 },
  big: { width: 6000, height: 4000, quality: 100, noise: 40 },
};

export const smokeRenditionOptions: Omit<RenditionOptions, 'lines'> = {
  cold: 4,
  rounds: 1,
  uploads: 4,
  warmRounds: 1,
  // The full run's pictures, smaller.
  phone: { ...fullRenditionOptions.phone, width: 1200, height: 900 },
  big: { ...fullRenditionOptions.big, width: 1200, height: 900 },
};

const key = 'bench-rendition-signing-key-of-32-bytes';
const presets = 'thumbnail:320x320:cover,small:640,large:1600';

interface Run {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly bytes: number;
}

/**
 * Builds the Go peer (bench/govips-peer, cgo against libvips-dev) into a temp dir. Resolves
 * the binary, or why it cannot be had here: the Go peer is optional, the bench runs without it.
 */
function buildGovipsPeer(root: string): { binary: string } | { skipped: string } {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error !== undefined || go.status !== 0) return { skipped: '`go` is not on PATH' };
  const vips = spawnSync('pkg-config', ['--exists', 'vips'], { encoding: 'utf8' });
  if (vips.error !== undefined || vips.status !== 0) {
    return { skipped: 'libvips-dev is not installed (pkg-config finds no vips)' };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-govips-'));
  removeOnExit(dir);
  const binary = path.join(dir, 'govips-peer');
  const build = spawnSync('go', ['build', '-o', binary, '.'], {
    cwd: path.join(root, 'bench/govips-peer'),
    env: { ...process.env, CGO_ENABLED: '1' },
    encoding: 'utf8',
  });
  if (build.error !== undefined || build.status !== 0) {
    const why = (build.stderr || String(build.error)).trim().split('\n').slice(-3).join(' / ');
    return { skipped: `go build failed: ${why}` };
  }
  return { binary };
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

/** `drive`, with the CPU the server process used per request (steadier on a shared machine). */
async function driveMeasured(
  server: ServerProcess,
  requests: readonly (() => Promise<Response>)[],
  concurrency: number,
): Promise<Run & { cpuMs: number }> {
  const before = cpuSeconds(server.pid);
  const run = await drive(requests, concurrency);
  return { ...run, cpuMs: ((cpuSeconds(server.pid) - before) * 1000) / run.requests };
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
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/**
 * Runs the chosen lines, printing as it goes; resolves false if a line's proof failed (renders
 * counted where nothing should have been decoded).
 */
export async function runRenditionsScenario(
  bench: RenditionBench,
  options: RenditionOptions,
): Promise<boolean> {
  const write = (text: string): void => void process.stdout.write(`${text}\n`);
  let failed = false;
  const startService = async (
    uploadDir: string,
    env: Record<string, string> = {},
    nodeArgs: readonly string[] = bench.nodeArgs,
  ): Promise<ServerProcess> => {
    const port = await freePort();
    return startNodeServer({
      name: 'image-ingest',
      script: path.join(bench.root, 'dist/index.js'),
      port,
      nodeArgs,
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
        ...bench.extraEnv,
        ...env,
      },
    });
  };

  const uploadDir = mkdtempSync(path.join(os.tmpdir(), 'bench-render-'));
  removeOnExit(uploadDir);
  const { phone } = options;
  const jpeg = await cameraJpeg(phone);
  write(
    `\n## Renditions (bench/renditions.ts): a ${phone.width} x ${phone.height} phone JPEG q${phone.quality}, ` +
      `${fixed(jpeg.length / 2 ** 20, 2)} MiB; load average ${os
        .loadavg()
        .map((l) => fixed(l, 2))
        .join(' ')}`,
  );

  if (options.lines.has('cold') || options.lines.has('warm')) {
    const profiling =
      bench.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', bench.profileDir];
    const server = await startService(uploadDir, {}, [...bench.nodeArgs, ...profiling]);
    const peerPort = await freePort();
    const peer = await startNodeServer({
      name: 'sharp per request',
      script: path.join(bench.root, 'bench/render-peer-server.ts'),
      port: peerPort,
      env: { PORT: String(peerPort), UPLOAD_DIR: uploadDir },
    });
    const goBuild = buildGovipsPeer(bench.root);
    const goPort = await freePort();
    const goPeer =
      'binary' in goBuild
        ? await startProgramServer({
            name: 'govips',
            command: goBuild.binary,
            port: goPort,
            env: { PORT: String(goPort), UPLOAD_DIR: uploadDir },
          })
        : undefined;
    try {
      const image = await upload(server, jpeg);
      const base = `http://127.0.0.1:${server.port}`;
      const peerUrl = (width: number, port = peerPort): string =>
        `http://127.0.0.1:${port}/render?name=${image.name}&w=${width}`;
      // One render each to warm them up (JIT, the first connections, libvips' start).
      await drive([() => fetch(peerUrl(100))], 1);
      if (goPeer !== undefined) await drive([() => fetch(peerUrl(100, goPort))], 1);
      await drive(
        [() => fetch(`${base}${signed(image.id, { format: 'webp', q: '75', w: '100' })}`)],
        1,
      );
      const urls: string[] = [];
      const ratios: number[] = [];
      const cpuRatios: number[] = [];
      const coldRates: number[] = [];
      const goRatios: number[] = [];
      const goCpuRatios: number[] = [];
      const fasterRatios: number[] = [];
      write(
        `cold: ${options.cold} renders to ~640 px WebP q75, 4 at a time, each a new rendition; ` +
          `${options.rounds} rounds, the peers first` +
          ('skipped' in goBuild ? `; Go peer (govips) skipped: ${goBuild.skipped}` : ''),
      );
      for (let round = 0; round < options.rounds; round++) {
        const widths = Array.from(
          { length: options.cold },
          (_, i) => 600 + round * options.cold + i,
        );
        const roundUrls = widths.map((w) =>
          signed(image.id, { format: 'webp', q: '75', w: String(w) }),
        );
        urls.push(...roundUrls);
        const goRun =
          goPeer === undefined
            ? undefined
            : await driveMeasured(
                goPeer,
                widths.map((w) => () => fetch(peerUrl(w, goPort))),
                4,
              );
        const peerRun = await driveMeasured(
          peer,
          widths.map((w) => () => fetch(peerUrl(w))),
          4,
        );
        const ours = await driveMeasured(
          server,
          roundUrls.map((url) => () => fetch(`${base}${url}`)),
          4,
        );
        ratios.push(ours.rps / peerRun.rps);
        coldRates.push(ours.rps);
        cpuRatios.push(ours.cpuMs / peerRun.cpuMs);
        const goText =
          goRun === undefined
            ? ''
            : `; govips ${fixed(goRun.rps)} req/s (${fixed(goRun.cpuMs, 0)} CPU ms/req): ` +
              `${fixed(ours.rps / goRun.rps, 2)}x, CPU ${fixed(ours.cpuMs / goRun.cpuMs, 2)}x govips'`;
        if (goRun !== undefined) {
          goRatios.push(ours.rps / goRun.rps);
          goCpuRatios.push(ours.cpuMs / goRun.cpuMs);
        }
        fasterRatios.push(ours.rps / Math.max(peerRun.rps, goRun?.rps ?? 0));
        write(
          `  round ${round + 1}: image-ingest ${fixed(ours.rps)} req/s (${fixed(ours.cpuMs, 0)} CPU ms/req); ` +
            `sharp per request ${fixed(peerRun.rps)} req/s (${fixed(peerRun.cpuMs, 0)} CPU ms/req): ` +
            `${fixed(ours.rps / peerRun.rps, 2)}x, CPU ${fixed(ours.cpuMs / peerRun.cpuMs, 2)}x sharp's` +
            goText,
        );
      }
      const afterCold = await renditionCounts(server);
      if (afterCold.rendered !== urls.length + 1) failed = true;
      const runs = (values: readonly number[]): string =>
        `median ${fixed(median(values), 2)}x, runs ${values.map((r) => fixed(r, 2)).join(', ')}`;
      write(
        `  ratio (image-ingest / sharp per request): ${runs(ratios)}; CPU per request median ` +
          `${fixed(median(cpuRatios), 2)}x sharp's`,
      );
      if (goPeer !== undefined) {
        write(
          `  ratio (image-ingest / govips): ${runs(goRatios)}; CPU per request median ` +
            `${fixed(median(goCpuRatios), 2)}x govips'`,
        );
      }
      write(
        `  ratio (image-ingest / the faster peer of each round): ${runs(fasterRatios)}; target >= 1x; ` +
          `metrics ${JSON.stringify(afterCold)} (rendered must be ${urls.length + 1})`,
      );
      if (options.lines.has('warm')) {
        // In turns, the renditions then the same objects through the file route, each turn a
        // couple of rounds: a shared machine's load moves within a run, and a turn is short.
        const objectNames = readdirSync(uploadDir).filter((name) => name.includes('.r-'));
        const turns = Math.max(1, Math.floor(options.warmRounds / 2));
        const roundsPerTurn = Math.max(1, Math.round(options.warmRounds / turns));
        const warmRuns: (Run & { cpuMs: number })[] = [];
        const fileRuns: (Run & { cpuMs: number })[] = [];
        for (let turn = 0; turn < turns; turn++) {
          warmRuns.push(
            await driveMeasured(
              server,
              Array.from({ length: roundsPerTurn }, () =>
                urls.map((url) => () => fetch(`${base}${url}`)),
              ).flat(),
              4,
            ),
          );
          fileRuns.push(
            await driveMeasured(
              server,
              Array.from({ length: roundsPerTurn }, () =>
                objectNames.map((name) => () => fetch(`${base}/uploads/${name}`)),
              ).flat(),
              4,
            ),
          );
        }
        const total = (runs: readonly (Run & { cpuMs: number })[]): Run & { cpuMs: number } => {
          const requests = runs.reduce((sum, run) => sum + run.requests, 0);
          const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
          return {
            requests,
            seconds,
            rps: requests / seconds,
            bytes: runs.reduce((sum, run) => sum + run.bytes, 0),
            cpuMs: runs.reduce((sum, run) => sum + run.cpuMs * run.requests, 0) / requests,
          };
        };
        const warm = total(warmRuns);
        const files = total(fileRuns);
        const afterWarm = await renditionCounts(server);
        if (afterWarm.rendered !== afterCold.rendered) failed = true;
        const original = await drive(
          Array.from({ length: options.cold }, () => () => fetch(`${base}/uploads/${image.name}`)),
          4,
        );
        write(
          `warm: the same URLs again, ${turns * roundsPerTurn} rounds, 4 at a time, in ${turns} turns ` +
            `with the file route`,
        );
        write(
          `  image-ingest        ${fixed(warm.rps)} req/s, ${fixed(warm.cpuMs * 1000, 0)} CPU us/req ` +
            `(${fixed(warm.bytes / warm.requests / 1024)} KiB each; ` +
            `metrics after: ${JSON.stringify(afterWarm)}, rendered must not grow)`,
        );
        write(
          `  same objects, file route  ${fixed(files.rps)} req/s, ${fixed(files.cpuMs * 1000, 0)} CPU us/req ` +
            `-> ${fixed(warm.rps / files.rps, 2)}x the req/s (target >= 0.8x), CPU per request ` +
            `${fixed(warm.cpuMs / files.cpuMs, 2)}x; turns ` +
            warmRuns.map((run, i) => fixed(run.rps / fileRuns[i]!.rps, 2)).join(', '),
        );
        write(
          `  the original (${fixed(jpeg.length / 2 ** 20, 1)} MiB), file route  ${fixed(original.rps)} req/s  -> ${fixed(warm.rps / original.rps, 2)}x`,
        );
        write(`  warm / cold (median)  ${fixed(warm.rps / median(coldRates), 1)}x (target >= 20x)`);
      }
    } finally {
      await server.stop();
      await peer.stop();
      await goPeer?.stop();
    }
    if (bench.profileDir !== undefined) {
      write(newestProfileSummary(bench.profileDir, 'image-ingest (cold renders)'));
    }
  }

  if (options.lines.has('gcs')) {
    // GCS (fake-gcs-server): a hit streamed through the service, against the object fetched
    // from the bucket's own URL, which is where a redirect would send the client.
    const { startEmulator } = await import('../__tests__/support/emulator.ts');
    const { gcsStorage } = await import('./storage.ts');
    const emulator =
      bench.emulatorEndpoint === undefined
        ? await startEmulator()
        : { endpoint: bench.emulatorEndpoint, stop: async (): Promise<void> => {} };
    try {
      const storage = await gcsStorage(emulator.endpoint, 'render');
      const server = await startService(uploadDir, storage.env);
      try {
        const image = await upload(server, jpeg);
        const base = `http://127.0.0.1:${server.port}`;
        const urls = Array.from({ length: options.cold }, (_, i) =>
          signed(image.id, { format: 'webp', q: '75', w: String(600 + i) }),
        );
        const cold = await drive(
          urls.map((url) => () => fetch(`${base}${url}`)),
          4,
        );
        const warm = await drive(
          Array.from({ length: options.warmRounds }, () =>
            urls.map((url) => () => fetch(`${base}${url}`)),
          ).flat(),
          4,
        );
        const names = (await storage.listNames()).filter((name) => name.includes('.r-'));
        const bucket = storage.env.GCS_BUCKET!;
        const direct = await drive(
          Array.from({ length: options.warmRounds }, () =>
            names.map((name) => () => fetch(`${emulator.endpoint}/${bucket}/${name}`)),
          ).flat(),
          4,
        );
        write(
          `gcs (fake-gcs-server): the same ${options.cold} renditions, cold then warm, 4 at a time`,
        );
        write(
          `  cold                ${fixed(cold.rps)} req/s (metrics: ${JSON.stringify(await renditionCounts(server))})`,
        );
        write(`  warm, streamed by image-ingest  ${fixed(warm.rps)} req/s`);
        write(
          `  the objects from the bucket's URL (a redirect's second leg)  ${fixed(direct.rps)} req/s`,
        );
      } finally {
        await server.stop();
      }
    } finally {
      await emulator.stop();
    }
  }

  if (options.lines.has('upload')) {
    write(
      `upload: the phone JPEG (raw body), ${options.uploads} uploads 16 at a time, IMAGE_VARIANTS=${presets}`,
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
        const run = await driveMeasured(
          server,
          Array.from(
            { length: options.uploads },
            () => () =>
              fetch(`http://127.0.0.1:${server.port}/v1/images`, {
                method: 'POST',
                headers: { 'Content-Type': 'image/jpeg' },
                body: new Uint8Array(jpeg),
              }),
          ),
          16,
        );
        write(
          `  ${eager === 'true' ? 'eager (IMAGE_VARIANTS_EAGER=true)' : 'lazy (the default)          '}  ` +
            `${fixed(run.rps)} req/s (${fixed(run.seconds)} s, ${fixed(run.cpuMs, 0)} CPU ms/req)`,
        );
      } finally {
        await server.stop();
      }
    }
  }

  if (options.lines.has('memory')) {
    const { big } = options;
    const bigJpeg = await cameraJpeg(big);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-render-mem-'));
    removeOnExit(dir);
    const server = await startService(dir);
    try {
      const image = await upload(server, bigJpeg);
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
      write(
        `memory: 64 cold renders at once of a ${fixed(bigJpeg.length / 2 ** 20, 1)} MiB JPEG (${big.width} x ${big.height} q${big.quality})`,
      );
      write(
        `  idle RSS ${fixed(idle / 2 ** 20)} MiB, peak ${fixed(peak.peakBytes / 2 ** 20)} MiB: growth ${fixed((peak.peakBytes - idle) / 2 ** 20)} MiB (${fixed(run.seconds)} s; metrics: ${JSON.stringify(await renditionCounts(server))})`,
      );
    } finally {
      await server.stop();
    }
  }
  return failed;
}

// `node bench/renditions.ts [--lines cold,warm] [--rounds 3] [--profile] [--env K=V]` alone.
if (import.meta.main) {
  const { values: args } = parseArgs({
    options: {
      lines: { type: 'string', default: renditionLines.join(',') },
      cold: { type: 'string' },
      rounds: { type: 'string' },
      uploads: { type: 'string' },
      profile: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      env: { type: 'string', multiple: true },
      'node-arg': { type: 'string', multiple: true },
    },
  });
  const lines = new Set(args.lines.split(',') as RenditionLine[]);
  for (const line of lines) {
    if (!renditionLines.includes(line)) throw new Error(`--lines: no line "${line}"`);
  }
  const defaults = args.smoke ? smokeRenditionOptions : fullRenditionOptions;
  const root = path.resolve(import.meta.dirname, '..');
  const profileDir = args.profile
    ? mkdtempSync(path.join(os.tmpdir(), 'bench-render-prof-'))
    : undefined;
  const failed = await runRenditionsScenario(
    {
      root,
      extraEnv: Object.fromEntries(
        (args.env ?? []).map((entry) => [
          entry.slice(0, entry.indexOf('=')),
          entry.slice(entry.indexOf('=') + 1),
        ]),
      ),
      nodeArgs: args['node-arg'] ?? [],
      profileDir,
    },
    {
      ...defaults,
      lines,
      cold: Number(args.cold ?? defaults.cold),
      rounds: Number(args.rounds ?? defaults.rounds),
      uploads: Number(args.uploads ?? defaults.uploads),
    },
  );
  process.exitCode = failed ? 1 : 0;
}
