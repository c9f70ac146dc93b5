import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { AppError, isAppError, storageUnavailable } from '../errors.js';
import { pipeBody } from '../ingest/pipe-body.js';
import { isPutSigningUnavailable } from '../storage/direct/direct-staging.js';

/**
 * Rules of direct uploads shared by their routes (src/http/routes/direct-uploads.ts and the
 * local driver's upload targets beside it), kept below HTTP so neither route imports the other.
 */

/** Passes at most `limit` bytes; one more fails the stream with upload_too_large. Counts what passed. */
class ByteLimit extends Transform {
  bytes = 0;
  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) callback(new AppError('upload_too_large'));
    else callback(null, chunk);
  }
}

/** `body`, at most `limit` bytes of it: see pipeBody for why it may be read only later. */
export function limited(body: Readable, limit: number): ByteLimit {
  return pipeBody(body, new ByteLimit(limit));
}

/**
 * Staged bytes, at most `limit` of them. pipeline, not pipeBody: whichever way the reader
 * stops (done, refused, its client gone), destroying what is returned closes the staged file
 * too, which a pipe would leave open, paused, for ever.
 */
export function limitedStaged(bytes: Readable, limit: number): ByteLimit {
  const limiter = new ByteLimit(limit);
  // The failure reaches the reader as the limiter's own (the error it is destroyed with).
  pipeline(bytes, limiter, () => undefined);
  return limiter;
}

/**
 * A direct-staging call whose failure is the store's (503), unless it is already ours or a PUT
 * the driver cannot sign (501: the client should ask for a resumable session instead).
 */
export async function fromStaging<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (isAppError(error)) throw error;
    if (isPutSigningUnavailable(error)) throw new AppError('signed_put_unavailable', { cause: error });
    throw storageUnavailable(error);
  }
}
