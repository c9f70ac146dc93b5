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
import {
  findEarlierObject,
  idFromIdempotencyKey,
  isSameUpload,
  type EarlierObject,
} from './idempotency.js';

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
  /**
   * From the Idempotency-Key header: the id is derived from it (and `scope`), and a repeat of
   * the same upload returns the object the first one stored instead of a second one.
   */
  readonly idempotencyKey?: string | undefined;
  /** Who is asking (the authenticated caller, once there is one), so keys never collide. */
  readonly scope?: string | undefined;
  /** The request's Content-Length, when it declared one. */
  readonly declaredBodyBytes?: number | undefined;
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
  {
    store,
    limits,
    signal,
    validation = defaultImageValidation,
    idempotencyKey,
    scope,
    declaredBodyBytes,
  }: IngestContext,
): Promise<StoredImage> {
  // MD5 only serves to recognise a replayed idempotent upload, and costs as much CPU as the
  // rest of the request: computed only when a key asks for it.
  const decoded = decodeJsonImageBody(body, limits, idempotencyKey !== undefined);
  const iterator = decoded.chunks[Symbol.asyncIterator]();

  // Read until the type can be decided and we know whether the image fits in memory. A body
  // whose declared length is past the base64 size of the threshold goes to the store as soon
  // as its type is known: holding its first megabytes would only cost memory.
  const holdUpTo = declaresLargeImage(declaredBodyBytes, limits)
    ? sniffSampleBytes
    : Math.max(sniffSampleBytes, limits.streamingThresholdBytes + 1);
  const held: Buffer[] = [];
  let heldBytes = 0;
  let finished = false;
  while (heldBytes < holdUpTo) {
    const next = await iterator.next();
    if (next.done === true) {
      finished = true;
      break;
    }
    held.push(next.value);
    heldBytes += next.value.length;
  }
  if (heldBytes === 0) throw new AppError('empty_image');

  const type = await sniffImageType(leadingBytes(held, sniffSampleBytes), limits.allowedTypes);
  const id =
    idempotencyKey === undefined ? uuidv4() : idFromIdempotencyKey(idempotencyKey, scope ?? '');
  const name = `${id}.${type.extension}`;
  const putOptions = {
    contentType: type.contentType,
    metadata: {},
    signal,
    sharedName: idempotencyKey !== undefined,
  };
  const validator = new ImageValidator(type.contentType, validation);

  /** The answer for a key seen before: the earlier object if it is this very upload, else 422. */
  const replay = async (earlier: EarlierObject | undefined): Promise<StoredImage> => {
    // Read (and validate) the rest of the body: only its hash can say "same upload".
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
    }
    const summary = decoded.summary();
    const upload = { name, ...summary };
    if (earlier === undefined || !isSameUpload(earlier, upload)) {
      throw new AppError('idempotency_key_reused');
    }
    return describe(summary);
  };
  const describe = (summary: { bytes: number; sha256: string }): StoredImage => ({
    id,
    name,
    url: store.publicUrl(name),
    contentType: type.contentType,
    extension: type.extension,
    bytes: summary.bytes,
    sha256: summary.sha256,
  });
  const statOrExplain = async <T>(look: Promise<T>): Promise<T> => {
    try {
      return await look;
    } catch (error) {
      throw storageUnavailable(error);
    }
  };

  if (idempotencyKey !== undefined) {
    const earlier = await statOrExplain(findEarlierObject(store, id, limits.allowedTypes, signal));
    if (earlier !== undefined) return replay(earlier);
  }
  // A concurrent request with the same key won the race to the name (the precondition
  // refused our write): answer as if it had come first.
  const onExists =
    idempotencyKey === undefined
      ? undefined
      : async () =>
          replay(await statOrExplain(findEarlierObject(store, id, [type.contentType], signal)));

  if (finished) {
    const image = held.length === 1 ? held[0]! : Buffer.concat(held);
    validator.write(image);
    await validator.finish();
    const stored = await putOrExplain(
      store.put(name, image, { ...putOptions, metadata: decoded.metadata() }),
      undefined,
      onExists,
    );
    if (stored !== undefined) return stored;
  } else {
    // Stream: the bytes already read first, then the rest as the client sends it. Each chunk
    // is validated before the store sees it, and the stream ends only once the whole image
    // has been validated: a store commits an object only when its stream ends cleanly, so an
    // invalid image is never published (the write fails and the driver discards it).
    let validationFailure: unknown;
    async function* rest(): AsyncGenerator<Buffer> {
      try {
        // The chunks read so far go on as they are: joining them would copy megabytes.
        for (const chunk of held.splice(0)) {
          validator.write(chunk);
          yield chunk;
        }
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
      const stored = await putOrExplain(
        // The hash is known only once the stream has ended; the store asks for it then.
        store.put(name, stream, { ...putOptions, finalMetadata: () => decoded.metadata() }),
        () => (validationFailure as Error | undefined) ?? decoded.failure(),
        onExists,
      );
      if (stored !== undefined) return stored;
    } catch (error) {
      // Belt and braces: should a driver ever commit a stream that ended in an error, the
      // invalid image must still not stay published. Not for an idempotent name, which may
      // belong to a concurrent request's valid upload.
      if (validationFailure !== undefined && idempotencyKey === undefined) {
        await store.delete(name).catch(() => undefined);
      }
      throw error;
    }
  }

  return describe(decoded.summary());
}

/**
 * True when a body this long would carry more than the streaming threshold in base64 with
 * the usual line breaks and room for the rest of the JSON. Whitespace could make it wrong, at
 * the price of a stream where a buffer would have done; never the other way round.
 */
function declaresLargeImage(declaredBodyBytes: number | undefined, limits: IngestLimits): boolean {
  if (declaredBodyBytes === undefined) return false;
  const base64Bytes = Math.ceil(limits.streamingThresholdBytes / 3) * 4;
  return declaredBodyBytes > base64Bytes * (1 + 4 / 76) + limits.maxJsonOverheadBytes;
}

/** The first `length` bytes of some chunks, copying only what the first chunk lacks. */
function leadingBytes(chunks: readonly Buffer[], length: number): Buffer {
  const first = chunks[0]!;
  if (first.length >= length || chunks.length === 1) return first.subarray(0, length);
  return Buffer.concat(
    chunks,
    Math.min(
      length,
      chunks.reduce((sum, c) => sum + c.length, 0),
    ),
  );
}

/** Waits for a store write, turning its failures (or the body's, which caused them) into API errors. */
async function putOrExplain(
  put: Promise<void>,
  bodyFailure?: () => Error | undefined,
  onExists?: () => Promise<StoredImage>,
): Promise<StoredImage | undefined> {
  try {
    await put;
    return undefined;
  } catch (error) {
    const cause = bodyFailure?.();
    if (cause !== undefined) throw cause;
    if (isAppError(error)) throw error;
    if (onExists !== undefined && isStorageError(error) && error.kind === 'exists') {
      return onExists();
    }
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
  summary(): { bytes: number; sha256: string; md5: string | undefined };
  metadata(): Record<string, string>;
}

function decodeJsonImageBody(
  body: AsyncIterable<Buffer>,
  limits: IngestLimits,
  withMd5: boolean,
): DecodedBody {
  const hash = createHash('sha256');
  const md5 = withMd5 ? createHash('md5') : undefined;
  const dataUri = new DataUriDecoder();
  let pending: Buffer[] = [];
  let bytes = 0;
  let failure: Error | undefined;
  let digest: string | undefined;
  let md5Digest: string | undefined;

  const accept = (decodedChunk: Buffer): void => {
    if (decodedChunk.length === 0) return;
    bytes += decodedChunk.length;
    if (bytes > limits.maxImageBytes) {
      throw new AppError('payload_too_large', {
        message: `The image is larger than the allowed maximum of ${limits.maxImageBytes} bytes.`,
      });
    }
    hash.update(decodedChunk);
    md5?.update(decodedChunk);
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
      md5Digest = md5?.digest('base64');
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
      if (digest === undefined) {
        throw new Error('summary() before the body was fully read');
      }
      return { bytes, sha256: digest, md5: md5Digest };
    },
    metadata: () => ({ sha256: digest ?? '' }),
  };
}
