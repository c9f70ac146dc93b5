import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the emulator, to inject network faults with a real connection:
 * `cutAfter(n)` lets n bytes of client-to-server traffic through on the next connection and
 * then destroys both sides, as a dropped connection would; `stop()` refuses new connections.
 */
export interface TcpProxy {
  readonly endpoint: string;
  cutAfter(bytes: number): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let cutAfterBytes: number | undefined;

  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    const budget = cutAfterBytes;
    let forwarded = 0;
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (budget !== undefined && forwarded + chunk.length > budget) {
        upstream.write(chunk.subarray(0, budget - forwarded), cut);
        forwarded = budget;
        return;
      }
      forwarded += chunk.length;
      upstream.write(chunk);
    });
    upstream.pipe(client);
    for (const socket of [client, upstream]) {
      socket.on('error', cut);
      socket.on('close', () => {
        sockets.delete(socket);
        cut();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    cutAfter: (bytes) => {
      cutAfterBytes = bytes;
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
