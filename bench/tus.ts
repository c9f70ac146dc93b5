import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFixture } from './bodies.ts';
import {
  anonRssBytes,
  cpuSeconds,
  cpuSecondsByThreadKind,
  freePort,
  rssBytes,
  startNodeServer,
  watchRss,
  type ServerProcess,
} from './processes.ts';
import { newestProfileSummary } from './profile-summary.ts';
import {
  gcsStorage,
  localStorage,
  storedByService,
  verifyStored,
  type BenchStorage,
} from './storage.ts';
import { fixed, table } from './table.ts';
import { rawUpload, tusUpload, type Upload } from './tus-client.ts';

/**
 * The resumable-upload scenario (t): one image through tus in fixed chunks, against the same
 * image in one raw POST /v1/images to the same service, against stock @tus/server with
 * @tus/file-store, and against a bare tus ceiling, all with the one client of tus-client.ts.
 * Each row is a fresh server process; the peer and the ceiling keep the bytes in a directory
 * of their own whatever the storage, so they run once and their rows repeat in every table.
 */

const MiB = 1024 * 1024;

/** The rows of the table: what `--servers` service, baseline and bare stand for here. */
export const tusRows = ['tus', 'raw', 'peer', 'bare'] as const;
export type TusRow = (typeof tusRows)[number];

export const tusRowsOf: Record<'service' | 'baseline' | 'bare', readonly TusRow[]> = {
  service: ['tus', 'raw'],
  baseline: ['peer'],
  bare: ['bare'],
};

const rowLabels: Record<TusRow, string> = {
  tus: 'image-ingest, tus (/v1/uploads)',
  raw: 'image-ingest, one raw POST /v1/images',
  peer: '@tus/server + @tus/file-store',
  bare: 'ceiling (bare tus PATCH to a file)',
};

export interface TusScenario {
  readonly key: string;
  readonly title: string;
  readonly image: Buffer;
  /** What the image is, for the heading. */
  readonly imageLabel: string;
  readonly chunkBytes: number;
  readonly uploads: number;
  /** Uploads at a time. */
  readonly concurrency: number;
  /** Small uploads on the measured path before measuring (JIT, first store writes). */
  readonly warmUps: number;
  readonly targets?: {
    readonly from: string;
    readonly minTusVsRaw: number;
    readonly minTusVsPeer: number;
    readonly maxRssGrowthMiB: number;
  };
}

export interface TusBench {
  readonly root: string;
  readonly tempRoot: string;
  readonly emulatorEndpoint: string | undefined;
  /** `--env`, over everything else. */
  readonly extraEnv: Readonly<Record<string, string>>;
  readonly nodeArgs: readonly string[];
  /** Where image-ingest's profiles go, when `--profile`. */
  readonly profileDir: string | undefined;
}

interface TusResult {
  readonly row: TusRow;
  readonly seconds: readonly number[];
  /** Of the last request of each upload (tus: the last PATCH, raw: the POST). */
  readonly lastSeconds: readonly number[];
  readonly wallSeconds: number;
  readonly idleRssMiB: number;
  readonly rssGrowthMiB: number;
  readonly anonRssGrowthMiB: number;
  readonly cpuMsPerMiB: number;
  readonly mainMsPerMiB: number;
  readonly failed: number;
  /** `ok/objects` when the stored objects were checked against the image. */
  readonly stored: string;
  readonly problems: readonly string[];
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** `count` uploads, `concurrency` at a time; the failures are counted, the first one kept. */
export async function uploadMany<T>(
  count: number,
  concurrency: number,
  one: () => Promise<T>,
): Promise<{ uploads: T[]; failed: number; firstFailure: string | undefined }> {
  const uploads: T[] = [];
  let started = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      while (started < count) {
        started += 1;
        try {
          uploads.push(await one());
        } catch (error) {
          failed += 1;
          firstFailure ??= String(error);
        }
      }
    }),
  );
  return { uploads, failed, firstFailure };
}

/** The files a peer or the ceiling wrote into `dir` (not @tus/file-store's `.json` records). */
async function checkDirectory(dir: string, image: Buffer): Promise<{ ok: number; all: number }> {
  const wanted = sha256(image);
  const names = (await fs.readdir(dir)).filter((name) => !name.endsWith('.json'));
  let ok = 0;
  for (const name of names) {
    const bytes = await fs.readFile(path.join(dir, name));
    if (bytes.length === image.length && sha256(bytes) === wanted) ok += 1;
  }
  return { ok, all: names.length };
}

async function runRow(
  bench: TusBench,
  scenario: TusScenario,
  row: TusRow,
  driver: 'local' | 'gcs',
): Promise<TusResult> {
  const problems: string[] = [];
  const label = `${scenario.key}-${row}`;
  const ours = row === 'tus' || row === 'raw';
  let storage: BenchStorage | undefined;
  let dir: string | undefined;
  if (ours && driver === 'local') storage = await localStorage(bench.tempRoot, label);
  if (ours && driver === 'gcs') storage = await gcsStorage(bench.emulatorEndpoint!, label);
  if (!ours) dir = await fs.mkdtemp(path.join(bench.tempRoot, `${label}-`));

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    MAX_IMAGE_BYTES: String(Math.max(10 * MiB, scenario.image.length)),
    LOG_LEVEL: 'warn',
    // One client address, many requests: throttling it is not what is measured.
    RATE_LIMIT: '0',
    MAX_CONCURRENT_UPLOADS: '1000',
    MAX_OPEN_UPLOADS_PER_CALLER: '0',
    IMAGE_VALIDATION: 'structure',
    ...(storage?.env ?? { UPLOAD_DIR: dir! }),
    ...bench.extraEnv,
  };
  const scripts: Record<TusRow, string> = {
    tus: 'dist/index.js',
    raw: 'dist/index.js',
    peer: 'bench/tus-peer-server.ts',
    bare: 'bench/bare-tus-server.ts',
  };
  const upload = (image: Buffer, chunkBytes: number): Promise<Upload> => {
    if (row === 'raw') return rawUpload(`${base}/v1/images`, image, 'image/jpeg');
    const creation = { tus: '/v1/uploads', peer: '/files', bare: '/uploads' }[row];
    return tusUpload(`${base}${creation}`, image, chunkBytes);
  };
  const profileDir = row === 'tus' ? bench.profileDir : undefined;
  let server: ServerProcess | undefined;
  try {
    server = await startNodeServer({
      name: rowLabels[row],
      script: path.join(bench.root, scripts[row]),
      port,
      env,
      nodeArgs: [
        ...bench.nodeArgs,
        ...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]),
      ],
    });
    // Warm up on the path measured (JIT, first store writes), with a 1 MiB photo in 256 KiB
    // chunks: the idle RSS below is that of a server that has served, not of a big upload.
    const warm = await uploadMany(scenario.warmUps, 1, () =>
      upload(readFixture('large.jpg'), 256 * 1024),
    );
    if (warm.failed > 0) problems.push(`warm-up: ${warm.firstFailure}`);
    const before = new Set(storage === undefined ? [] : await storage.listNames());
    if (dir !== undefined) {
      for (const name of await fs.readdir(dir)) await fs.rm(path.join(dir, name), { force: true });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));

    const idle = rssBytes(server.pid);
    const idleAnon = anonRssBytes(server.pid);
    const watch = watchRss(server.pid);
    const cpuBefore = cpuSeconds(server.pid);
    const mainBefore = cpuSecondsByThreadKind(server.pid).main;
    const started = performance.now();
    const run = await uploadMany(scenario.uploads, scenario.concurrency, () =>
      upload(scenario.image, scenario.chunkBytes),
    );
    const wallSeconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    const main = cpuSecondsByThreadKind(server.pid).main - mainBefore;
    const rss = watch.stop();
    const mib = Math.max(1, run.uploads.length) * (scenario.image.length / MiB);

    if (run.failed > 0) problems.push(`${run.failed} uploads failed; first: ${run.firstFailure}`);
    const withoutLocation = run.uploads.filter((u) => u.imageLocation === undefined).length;
    if (row === 'tus' && withoutLocation > 0) {
      problems.push(`${withoutLocation} final PATCHes answered without Image-Location`);
    }
    let stored = '-';
    if (storage !== undefined) {
      const image = await storedByService(scenario.image);
      const check = await verifyStored(storage, before, {
        bytes: image.length,
        sha256: sha256(image),
      });
      stored = `${check.objects - check.wrong.length}/${check.objects}`;
      // A published upload's pieces may be removed just after its last answer.
      let staged = await storage.stagedBytes();
      for (let waited = 0; staged.length > 0 && waited < 5_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        staged = await storage.stagedBytes();
      }
      if (staged.length > 0) {
        problems.push(`${staged.length} staged pieces left: ${staged.slice(0, 3).join(', ')}`);
      }
      problems.push(...check.wrong.slice(0, 3), ...check.leftovers.slice(0, 3));
      if (check.objects < run.uploads.length) {
        problems.push(`${run.uploads.length} uploads finished, ${check.objects} objects stored`);
      }
    } else if (dir !== undefined) {
      const check = await checkDirectory(dir, scenario.image);
      stored = `${check.ok}/${check.all}`;
      if (check.ok < run.uploads.length) {
        problems.push(`${run.uploads.length} uploads finished, ${check.ok} files hold the image`);
      }
    }
    return {
      row,
      seconds: run.uploads.map((u) => u.seconds),
      lastSeconds: run.uploads.map((u) => u.lastSeconds),
      wallSeconds,
      idleRssMiB: idle / MiB,
      rssGrowthMiB: (rss.peakBytes - idle) / MiB,
      anonRssGrowthMiB: (rss.peakAnonBytes - idleAnon) / MiB,
      cpuMsPerMiB: (cpu * 1000) / mib,
      mainMsPerMiB: (main * 1000) / mib,
      failed: run.failed,
      stored,
      problems,
    };
  } catch (error) {
    throw new Error(`${rowLabels[row]} in ${label}: ${String(error)}\n${server?.stderr() ?? ''}`, {
      cause: error,
    });
  } finally {
    await server?.stop();
    await storage?.dispose();
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
    if (profileDir !== undefined)
      process.stdout.write(newestProfileSummary(profileDir, rowLabels.tus));
  }
}

/** MiB/s of the median upload; undefined unless every upload of the row succeeded. */
function rate(result: TusResult | undefined, imageBytes: number): number | undefined {
  if (result === undefined || result.failed > 0 || result.seconds.length === 0) return undefined;
  return imageBytes / MiB / median(result.seconds);
}

function report(scenario: TusScenario, driver: string, results: readonly TusResult[]): string {
  const bytes = scenario.image.length;
  const rows = [
    [
      'server',
      'MiB/s (median upload)',
      's/upload p50',
      's max',
      's last request p50',
      'MiB/s (all, wall)',
      'idle RSS MiB',
      'peak RSS growth MiB',
      'anon growth MiB',
      'CPU ms/MiB',
      'main ms/MiB',
      'ok',
      'failed',
      'stored ok',
    ],
    ...results.map((r) => [
      rowLabels[r.row],
      fixed(rate(r, bytes) ?? NaN),
      fixed(r.seconds.length === 0 ? NaN : median(r.seconds), 2),
      fixed(Math.max(...r.seconds), 2),
      fixed(r.lastSeconds.length === 0 ? NaN : median(r.lastSeconds), 2),
      fixed((r.seconds.length * bytes) / MiB / r.wallSeconds),
      fixed(r.idleRssMiB),
      fixed(r.rssGrowthMiB),
      fixed(r.anonRssGrowthMiB),
      fixed(r.cpuMsPerMiB, 2),
      fixed(r.mainMsPerMiB, 2),
      String(r.seconds.length),
      String(r.failed),
      r.stored,
    ]),
  ];
  const of = (row: TusRow) =>
    rate(
      results.find((r) => r.row === row),
      bytes,
    );
  const tus = results.find((r) => r.row === 'tus');
  const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined ? undefined : a / b;
  const vsRaw = ratio(of('tus'), of('raw'));
  const vsPeer = ratio(of('tus'), of('peer'));
  const vsBare = ratio(of('tus'), of('bare'));
  const shown = (value: number | undefined) => (value === undefined ? '-' : `${fixed(value, 2)}x`);
  const lines = [
    `\n## ${scenario.title}; storage: ${driver}; ${scenario.imageLabel}, ${fixed(bytes / MiB, 2)} MiB; ` +
      `chunks of ${fixed(scenario.chunkBytes / MiB, 2)} MiB; ${scenario.uploads} uploads, ` +
      `${scenario.concurrency} at a time; load average ${fixed(os.loadavg()[0]!, 2)} at the end`,
    table(rows),
    `image-ingest tus / raw POST: ${shown(vsRaw)}; tus / @tus/server + @tus/file-store: ` +
      `${shown(vsPeer)} (the peer appends the bytes to a file: no sniffing, validation, ` +
      `stripping or publishing, and the peer and the ceiling write to a local directory whatever ` +
      `the storage); tus / ceiling: ${shown(vsBare)}`,
  ];
  const targets = scenario.targets;
  if (targets !== undefined) {
    const met = (ok: boolean | undefined) =>
      ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met';
    const growth = tus === undefined || tus.failed > 0 ? undefined : tus.rssGrowthMiB;
    lines.push(
      `targets (${targets.from}, image-ingest tus): >= ${targets.minTusVsRaw}x raw POST: ` +
        `${met(vsRaw === undefined ? undefined : vsRaw >= targets.minTusVsRaw)}; ` +
        `>= ${targets.minTusVsPeer}x @tus/server: ` +
        `${met(vsPeer === undefined ? undefined : vsPeer >= targets.minTusVsPeer)}; ` +
        `RSS growth ${fixed(growth ?? NaN)} < ${targets.maxRssGrowthMiB} MiB: ` +
        `${met(growth === undefined ? undefined : growth < targets.maxRssGrowthMiB)}`,
    );
  }
  for (const r of results) {
    for (const problem of r.problems) lines.push(`PROBLEM ${rowLabels[r.row]}: ${problem}`);
  }
  return lines.join('\n') + '\n';
}

/** Runs the scenario on every storage; true when a row had a problem. */
export async function runTusScenario(
  bench: TusBench,
  scenario: TusScenario,
  storages: readonly ('local' | 'gcs')[],
  rows: readonly TusRow[],
): Promise<boolean> {
  let failed = false;
  const once = new Map<TusRow, TusResult>();
  for (const driver of storages) {
    const results: TusResult[] = [];
    for (const row of rows) {
      if (row === 'peer' || row === 'bare') {
        let result = once.get(row);
        if (result === undefined) {
          result = await runRow(bench, scenario, row, driver);
          once.set(row, result);
        }
        results.push(result);
      } else {
        results.push(await runRow(bench, scenario, row, driver));
      }
    }
    if (results.some((r) => r.problems.length > 0)) failed = true;
    process.stdout.write(report(scenario, driver, results));
  }
  return failed;
}
