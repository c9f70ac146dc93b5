import type { Readable } from 'node:stream';
import { isAppError, storageUnavailable, type AppError } from '../errors.js';
import { chunkSource, type ImageHints } from '../ingest/image-source.js';
import { ingestImage, type IngestContext, type IngestedImage } from '../ingest/ingest-image.js';

/** A staged upload's bytes, read back from staging, and what its client said of them. */
export interface StagedBytes {
  readonly bytes: Readable;
  /** Exactly this many bytes make the image (tus: Upload-Length; direct: the declared size). */
  readonly size: number;
  /** Hints for the pipeline only, never trusted. */
  readonly hints: ImageHints;
}

/**
 * The last step of every staged upload (a tus upload's last PATCH, a direct upload's
 * complete): its bytes through the one pipeline, under the upload's own idempotency key in
 * `context`, so a completion retried after a crash finds the image it stored rather than
 * storing a second one. A failure to read the staged bytes is the store's (503: the upload
 * stays for a retry); `isRefusal` picks out the pipeline's refusals (not an image, not allowed,
 * the wrong size), after which the upload is of no use. The caller cleans up after either: the
 * bytes stream is destroyed here whatever the outcome.
 */
export async function completeStagedUpload(
  { bytes, size, hints }: StagedBytes,
  context: IngestContext,
): Promise<IngestedImage> {
  const source = chunkSource(readStaged(bytes), hints, { atLeast: size, atMost: size }, (reason) =>
    bytes.destroy(reason),
  );
  try {
    return await ingestImage(source, context);
  } finally {
    bytes.destroy();
  }
}

/**
 * Everything the pipeline needs besides the bytes (store, limits, validation, variants), as
 * the HTTP layer builds it for POST /v1/images; owner, key and scope are the upload's own.
 */
export type BaseIngestContext = Omit<IngestContext, 'owner' | 'scope' | 'idempotencyKey'>;

/**
 * The idempotency key of a staged upload's completion, from a secret its record keeps (never
 * shown, so knowing the upload id is not enough to derive an anonymous delete token): every
 * retry of the completion gives the same image.
 */
export function stagedUploadKey(kind: 'tus' | 'direct-upload', id: string, secret: string): string {
  return `${kind}:${id}:${secret}`;
}

/** The pipeline refused the bytes themselves: retrying the same bytes cannot succeed. */
export function isRefusal(error: unknown): error is AppError {
  return isAppError(error) && error.status < 500;
}

async function* readStaged(bytes: Readable): AsyncIterable<Buffer> {
  try {
    for await (const chunk of bytes) yield chunk as Buffer;
  } catch (error) {
    // Our own errors (a limit on the bytes) stay what they are; the store's are a 503.
    if (isAppError(error)) throw error;
    throw storageUnavailable(error);
  }
}
