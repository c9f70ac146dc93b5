import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { AppError, isAppError, storageUnavailable } from '../errors.js';
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

export function limited(body: Readable, limit: number): ByteLimit {
  const limiter = new ByteLimit(limit);
  body.once('error', (error) => limiter.destroy(error));
  return body.pipe(limiter);
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
