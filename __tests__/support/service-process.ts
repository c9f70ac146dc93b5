import type { Bucket } from '@google-cloud/storage';
import { afterEach } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Harness } from '../http/harness.js';
import { emulatorEndpoint } from './gcs.js';

/**
 * The real built service (node dist/index.js; run `npm run build` first) as a child process
 * over a bucket on the emulator, for tests that signal or kill it.
 */

const node = path.resolve('node_modules/.bin/node');
const running = new Set<ChildProcess>();

/** For afterEach: a failed test must not leave its services behind. */
export function killServices(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  running.clear();
}

export interface Service {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<number | null>;
  /** Resolves once the service has written a log line containing `text`. */
  logged(text: string): Promise<void>;
}

export async function startService(bucket: Bucket, env: Record<string, string>): Promise<Service> {
  return startServiceWith({
    STORAGE_DRIVER: 'gcs',
    GCS_BUCKET: bucket.name,
    GCS_PROJECT_ID: 'test-project',
    GCS_API_ENDPOINT: emulatorEndpoint(),
    // 50 concurrent uploads from one address: the abuse limits are not what is tested here.
    MAX_CONCURRENT_UPLOADS: '100',
    ...env,
  });
}

/** The built service with `env` for its store (local or GCS) and anything else. */
export async function startServiceWith(env: Record<string, string>): Promise<Service> {
  const child = spawn(node, ['dist/index.js'], {
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      // info: the test reads the port from the "listening" line.
      LOG_LEVEL: 'info',
      RATE_LIMIT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close', not 'exit': by then everything it wrote to stdout has been read.
  let ended = false;
  child.once('close', () => (ended = true));
  const logged = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const look = (): void => {
        if (output.includes(text)) resolve();
        // Polling on after the exit would keep jest alive once the test has failed.
        else if (ended) reject(new Error(`the service exited without logging ${text}: ${output}`));
        else setTimeout(look, 10);
      };
      look();
    });
  const port = await new Promise<number>((resolve, reject) => {
    logged('"port":').then(() => resolve(Number(/"port":(\d+)/.exec(output)?.[1])), reject);
    void exited.then((code) => reject(new Error(`service exited early (${code}): ${output}`)));
  });
  return { child, port, exited, logged };
}

/**
 * The environment that points a service at a harness's store: the same bucket (GCS) or the
 * same upload folder (local), so that several processes share one store.
 */
export function storeEnvOf(harness: Harness): Record<string, string> {
  const { storage } = harness.config;
  if (storage.driver === 'local') return { STORAGE_DRIVER: 'local', UPLOAD_DIR: storage.uploadDir };
  return {
    STORAGE_DRIVER: 'gcs',
    GCS_BUCKET: storage.bucket,
    GCS_PROJECT_ID: 'test-project',
    ...(storage.apiEndpoint === undefined ? {} : { GCS_API_ENDPOINT: storage.apiEndpoint }),
  };
}

/**
 * Returns `start(env)`: startServiceWith with a spool folder of its own; after each test the
 * services still running are killed (SIGKILL) and the spool folders removed.
 */
export function useServiceProcesses(): (env: Record<string, string>) => Promise<Service> {
  const spoolDirs: string[] = [];
  afterEach(async () => {
    killServices();
    for (const spoolDir of spoolDirs.splice(0))
      await rm(spoolDir, { recursive: true, force: true });
  });
  return async (env) => {
    const spoolDir = await mkdtemp(path.join(tmpdir(), 'service-spool-'));
    spoolDirs.push(spoolDir);
    return startServiceWith({ SPOOL_DIR: spoolDir, ...env });
  };
}
