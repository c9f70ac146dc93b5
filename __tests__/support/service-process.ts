import { afterEach } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Harness } from '../http/harness.js';

const node = path.resolve('node_modules/.bin/node');

/** Builds dist/ (npm run build), which the service processes run. */
export function buildService(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}

/** The real built service (node dist/index.js) in its own process, on a loopback port. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly origin: string;
  readonly exited: Promise<number | null>;
}

/**
 * The environment that points a service process at a harness's store: the same bucket (GCS)
 * or the same upload folder (local), so that several processes share one store.
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
 * Returns `start(env)`: a service process with its own spool folder, no rate limit, and the
 * port read from its "listening" log line. Every process still running after the test is
 * killed (SIGKILL), and its spool folder removed.
 */
export function useServiceProcesses(): (env: Record<string, string>) => Promise<ServiceProcess> {
  const running: { child: ChildProcess; spoolDir: string }[] = [];
  afterEach(async () => {
    for (const { child, spoolDir } of running.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
      }
      await rm(spoolDir, { recursive: true, force: true });
    }
  });
  return async (env) => {
    const spoolDir = await mkdtemp(path.join(tmpdir(), 'service-spool-'));
    const child = spawn(node, ['dist/index.js'], {
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: '0',
        SPOOL_DIR: spoolDir,
        // info: the port is read from the "listening" line.
        LOG_LEVEL: 'info',
        RATE_LIMIT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    running.push({ child, spoolDir });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const found = /"port":(\d+)/.exec(output);
        if (found !== null) resolve(Number(found[1]));
      });
      void exited.then((code) => reject(new Error(`service exited early (${code}): ${output}`)));
    });
    child.stdout.resume();
    return { child, port, origin: `http://127.0.0.1:${port}`, exited };
  };
}
