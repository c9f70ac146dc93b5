import type { ImageBytes } from './image-bytes.js';
import type { FocalPoint } from './image-record.js';

/**
 * What a body adapter hands the pipeline: a way to pull the image's bytes, and the client's
 * hints. Everything after the adapter (sniff, validate, store, describe) is shared by every
 * input style: a JSON data URI, a multipart file part, a raw body.
 */
export interface ImageSource {
  /**
   * Moves the next piece of the body into `image` (always the same one); false once the body
   * has ended, and ended well-formed (closing quote and brace, closing multipart delimiter).
   * Throws an AppError when the body proves malformed or too large.
   */
  readMore(image: ImageBytes): Promise<boolean>;
  /** What the client said about the image. Never trusted: not for the type, name or path. */
  readonly hints: ImageHints;
  /** Bounds on the image's size, from a declared body length; empty when none was declared. */
  readonly expectedBytes: ExpectedImageBytes;
  /**
   * The upload failed before the body was read to its end: the adapter stops parsing and lets
   * go of the request, which the HTTP layer then answers (and drains) on its own.
   */
  abandon?(reason: Error): void;
}

export interface ImageHints {
  /** The multipart part's filename, if any. Kept for the log at most; never a stored name. */
  readonly filename?: string | undefined;
  /** The type the client declared: the data URI's label, the part's or the body's type. */
  readonly declaredType?: string | undefined;
  /**
   * The focal point the body carried (a form field, a JSON member, tus metadata), validated by
   * the adapter (focal-point.ts). A field may follow the image: known once `readMore` has
   * returned false.
   */
  readonly focus?: FocalPoint | undefined;
}

export interface ExpectedImageBytes {
  /** The image cannot be larger than this: room to hold it in one buffer. */
  readonly atMost?: number | undefined;
  /** The image is at least this large: past the streaming threshold, stream at once. */
  readonly atLeast?: number | undefined;
}

/** An adapter for bodies whose bytes are the image's bytes (raw, a multipart file part). */
export function chunkSource(
  chunks: AsyncIterable<Buffer>,
  hints: ImageHints,
  expectedBytes: ExpectedImageBytes,
  abandon?: (reason: Error) => void,
): ImageSource {
  const iterator = chunks[Symbol.asyncIterator]();
  return {
    hints,
    expectedBytes,
    ...(abandon === undefined ? {} : { abandon }),
    async readMore(image) {
      const next = await iterator.next();
      if (next.done === true) return false;
      image.append(next.value);
      return true;
    },
  };
}
