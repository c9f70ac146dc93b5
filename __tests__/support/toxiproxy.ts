import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './emulator.js';

export const toxiproxyBinary = path.resolve('.tools/bin/toxiproxy-server');

export type ToxicType =
  'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data';

export interface Toxic {
  readonly type: ToxicType;
  /** upstream: towards the emulator (request bodies); downstream: towards us (answers). */
  readonly stream: 'upstream' | 'downstream';
  readonly attributes: Record<string, number>;
  readonly toxicity?: number;
}

export interface FaultProxy {
  /** Where the service should connect: the proxy's listening address. */
  readonly endpoint: string;
  addToxic(name: string, toxic: Toxic): Promise<void>;
  removeToxic(name: string): Promise<void>;
  removeAllToxics(): Promise<void>;
  /** Disables the proxy: it refuses connections and drops open ones. */
  setEnabled(enabled: boolean): Promise<void>;
}

export interface RunningToxiproxy {
  readonly apiUrl: string;
  readonly process: ChildProcess;
  /** Creates a proxy on a free loopback port in front of `upstream` (host:port). */
  createProxy(name: string, upstream: string): Promise<FaultProxy>;
  stop(): Promise<void>;
}

async function api(apiUrl: string, method: string, route: string, body?: unknown): Promise<void> {
  const response = await fetch(`${apiUrl}${route}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    throw new Error(`toxiproxy ${method} ${route}: ${response.status} ${await response.text()}`);
  }
  await response.arrayBuffer();
}

/** Starts Shopify's toxiproxy (a real TCP fault proxy) with its HTTP API on a free port. */
export async function startToxiproxy(): Promise<RunningToxiproxy> {
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const child = spawn(toxiproxyBinary, ['-host', '127.0.0.1', '-port', String(port)], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, LOG_LEVEL: 'error' },
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(`${apiUrl}/version`);
      if (response.ok) break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    apiUrl,
    process: child,
    async createProxy(name, upstream) {
      const listenPort = await freePort();
      await api(apiUrl, 'POST', '/proxies', {
        name,
        listen: `127.0.0.1:${listenPort}`,
        upstream,
        enabled: true,
      });
      const toxics = new Set<string>();
      return {
        endpoint: `http://127.0.0.1:${listenPort}`,
        async addToxic(toxicName, toxic) {
          await api(apiUrl, 'POST', `/proxies/${name}/toxics`, {
            name: toxicName,
            type: toxic.type,
            stream: toxic.stream,
            toxicity: toxic.toxicity ?? 1,
            attributes: toxic.attributes,
          });
          toxics.add(toxicName);
        },
        async removeToxic(toxicName) {
          await api(apiUrl, 'DELETE', `/proxies/${name}/toxics/${toxicName}`);
          toxics.delete(toxicName);
        },
        async removeAllToxics() {
          for (const toxicName of [...toxics]) {
            await api(apiUrl, 'DELETE', `/proxies/${name}/toxics/${toxicName}`);
            toxics.delete(toxicName);
          }
        },
        async setEnabled(enabled) {
          await api(apiUrl, 'POST', `/proxies/${name}`, { enabled });
        },
      };
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
