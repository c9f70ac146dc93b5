import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';

/**
 * Child processes and temp dirs of one bench run, so that every exit path (success, a thrown
 * error, Ctrl-C, SIGTERM) removes them: a benchmark must never leave a server behind.
 */
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const cleanups = new Set<() => void>();

export function removeOnExit(dir: string): void {
  tempDirs.add(dir);
}

export function onExit(cleanup: () => void): void {
  cleanups.add(cleanup);
}

function cleanUpNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // Best effort: the other resources must still be released.
    }
  }
  cleanups.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.on('exit', cleanUpNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping servers and removing temp dirs\n`);
    cleanUpNow();
    process.exit(130);
  });
}

// One way to find a free port, shared with the tests.
export { freePort } from '../__tests__/support/emulator.ts';

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const exitWithParent = path.resolve(import.meta.dirname, 'exit-with-parent.ts');

export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Everything the process wrote to stderr (the last 64 KiB), to explain a failure. */
  stderr(): string;
  /** SIGTERM, then SIGKILL if it is still there after a few seconds. */
  stop(): Promise<void>;
}

/**
 * Starts a Node server script as a child process listening on `port`, and resolves once the
 * port accepts connections. The child is started with a preload that makes it exit when this
 * process goes away, even if this one is killed with SIGKILL.
 */
export function startNodeServer(options: {
  name: string;
  script: string;
  port: number;
  env: Record<string, string>;
  nodeArgs?: readonly string[];
}): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', exitWithParent, options.script],
    {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  );
  return serving(child, options.name, options.port);
}

/**
 * Starts a server that is not a Node script (the Go peer) the same way. Its stdin is a pipe
 * this process holds open: the program must exit when it reads end-of-file there, which
 * happens when this process goes away, however it ends.
 */
export function startProgramServer(options: {
  name: string;
  command: string;
  port: number;
  env: Record<string, string>;
}): Promise<ServerProcess> {
  const child = spawn(options.command, [], {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  // The pipe may break when the child exits first; its exit is what counts.
  child.stdin?.on('error', () => undefined);
  return serving(child, options.name, options.port);
}

/** Tracks a started server, and resolves once its port accepts connections. */
async function serving(child: ChildProcess, name: string, port: number): Promise<ServerProcess> {
  children.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-65536);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(
    () => children.delete(child),
    () => undefined,
  );

  const deadline = Date.now() + 20_000;
  while (!(await portAccepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited before listening:\n${stderr}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not listen on port ${port} within 20 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    name,
    port,
    pid: child.pid!,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Starts any other program (the GCS emulator) under the same clean-up rules. */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

function statusKib(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/** CPU seconds (user + system) a process, or one of its threads, has used so far. */
export function cpuSeconds(pid: number, thread?: number): number {
  const file = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  // The command name (field 2) may hold spaces: count fields after its closing ")".
  const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** What a Node process's threads do, by the names Node and V8 give them. */
export type ThreadKind = 'main' | 'libuv pool' | 'V8 helpers' | 'worker threads' | 'other';

function kindOf(pid: number, thread: number, name: string): ThreadKind {
  if (thread === pid) return 'main';
  if (name === 'libuv-worker') return 'libuv pool';
  if (name.startsWith('node-V8Worker') || name.startsWith('V8 ')) return 'V8 helpers';
  if (name === 'WorkerThread') return 'worker threads';
  return 'other';
}

/** CPU seconds used so far by each kind of thread of a process (live threads only). */
export function cpuSecondsByThreadKind(pid: number): Record<ThreadKind, number> {
  const totals: Record<ThreadKind, number> = {
    main: 0,
    'libuv pool': 0,
    'V8 helpers': 0,
    'worker threads': 0,
    other: 0,
  };
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    const thread = Number(entry);
    try {
      const name = readFileSync(`/proc/${pid}/task/${entry}/comm`, 'utf8').trim();
      totals[kindOf(pid, thread, name)] += cpuSeconds(pid, thread);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return totals;
}

export function rssBytes(pid: number): number {
  return statusKib(pid, 'VmRSS') * 1024;
}

/** The anonymous part of the resident set: memory the process allocated, not mapped files. */
export function anonRssBytes(pid: number): number {
  return statusKib(pid, 'RssAnon') * 1024;
}

export interface RssWatch {
  /**
   * Stops polling; returns the highest RSS seen (polled, or the kernel's high-water mark) and
   * the highest anonymous RSS polled (the kernel keeps no peak of that).
   */
  stop(): { peakBytes: number; peakAnonBytes: number; samples: number; hwmTrusted: boolean };
}

/**
 * Follows a process's resident set while a load runs: VmRSS every `intervalMs`, plus VmHWM,
 * the kernel's own peak, which catches spikes between two polls. The peak is first reset
 * (writing 5 to clear_refs, Linux >= 4.0, needs the right to write there) so that it covers
 * this run only; when that is refused, only the polled values are used.
 */
export function watchRss(pid: number, intervalMs = 20, resetHwm = true): RssWatch {
  // Without the reset (a watch inside another one, which relies on the mark) VmHWM is not ours.
  let hwmTrusted = resetHwm;
  try {
    if (resetHwm) writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    hwmTrusted = false;
  }
  let peak = rssBytes(pid);
  let peakAnon = anonRssBytes(pid);
  let samples = 1;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
      peakAnon = Math.max(peakAnon, anonRssBytes(pid));
      samples++;
    } catch {
      // The process has gone; the run will report its failure.
    }
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      try {
        peak = Math.max(peak, rssBytes(pid));
        peakAnon = Math.max(peakAnon, anonRssBytes(pid));
        if (hwmTrusted) peak = Math.max(peak, statusKib(pid, 'VmHWM') * 1024);
      } catch {
        // As above.
      }
      return { peakBytes: peak, peakAnonBytes: peakAnon, samples, hwmTrusted };
    },
  };
}
