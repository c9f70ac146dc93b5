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
  type RssWatch,
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
import {
  rawUpload,
  tusExtensions,
  tusJsUpload,
  tusUpload,
  type OnLastRequest,
  type Upload,
} from './tus-client.ts';

/**
 * The resumable-upload scenario (t): one image through tus in fixed chunks, against the same
 * image in one raw POST /v1/images to the same service, against stock @tus/server with
 * @tus/file-store (and, on GCS, with @tus/gcs-store on the same emulator), and against a bare
 * tus ceiling, all with the one client of tus-client.ts; then the same image through
 * tus-js-client, one upload and `parallelUploads: 4` (tus concatenation, run only when the
 * server names `concatenation` in `Tus-Extension`). Each row is a fresh server process; the
 * file-store peer and the ceiling keep the bytes in a directory of their own whatever the
 * storage, so they run once and their rows repeat in every table.
 */

const MiB = 1024 * 1024;

/** The rows of the table: what `--servers` service, baseline and bare stand for here. */
export const tusRows = ['tus', 'raw', 'peer', 'peerGcs', 'bare', 'tusJs', 'tusJsParallel'] as const;
export type TusRow = (typeof tusRows)[number];

export const tusRowsOf: Record<'service' | 'baseline' | 'bare', readonly TusRow[]> = {
  service: ['tus', 'raw', 'tusJs', 'tusJsParallel'],
  baseline: ['peer', 'peerGcs'],
  bare: ['bare'],
};

/** The partial uploads of the parallel line, as issue 18 asks (tus-js-client's option). */
const parallelUploads = 4;

const rowLabels: Record<TusRow, string> = {
  tus: 'image-ingest, tus (/v1/uploads)',
  raw: 'image-ingest, one raw POST /v1/images',
  peer: '@tus/server + @tus/file-store',
  peerGcs: '@tus/server + @tus/gcs-store',
  bare: 'ceiling (bare tus PATCH to a file)',
  tusJs: 'image-ingest, tus-js-client',
  tusJsParallel: `image-ingest, tus-js-client, parallelUploads: ${parallelUploads}`,
};

/** Rows that run on one storage only: the GCS peer writes to the emulator. */
const gcsOnlyRows: ReadonlySet<TusRow> = new Set(['peerGcs']);
/** Rows of a server that keeps the bytes in a local directory whatever the storage. */
const onceRows: ReadonlySet<TusRow> = new Set(['peer', 'bare']);

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
    /** Against the like-for-like peer: @tus/file-store locally, @tus/gcs-store on GCS. */
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
  /** Why the row did not run (the server lacks an extension it needs). */
  readonly skipped?: string;
  readonly seconds: readonly number[];
  /** Of the last request of each upload (tus: the last PATCH, raw: the POST). */
  readonly lastSeconds: readonly number[];
  readonly wallSeconds: number;
  readonly idleRssMiB: number;
  readonly rssGrowthMiB: number;
  readonly anonRssGrowthMiB: number;
  /**
   * Peak RSS during each upload's last request (the finish) over the RSS just before it was
   * sent, the largest of the uploads; undefined when uploads overlap (then it means nothing).
   */
  readonly finishRssGrowthMiB: number | undefined;
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

/** The objects the GCS peer wrote since `before` (named by its upload ids) that are the image. */
async function checkBucket(
  storage: BenchStorage,
  before: ReadonlySet<string>,
  image: Buffer,
): Promise<{ ok: number; all: number }> {
  const wanted = sha256(image);
  const names = (await storage.listNames()).filter((name) => !before.has(name));
  let ok = 0;
  for (const name of names) {
    const found = await storage.sha256Of(name);
    if (found?.bytes === image.length && found.sha256 === wanted) ok += 1;
  }
  return { ok, all: names.length };
}

/** A row that did not run, and why, for the table and the report. */
const skippedRow = (row: TusRow, reason: string): TusResult => ({
  row,
  skipped: reason,
  seconds: [],
  lastSeconds: [],
  wallSeconds: NaN,
  idleRssMiB: NaN,
  rssGrowthMiB: NaN,
  anonRssGrowthMiB: NaN,
  finishRssGrowthMiB: undefined,
  cpuMsPerMiB: NaN,
  mainMsPerMiB: NaN,
  failed: 0,
  stored: '-',
  problems: [],
});

async function runRow(
  bench: TusBench,
  scenario: TusScenario,
  row: TusRow,
  driver: 'local' | 'gcs',
): Promise<TusResult> {
  const problems: string[] = [];
  // Bucket names are lowercase.
  const label = `${scenario.key}-${row.toLowerCase()}`;
  let storage: BenchStorage | undefined;
  let dir: string | undefined;
  if (onceRows.has(row)) dir = await fs.mkdtemp(path.join(bench.tempRoot, `${label}-`));
  else if (driver === 'local') storage = await localStorage(bench.tempRoot, label);
  else storage = await gcsStorage(bench.emulatorEndpoint!, label);

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
    tusJs: 'dist/index.js',
    tusJsParallel: 'dist/index.js',
    peer: 'bench/tus-peer-server.ts',
    peerGcs: 'bench/tus-peer-server.ts',
    bare: 'bench/bare-tus-server.ts',
  };
  const creationPaths: Partial<Record<TusRow, string>> = {
    peer: '/files',
    peerGcs: '/files',
    bare: '/uploads',
  };
  const creationUrl = `${base}${creationPaths[row] ?? '/v1/uploads'}`;
  const upload = (image: Buffer, chunkBytes: number, onLast?: OnLastRequest): Promise<Upload> => {
    if (row === 'raw') return rawUpload(`${base}/v1/images`, image, 'image/jpeg', onLast);
    if (row === 'tusJs') return tusJsUpload(creationUrl, image, chunkBytes, 1, onLast);
    if (row === 'tusJsParallel') {
      return tusJsUpload(creationUrl, image, chunkBytes, parallelUploads, onLast);
    }
    return tusUpload(creationUrl, image, chunkBytes, onLast);
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
    if (row === 'tusJsParallel') {
      const extensions = await tusExtensions(creationUrl);
      if (!extensions.includes('concatenation')) {
        return skippedRow(row, 'server lacks concatenation');
      }
    }
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
    // The finish alone: the RSS just before each upload's last request, and its peak until
    // the answer (one upload at a time only: overlapping uploads would mix their finishes).
    const finishGrowths: number[] = [];
    const oneAtATime = scenario.concurrency === 1;
    const pid = server.pid;
    const run = await uploadMany(scenario.uploads, scenario.concurrency, async () => {
      const finish: { before: number; watch: RssWatch }[] = [];
      const onLast = () => {
        finish.push({ before: rssBytes(pid), watch: watchRss(pid, 10, false) });
      };
      try {
        return await upload(scenario.image, scenario.chunkBytes, oneAtATime ? onLast : undefined);
      } finally {
        for (const { before, watch } of finish) {
          finishGrowths.push(watch.stop().peakBytes - before);
        }
      }
    });
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
    if (row === 'peerGcs' && storage !== undefined) {
      const check = await checkBucket(storage, before, scenario.image);
      stored = `${check.ok}/${check.all}`;
      if (check.ok < run.uploads.length) {
        problems.push(`${run.uploads.length} uploads finished, ${check.ok} objects hold the image`);
      }
    } else if (storage !== undefined) {
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
      finishRssGrowthMiB: finishGrowths.length === 0 ? undefined : Math.max(...finishGrowths) / MiB,
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
  const p50 = (values: readonly number[]): number => (values.length === 0 ? NaN : median(values));
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
      'finish RSS growth MiB',
      'CPU ms/MiB',
      'main ms/MiB',
      'ok',
      'failed',
      'stored ok',
    ],
    ...results.map((r) =>
      r.skipped !== undefined
        ? [rowLabels[r.row], `skipped: ${r.skipped}`, ...Array<string>(13).fill('-')]
        : [
            rowLabels[r.row],
            fixed(rate(r, bytes) ?? NaN),
            fixed(p50(r.seconds), 2),
            fixed(Math.max(...r.seconds), 2),
            fixed(p50(r.lastSeconds), 2),
            fixed((r.seconds.length * bytes) / MiB / r.wallSeconds),
            fixed(r.idleRssMiB),
            fixed(r.rssGrowthMiB),
            fixed(r.anonRssGrowthMiB),
            fixed(r.finishRssGrowthMiB ?? NaN),
            fixed(r.cpuMsPerMiB, 2),
            fixed(r.mainMsPerMiB, 2),
            String(r.seconds.length),
            String(r.failed),
            r.stored,
          ],
    ),
  ];
  const find = (row: TusRow) => results.find((r) => r.row === row);
  const of = (row: TusRow) => rate(find(row), bytes);
  const tus = find('tus');
  // The like-for-like peer: the one that writes where image-ingest writes.
  const samePeer: TusRow = driver === 'gcs' && find('peerGcs') !== undefined ? 'peerGcs' : 'peer';
  const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined ? undefined : a / b;
  const vsRaw = ratio(of('tus'), of('raw'));
  const vsPeer = ratio(of('tus'), of(samePeer));
  const shown = (value: number | undefined) => (value === undefined ? '-' : `${fixed(value, 2)}x`);
  const lines = [
    `\n## ${scenario.title}; storage: ${driver}; ${scenario.imageLabel}, ${fixed(bytes / MiB, 2)} MiB; ` +
      `chunks of ${fixed(scenario.chunkBytes / MiB, 2)} MiB; ${scenario.uploads} uploads, ` +
      `${scenario.concurrency} at a time; load average ${fixed(os.loadavg()[0]!, 2)} at the end`,
    table(rows),
    `image-ingest tus / raw POST: ${shown(vsRaw)}; tus / @tus/server + @tus/file-store: ` +
      `${shown(ratio(of('tus'), of('peer')))}` +
      (find('peerGcs') === undefined
        ? ''
        : `; tus / @tus/server + @tus/gcs-store: ${shown(ratio(of('tus'), of('peerGcs')))}`) +
      ` (the peers keep the bytes as sent: no sniffing, validation, stripping or publishing; ` +
      `the file-store peer and the ceiling write to a local directory whatever the storage); ` +
      `tus / ceiling: ${shown(ratio(of('tus'), of('bare')))}`,
  ];
  for (const row of ['tusJs', 'tusJsParallel'] as const) {
    const result = find(row);
    if (result === undefined) continue;
    lines.push(
      result.skipped !== undefined
        ? `${rowLabels[row]}: skipped: ${result.skipped}`
        : `${rowLabels[row]} / raw POST: ${shown(ratio(of(row), of('raw')))}; ` +
            `/ ${rowLabels[samePeer]}: ${shown(ratio(of(row), of(samePeer)))}; ` +
            `/ image-ingest tus (bench client): ${shown(ratio(of(row), of('tus')))}`,
    );
  }
  const lastOf = (row: TusRow): string => {
    const result = find(row);
    if (result === undefined || result.skipped !== undefined) return '';
    const what = {
      tus: 'last PATCH',
      raw: 'the whole POST',
      tusJs: 'last PATCH',
      tusJsParallel: 'final POST (Upload-Concat: final)',
      peer: 'last PATCH',
      peerGcs: 'last PATCH',
      bare: 'last PATCH',
    }[row];
    return `${rowLabels[row]} ${fixed(p50(result.lastSeconds), 2)} s (${what})`;
  };
  lines.push(
    `the request that finishes an upload, from just before its first byte to its answer, ` +
      `p50 of ${scenario.uploads}: ` +
      tusRows
        .map(lastOf)
        .filter((line) => line !== '')
        .join('; '),
  );
  const targets = scenario.targets;
  if (targets !== undefined) {
    const met = (ok: boolean | undefined) =>
      ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met';
    const growth = tus === undefined || tus.failed > 0 ? undefined : tus.rssGrowthMiB;
    lines.push(
      `targets (${targets.from}, image-ingest tus): >= ${targets.minTusVsRaw}x raw POST: ` +
        `${met(vsRaw === undefined ? undefined : vsRaw >= targets.minTusVsRaw)}; ` +
        `>= ${targets.minTusVsPeer}x ${rowLabels[samePeer]}: ` +
        `${met(vsPeer === undefined ? undefined : vsPeer >= targets.minTusVsPeer)}; ` +
        `peak RSS growth over idle ${fixed(growth ?? NaN)} < ${targets.maxRssGrowthMiB} MiB: ` +
        `${met(growth === undefined ? undefined : growth < targets.maxRssGrowthMiB)} ` +
        `(during the finish alone: ${fixed(tus?.finishRssGrowthMiB ?? NaN)} MiB)`,
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
      if (gcsOnlyRows.has(row) && driver !== 'gcs') continue;
      if (onceRows.has(row)) {
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
