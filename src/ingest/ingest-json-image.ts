import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { v4 as uuidv4 } from 'uuid';
import { AppError, isAppError } from '../errors.js';
import type { ImageMimeType } from '../config.js';
import { isStorageError, type ObjectStore } from '../storage/object-store.js';
import { DataUriDecoder } from './data-uri.js';
import { JsonDataScanner } from './json-body.js';
import { sniffImageType, sniffSampleBytes } from './sniff.js';
import { ImageValidator, type ImageValidationOptions } from './validate-image.js';

export interface IngestLimits {
  readonly maxImageBytes: number;
  readonly maxJsonOverheadBytes: number;
  readonly allowedTypes: readonly ImageMimeType[];
  /**
   * Images up to this size are held in memory and handed to the store as one buffer, which
   * the store may retry; larger ones are streamed to the store as they are decoded.
   */
  readonly streamingThresholdBytes: number;
}

export interface StoredImage {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly contentType: ImageMimeType;
  readonly extension: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface IngestContext {
  readonly store: ObjectStore;
  readonly limits: IngestLimits;
  readonly signal?: AbortSignal | undefined;
  /** How deeply the image is verified before it is published; strict by default. */
  readonly validation?: ImageValidationOptions | undefined;
}

export const defaultImageValidation: ImageValidationOptions = {
  mode: 'decode',
  maxPixels: 100_000_000,
  decodeTimeoutSeconds: 10,
};

const storageUnavailable = (cause: unknown): AppError =>
  new AppError('storage_unavailable', { cause, headers: { 'Retry-After': '5' } });

/**
 * Turns a JSON body {"data": "<data URI>"} into a stored image, reading the body once as it
 * arrives: the data string is unescaped, base64-decoded, size-limited and hashed on the fly,
 * its first bytes decide the type, and nothing is handed to the store before the type is
 * known to be allowed. Any failure, however late, leaves no object behind.
 */
export async function ingestJsonImage(
  body: AsyncIterable<Buffer>,
  { store, limits, signal, validation = defaultImageValidation }: IngestContext,
): Promise<StoredImage> {
  const decoded = decodeJsonImageBody(body, limits);
  const iterator = decoded.chunks[Symbol.asyncIterator]();

  // Read until the type can be decided and we know whether the image fits in memory.
  const held: Buffer[] = [];
  let heldBytes = 0;
  let finished = false;
  while (heldBytes < Math.max(sniffSampleBytes, limits.streamingThresholdBytes + 1)) {
    const next = await iterator.next();
    if (next.done === true) {
      finished = true;
      break;
    }
    held.push(next.value);
    heldBytes += next.value.length;
  }
  if (heldBytes === 0) throw new AppError('empty_image');

  const sample = held.length === 1 ? held[0]! : Buffer.concat(held);
  const type = await sniffImageType(sample.subarray(0, sniffSampleBytes), limits.allowedTypes);
  const id = uuidv4();
  const name = `${id}.${type.extension}`;
  const putOptions = { contentType: type.contentType, metadata: {}, signal };
  const validator = new ImageValidator(type.contentType, validation);

  if (finished) {
    validator.write(sample);
    await validator.finish();
    await putOrExplain(store.put(name, sample, { ...putOptions, metadata: decoded.metadata() }));
  } else {
    // Stream: the bytes already read first, then the rest as the client sends it. Each chunk
    // is validated before the store sees it, and the stream ends only once the whole image
    // has been validated: a store commits an object only when its stream ends cleanly, so an
    // invalid image is never published (the write fails and the driver discards it).
    let validationFailure: unknown;
    async function* rest(): AsyncGenerator<Buffer> {
      try {
        validator.write(sample);
        yield sample;
        for (;;) {
          const next = await iterator.next();
          if (next.done === true) break;
          validator.write(next.value);
          yield next.value;
        }
        await validator.finish();
      } catch (error) {
        if (isAppError(error) && decoded.failure() === undefined) validationFailure = error;
        throw error;
      }
    }
    const stream = Readable.from(rest(), { objectMode: false });
    try {
      await putOrExplain(
        store.put(name, stream, putOptions),
        () => (validationFailure as Error | undefined) ?? decoded.failure(),
      );
    } catch (error) {
      // Belt and braces: should a driver ever commit a stream that ended in an error, the
      // invalid image must still not stay published.
      if (validationFailure !== undefined) await store.delete(name).catch(() => undefined);
      throw error;
    }
  }

  const summary = decoded.summary();
  return {
    id,
    name,
    url: store.publicUrl(name),
    contentType: type.contentType,
    extension: type.extension,
    bytes: summary.bytes,
    sha256: summary.sha256,
  };
}

/** Waits for a store write, turning its failures (or the body's, which caused them) into API errors. */
async function putOrExplain(
  put: Promise<void>,
  bodyFailure?: () => Error | undefined,
): Promise<void> {
  try {
    await put;
  } catch (error) {
    const cause = bodyFailure?.();
    if (cause !== undefined) throw cause;
    if (isAppError(error)) throw error;
    if (isStorageError(error)) throw storageUnavailable(error);
    throw error;
  }
}

interface DecodedBody {
  /** Decoded image bytes, in order; fails with an AppError on any bad input. */
  readonly chunks: AsyncIterable<Buffer>;
  /** The failure that ended `chunks`, if any. */
  failure(): Error | undefined;
  /** Size and hash of everything decoded; valid once `chunks` is exhausted. */
  summary(): { bytes: number; sha256: string };
  metadata(): Record<string, string>;
}

function decodeJsonImageBody(body: AsyncIterable<Buffer>, limits: IngestLimits): DecodedBody {
  const hash = createHash('sha256');
  const dataUri = new DataUriDecoder();
  let pending: Buffer[] = [];
  let bytes = 0;
  let failure: Error | undefined;
  let digest: string | undefined;

  const accept = (decodedChunk: Buffer): void => {
    if (decodedChunk.length === 0) return;
    bytes += decodedChunk.length;
    if (bytes > limits.maxImageBytes) {
      throw new AppError('payload_too_large', {
        message: `The image is larger than the allowed maximum of ${limits.maxImageBytes} bytes.`,
      });
    }
    hash.update(decodedChunk);
    pending.push(decodedChunk);
  };
  const scanner = new JsonDataScanner(
    {
      // The scanner's chunk is only valid during the call; the decoder copies what it keeps.
      data: (chunk) => accept(dataUri.write(chunk)),
      dataEnd: () => accept(dataUri.end()),
    },
    limits.maxJsonOverheadBytes,
  );

  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body) {
        scanner.write(chunk);
        if (pending.length > 0) {
          const ready = pending;
          pending = [];
          yield* ready;
        }
      }
      scanner.end();
      digest = hash.digest('hex');
      const ready = pending;
      pending = [];
      yield* ready;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  }

  return {
    chunks: chunks(),
    failure: () => failure,
    summary: () => {
      if (digest === undefined) throw new Error('summary() before the body was fully read');
      return { bytes, sha256: digest };
    },
    metadata: () => ({ sha256: digest ?? '' }),
  };
}
