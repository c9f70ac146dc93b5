import type { Bucket } from '@google-cloud/storage';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
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
  const child = spawn(node, ['dist/index.js'], {
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      STORAGE_DRIVER: 'gcs',
      GCS_BUCKET: bucket.name,
      GCS_PROJECT_ID: 'test-project',
      GCS_API_ENDPOINT: emulatorEndpoint(),
      // info: the test reads the port from the "listening" line.
      LOG_LEVEL: 'info',
      // 50 concurrent uploads from one address: the abuse limits are not what is tested here.
      RATE_LIMIT: '0',
      MAX_CONCURRENT_UPLOADS: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const logged = (text: string): Promise<void> =>
    new Promise((resolve) => {
      const look = (): void => {
        if (output.includes(text)) resolve();
        else setTimeout(look, 10);
      };
      look();
    });
  const port = await new Promise<number>((resolve, reject) => {
    void logged('"port":').then(() => resolve(Number(/"port":(\d+)/.exec(output)?.[1])));
    void exited.then((code) => reject(new Error(`service exited early (${code}): ${output}`)));
  });
  return { child, port, exited, logged };
}
