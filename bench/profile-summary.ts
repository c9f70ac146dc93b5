import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The parts of a V8 .cpuprofile (written by `node --cpu-prof`) that self time needs. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const root = path.resolve(import.meta.dirname, '..');

function where(url: string, line: number): string {
  if (url === '') return '';
  const file = url.startsWith('file://') ? path.relative(root, new URL(url).pathname) : url;
  return `${file}:${line + 1}`;
}

/** Groups a location into what a reader acts on: our code, a dependency, Node, V8. */
function area(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node core';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match !== null) return match[1]!;
  if (url.includes('/dist/')) return 'image-ingest (dist/)';
  return url;
}

/**
 * Self time per function and per area, as shares of all sampled time outside "(idle)": where
 * the CPU went while it was working.
 */
export function summariseCpuProfile(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByFunction = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    if (frame.functionName === '(idle)') {
      idle += micros;
      return;
    }
    busy += micros;
    const name = `${frame.functionName || '(anonymous)'} ${where(frame.url, frame.lineNumber)}`;
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + micros);
    const areaName = area(frame.url, frame.functionName);
    selfByArea.set(areaName, (selfByArea.get(areaName) ?? 0) + micros);
  });
  const share = (micros: number): string => `${((100 * micros) / busy).toFixed(1).padStart(5)}%`;
  const ranked = (map: Map<string, number>): [string, number][] =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [
    `busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s; self time as a share of busy time`,
    'by area:',
    ...ranked(selfByArea).map(([name, micros]) => `  ${share(micros)}  ${name}`),
    'by function:',
    ...ranked(selfByFunction).map(([name, micros]) => `  ${share(micros)}  ${name}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The summary of the main thread's profile of the newest process profiled into `dir`. --cpu-prof
 * writes one file per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>, each thread at its own
 * time): the main thread's is thread 0 of the newest process.
 */
export function newestProfileSummary(dir: string, label: string): string {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort();
  const pid = files.at(-1)?.split('.')[3];
  const newest =
    files.find((name) => name.split('.')[3] === pid && name.split('.')[4] === '0') ?? files.at(-1);
  if (newest === undefined) return '';
  return (
    `\nCPU profile of ${label}: ${path.join(dir, newest)}\n` +
    summariseCpuProfile(path.join(dir, newest), 20)
  );
}

// `node bench/profile-summary.ts file.cpuprofile [top]` summarises a profile taken elsewhere.
if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined)
    throw new Error('usage: node bench/profile-summary.ts <file.cpuprofile> [top]');
  process.stdout.write(summariseCpuProfile(file, Number(top ?? 25)));
}
