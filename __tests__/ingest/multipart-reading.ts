import { Readable } from 'node:stream';
import { readSingleImagePart, type SingleImageLimits } from '../../src/ingest/multipart.js';
import type { BuiltBody } from '../support/requests.js';

// Shared by the multipart reader's tests: the small limits, a body in given pieces, and the
// two ways a test reads a form (to its end, or to its failure).

export const limits: SingleImageLimits = {
  maxFileBytes: 64 * 1024,
  maxFields: 5,
  maxFieldBytes: 64,
  maxParts: 8,
};

/** A request stream that hands the body over in these pieces, and counts what was read. */
export class Pieces extends Readable {
  pulled = 0;
  readonly #pieces: Buffer[];

  constructor(pieces: readonly Buffer[]) {
    // A small buffer ahead, so that `pulled` says what the parser asked for.
    super({ highWaterMark: 1024 });
    this.#pieces = [...pieces];
  }

  override _read(): void {
    const piece = this.#pieces.shift();
    if (piece !== undefined) this.pulled += piece.length;
    this.push(piece ?? null);
  }
}

export async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const received: Buffer[] = [];
  for await (const chunk of chunks) received.push(chunk);
  return Buffer.concat(received);
}

/** Reads the single image to its end; returns its bytes, hints and the fields. */
export async function readImage(
  built: BuiltBody,
  pieces?: readonly Buffer[],
  imageLimits = limits,
) {
  const part = await readSingleImagePart(
    new Pieces(pieces ?? [built.body]),
    built.contentType,
    imageLimits,
  );
  const bytes = await collect(part.chunks);
  return { bytes, hints: part.hints, fields: await part.fields };
}

/** What reading the single image threw, and the bytes it had yielded before. */
export async function failureOf(
  body: Readable,
  contentType: string,
  imageLimits = limits,
  signal?: AbortSignal,
): Promise<{ error: unknown; bytes: Buffer; stage: 'header' | 'chunks' }> {
  const received: Buffer[] = [];
  let stage: 'header' | 'chunks' = 'header';
  try {
    const part = await readSingleImagePart(body, contentType, imageLimits, signal);
    stage = 'chunks';
    for await (const chunk of part.chunks) received.push(chunk);
  } catch (error) {
    return { error, bytes: Buffer.concat(received), stage };
  }
  throw new Error('expected reading the form to fail');
}
