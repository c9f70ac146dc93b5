import type { CreateReadStreamOptions, File } from '@google-cloud/storage';
import { PassThrough, type Readable } from 'node:stream';

/**
 * An object's bytes as a stream its reader may destroy at any moment, and that `signal` ends.
 *
 * The client's own stream, destroyed once its request is under way but before the answer came,
 * makes @google-cloud/storage (8.4) pipe the answer into it, fail, and destroy the answer with
 * an error nothing listens to: an uncaught exception. So the reader gets a stream of its own,
 * and the client's is ended only when that is safe.
 */
export function safeReadStream(
  file: File,
  options: CreateReadStreamOptions = {},
  signal?: AbortSignal,
): Readable {
  const source = file.createReadStream(options);
  const out = new PassThrough();
  source.on('error', (error) => out.destroy(error));
  source.pipe(out);
  let awaitingResponse = false;
  source.once('reading', () => (awaitingResponse = true));
  source.once('response', () => (awaitingResponse = false));
  out.once('close', () => {
    if (source.destroyed) return;
    if (!awaitingResponse) source.destroy();
    else source.once('response', () => process.nextTick(() => source.destroy()));
  });
  signal?.addEventListener('abort', () => out.destroy(signal.reason as Error), { once: true });
  if (signal?.aborted === true) out.destroy(signal.reason as Error);
  return out;
}
