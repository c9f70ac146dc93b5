import { readdir, readlink } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';

/**
 * For tests of what a served answer holds while its connection lasts, over real sockets:
 * clients that pipeline requests and read nothing, and the descriptors this process holds.
 */

/** Descriptors this process holds on files under `directory`. */
export async function openUnder(directory: string): Promise<number> {
  const targets = await Promise.all(
    (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return targets.filter((target) => target.startsWith(directory)).length;
}

/** Waits (polling) until `check` holds; fails the test with `what` if it never does. */
export async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let tries = 0; tries < 250; tries += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never happened: ${what}`);
}

/** A client that sends these requests at once on one connection and reads nothing. */
export async function pipeline(port: number, requests: string[]): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.pause();
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(requests.join(''));
  return socket;
}
