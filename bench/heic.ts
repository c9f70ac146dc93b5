import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFixture } from './bodies.ts';
import { freePort, rssBytes, startNodeServer, watchRss, type ServerProcess } from './processes.ts';
import { fixed, table } from './table.ts';
import { median, uploadMany } from './tus.ts';

/**
 * The HEIC scenario (h): a 12 MP iPhone photo (a real camera file, __tests__/fixtures/heic)
 * sent as a raw body and stored with its display rendition (and whatever IMAGE_VARIANTS says),
 * `concurrency` at a time, by image-ingest with each HEIF decoder, against a peer written the
 * usual way (bench/heic-peer-server.ts: Koa + heif-convert per upload, both files kept). Then
 * the decode alone, one thread each, and the memory of `memoryConcurrency` uploads at once.
 */

const MiB = 1024 * 1024;

export const heicRows = ['wasm', 'native', 'peer'] as const;
export type HeicRow = (typeof heicRows)[number];

const rowLabels: Record<HeicRow, string> = {
  wasm: 'image-ingest, HEIC_DECODER=wasm (default)',
  native: 'image-ingest, HEIC_DECODER=native',
  peer: 'peer: Koa + heif-convert per upload',
};

export interface HeicScenario {
  readonly key: string;
  readonly title: string;
  /** Path of the photo under __tests__/fixtures. */
  readonly fixture: string;
  readonly uploads: number;
  readonly concurrency: number;
  /** Uploads at once in the memory run (one each). */
  readonly memoryConcurrency: number;
  /** Decodes of the photo, timed, per decoder (after one untimed). */
  readonly decodes: number;
  readonly targets?: { readonly from: string; readonly minRpsVsPeer: number };
}

export interface HeicBench {
  readonly root: string;
  readonly tempRoot: string;
  /** `--env`, over everything else. */
  readonly extraEnv: Readonly<Record<string, string>>;
  readonly nodeArgs: readonly string[];
}

interface RowResult {
  readonly row: HeicRow;
  readonly requestsPerSecond: number;
  /** The server's CPU and its children's (heif-convert), per upload. */
  readonly cpuMsPerRequest: number;
  readonly failed: number;
  readonly problems: readonly string[];
}

/** CPU seconds of a process and of its children that have ended (heif-convert). */
function cpuWithChildren(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime, stime, cutime, cstime: fields 14 to 17, in clock ticks (100 a second).
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
}

async function post(url: string, photo: Buffer): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'image/heic' },
    body: new Uint8Array(photo),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 201) throw new Error(`${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function startRow(
  bench: HeicBench,
  row: HeicRow,
  label: string,
): Promise<{ server: ServerProcess; url: string; dir: string }> {
  const dir = await fs.mkdtemp(path.join(bench.tempRoot, `${label}-`));
  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT: '0',
    MAX_CONCURRENT_UPLOADS: '1000',
    STORAGE_DRIVER: 'local',
    UPLOAD_DIR: dir,
    // The peer has no time limit; on a loaded machine DECODE_TIMEOUT_SECONDS' 10 s would turn
    // slow uploads into failures instead of measuring them.
    ...(row === 'peer' ? {} : { HEIC_DECODER: row, DECODE_TIMEOUT_SECONDS: '120' }),
    ...bench.extraEnv,
  };
  const script = row === 'peer' ? 'bench/heic-peer-server.ts' : 'dist/index.js';
  const server = await startNodeServer({
    name: rowLabels[row],
    script: path.join(bench.root, script),
    port,
    env,
    nodeArgs: bench.nodeArgs,
  });
  const url = `http://127.0.0.1:${port}${row === 'peer' ? '/upload' : '/v1/images'}`;
  return { server, url, dir };
}

async function runRow(bench: HeicBench, scenario: HeicScenario, row: HeicRow, photo: Buffer) {
  const problems: string[] = [];
  const { server, url, dir } = await startRow(bench, row, `${scenario.key}-${row}`);
  try {
    // Warm: the workers start, the JIT settles.
    try {
      await post(url, photo);
      await post(url, photo);
    } catch (error) {
      throw new Error(`${rowLabels[row]} failed to warm up:\n${server.stderr()}`, { cause: error });
    }
    const cpuBefore = cpuWithChildren(server.pid);
    const started = performance.now();
    const { failed, firstFailure } = await uploadMany(scenario.uploads, scenario.concurrency, () =>
      post(url, photo),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuWithChildren(server.pid) - cpuBefore;
    if (firstFailure !== undefined) problems.push(`${failed} failed, first: ${firstFailure}`);
    // Every upload left its original and a JPEG every browser shows.
    const stored = (await fs.readdir(dir)).filter((name) => !name.startsWith('.'));
    const displays = stored.filter((name) => name.endsWith('.jpg')).length;
    const wanted = scenario.uploads + 2 - failed;
    if (displays !== wanted)
      problems.push(`${displays} display JPEGs stored for ${wanted} uploads`);
    const done = scenario.uploads - failed;
    return {
      row,
      requestsPerSecond: done / seconds,
      cpuMsPerRequest: (cpu * 1000) / Math.max(1, done),
      failed,
      problems,
    } satisfies RowResult;
  } finally {
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Peak RSS growth over idle (after one upload) of `memoryConcurrency` uploads at once. */
async function runMemory(bench: HeicBench, scenario: HeicScenario, row: HeicRow, photo: Buffer) {
  const { server, url, dir } = await startRow(bench, row, `${scenario.key}-${row}-memory`);
  try {
    await post(url, photo);
    const idle = rssBytes(server.pid);
    const watch = watchRss(server.pid);
    const { failed, firstFailure } = await uploadMany(
      scenario.memoryConcurrency,
      scenario.memoryConcurrency,
      () => post(url, photo),
    );
    const { peakBytes } = watch.stop();
    return { idleMiB: idle / MiB, growthMiB: (peakBytes - idle) / MiB, failed, firstFailure };
  } finally {
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** CPU seconds of this process's children that have ended (heif-convert, once reaped). */
function childrenCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Wall and CPU time of one step, in ms. */
interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

function medianTiming(timings: readonly Timing[]): Timing {
  return {
    wallMs: median(timings.map((timing) => timing.wallMs)),
    cpuMs: median(timings.map((timing) => timing.cpuMs)),
  };
}

/**
 * The decode alone, one thread each: libheif-js in one worker (the service's own decoder, from
 * dist/, to an RGBA image) against Debian's heif-convert pinned to one CPU (taskset), writing
 * Y4M (the decoded planes, no colour conversion, no PNG), PNG (what HEIC_DECODER=native hands
 * sharp) and a JPEG at quality 85 (the peer's whole job). Median of wall time and of CPU time:
 * on a shared machine the wall time measures the load as much as the decoder, the CPU time
 * (this process's for the worker, which is all it runs meanwhile; the reaped children's for
 * heif-convert) does not.
 */
async function decodeTimes(bench: HeicBench, scenario: HeicScenario, photo: Buffer) {
  const { WasmHeifDecoder } = (await import(
    new URL('../dist/images/codecs/heif/wasm-decoder.js', import.meta.url).href
  )) as typeof import('../src/images/codecs/heif/wasm-decoder.ts');
  const decoder = new WasmHeifDecoder({ workers: 1 });
  const limits = { maxPixels: 100_000_000, timeoutMs: 120_000 };
  const wasm: Timing[] = [];
  try {
    await decoder.decode(photo, limits);
    for (let i = 0; i < scenario.decodes; i += 1) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await decoder.decode(photo, limits);
      const used = process.cpuUsage(cpu);
      wasm.push({ wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 });
    }
  } finally {
    await decoder.close();
  }
  const dir = await fs.mkdtemp(path.join(bench.tempRoot, `${scenario.key}-decode-`));
  const input = path.join(dir, 'in.heic');
  await fs.writeFile(input, photo);
  const native = (extension: string): Timing => {
    const times: Timing[] = [];
    for (let i = 0; i <= scenario.decodes; i += 1) {
      const cpu = childrenCpu();
      const started = performance.now();
      execFileSync('taskset', [
        '-c',
        '0',
        'heif-convert',
        '--quiet',
        ...(extension === 'jpg' ? ['-q', '85'] : []),
        input,
        path.join(dir, `out.${extension}`),
      ]);
      const timing = { wallMs: performance.now() - started, cpuMs: (childrenCpu() - cpu) * 1000 };
      if (i > 0) times.push(timing);
    }
    return medianTiming(times);
  };
  try {
    return {
      wasm: medianTiming(wasm),
      y4m: native('y4m'),
      png: native('png'),
      jpg: native('jpg'),
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Runs the scenario and prints its tables; true when something failed. */
export async function runHeicScenario(
  bench: HeicBench,
  scenario: HeicScenario,
  rows: readonly HeicRow[],
): Promise<boolean> {
  const photo = readFixture(scenario.fixture);
  const out: string[] = [
    `## ${scenario.title}; ${fixed(photo.length / MiB)} MiB raw body; storage: local; ` +
      `${scenario.concurrency} concurrent, ${scenario.uploads} uploads; ` +
      `${os.availableParallelism()} CPUs, load average ${os
        .loadavg()
        .map((l) => fixed(l, 2))
        .join(' ')}`,
    '',
  ];
  const results: RowResult[] = [];
  for (const row of rows) {
    process.stdout.write(`  ${scenario.key}: ${rowLabels[row]}...\n`);
    results.push(await runRow(bench, scenario, row, photo));
  }
  const peer = results.find((result) => result.row === 'peer');
  out.push(
    table([
      ['server', 'req/s', 'CPU ms/req', 'req/s vs peer', 'CPU vs peer', 'failed'],
      ...results.map((result) => [
        rowLabels[result.row],
        fixed(result.requestsPerSecond, 2),
        fixed(result.cpuMsPerRequest, 0),
        peer === undefined
          ? '-'
          : `${fixed(result.requestsPerSecond / peer.requestsPerSecond, 2)}x`,
        peer === undefined ? '-' : `${fixed(result.cpuMsPerRequest / peer.cpuMsPerRequest, 2)}x`,
        String(result.failed),
      ]),
    ]),
  );
  const wasm = results.find((result) => result.row === 'wasm');
  if (scenario.targets !== undefined && wasm !== undefined && peer !== undefined) {
    const ratio = wasm.requestsPerSecond / peer.requestsPerSecond;
    out.push(
      `target (${scenario.targets.from}): embedded decoder at least ${scenario.targets.minRpsVsPeer}x ` +
        `the peer's req/s: ${fixed(ratio, 2)}x, ${ratio >= scenario.targets.minRpsVsPeer ? 'met' : 'NOT met'}`,
    );
  }

  const decode = await decodeTimes(bench, scenario, photo);
  const timing = (t: Timing): string =>
    `${fixed(t.cpuMs, 0)} ms CPU (${fixed(t.wallMs, 0)} ms wall)`;
  out.push(
    '',
    `Decode alone, one thread each, median of ${scenario.decodes}: libheif-js (WebAssembly, one ` +
      `worker, to RGBA) ${timing(decode.wasm)}; heif-convert (taskset -c 0) to Y4M ` +
      `${timing(decode.y4m)}, to PNG ${timing(decode.png)}, to JPEG q85 (the peer's job) ` +
      `${timing(decode.jpg)}; WebAssembly / native CPU ${fixed(decode.wasm.cpuMs / decode.y4m.cpuMs, 2)}x ` +
      `(Y4M), ${fixed(decode.wasm.cpuMs / decode.png.cpuMs, 2)}x (PNG).`,
  );

  let failedMemory = false;
  for (const row of rows.filter((candidate) => candidate !== 'peer')) {
    const memory = await runMemory(bench, scenario, row, photo);
    out.push(
      `Memory, ${rowLabels[row]}: ${scenario.memoryConcurrency} uploads at once, idle RSS ` +
        `${fixed(memory.idleMiB, 0)} MiB, peak RSS growth ${fixed(memory.growthMiB, 0)} MiB` +
        (memory.failed === 0 ? '' : `; ${memory.failed} failed: ${memory.firstFailure}`),
    );
    if (memory.failed > 0) {
      out.push(`PROBLEM ${rowLabels[row]}: memory run, ${memory.failed} failed`);
      failedMemory = true;
    }
  }
  const problems = results.flatMap((result) =>
    result.problems.map((problem) => `${rowLabels[result.row]}: ${problem}`),
  );
  out.push(...problems.map((problem) => `PROBLEM ${problem}`), '');
  process.stdout.write(`${out.join('\n')}\n`);
  return problems.length > 0 || failedMemory;
}
