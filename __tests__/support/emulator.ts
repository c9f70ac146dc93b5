import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

export const emulatorBinary = path.resolve('.tools/bin/fake-gcs-server');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningEmulator {
  readonly endpoint: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts fake-gcs-server on a free loopback port, keeping objects in memory. */
export async function startEmulator(port?: number): Promise<RunningEmulator> {
  const chosenPort = port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${chosenPort}`;
  const child = spawn(
    emulatorBinary,
    [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(chosenPort),
      '-backend',
      'memory',
      '-public-host',
      `127.0.0.1:${chosenPort}`,
      '-external-url',
      endpoint,
      '-log-level',
      'error',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`fake-gcs-server exited early with code ${code}`)),
    );
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const response = await Promise.race([fetch(`${endpoint}/storage/v1/b`), exited]);
      if (response.ok) break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  exited.catch(() => undefined);
  return {
    endpoint,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
