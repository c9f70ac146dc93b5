import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { jpegOfSize } from './bodies.ts';

/**
 * The floor's two measured parts, in a process of their own so that nothing else is counted:
 * what hashing one image with sha256 and writing it once with the service's own store (the
 * same `createStore`, configured from the same environment as the servers, one Buffer put,
 * `connections` at a time) cost in CPU time. The third part, receiving the body, is the
 * ceiling's CPU per request in the same scenario. Prints one JSON line.
 *
 *   node bench/floor.ts --image-bytes N --connections C --seconds S   (environment as a server's)
 */

const { values: args } = parseArgs({
  options: {
    'image-bytes': { type: 'string', default: '0' },
    connections: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '1' },
  },
});
const image = jpegOfSize(Number(args['image-bytes']));
const connections = Number(args.connections);
const budgetMs = Number(args.seconds) * 1000;

const dist = new URL('../dist/', import.meta.url);
const { loadConfig } = (await import(
  new URL('config.js', dist).href
)) as typeof import('../src/config.ts');
const { createStore } = (await import(
  new URL('storage/create-store.js', dist).href
)) as typeof import('../src/storage/create-store.ts');
const store = await createStore(loadConfig(process.env));

/** CPU ms of this whole process (every thread: the store's file writes run on libuv's pool). */
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

const sha256 = (): string => createHash('sha256').update(image).digest('hex');
const digest = sha256();
const put = (): Promise<void> =>
  store.put(`${randomUUID()}.jpg`, image, {
    contentType: 'image/jpeg',
    metadata: { sha256: digest },
  });

// One of each first: the first write creates directories, the first hash loads the code.
await put();
sha256();

// Hashing is synchronous: CPU time and wall time are the same thing here.
let hashes = 0;
const hashStarted = performance.now();
const hashCpu = process.cpuUsage();
while (hashes < 3 || performance.now() - hashStarted < budgetMs / 2) {
  sha256();
  hashes++;
}
const sha256Ms = cpuMs(hashCpu) / hashes;

// At least one write per connection, then until the budget is spent.
let puts = 0;
const putStarted = performance.now();
const putCpu = process.cpuUsage();
await Promise.all(
  Array.from({ length: connections }, async () => {
    do {
      await put();
      puts++;
    } while (performance.now() - putStarted < budgetMs / 2);
  }),
);
const storeMs = cpuMs(putCpu) / puts;

process.stdout.write(`${JSON.stringify({ sha256Ms, storeMs, hashes, puts })}\n`);
