import { Readable } from 'node:stream';
import { v4 as uuidv4 } from 'uuid';
import { AppError, isAppError } from '../errors.js';
import type { ImageMimeType } from '../images/image-types.js';
import { isStorageError, type ObjectStore, type PutOptions } from '../storage/object-store.js';
import type { HeldImageBuffers } from './held-image-buffers.js';
import {
  JsonImageDecoder,
  StreamingFingerprint,
  fingerprintOf,
  type ImageFingerprint,
} from './json-image-decoder.js';
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
  /** Where held images are decoded and how they are hashed; one per app, reused. */
  readonly heldImageBuffers: HeldImageBuffers;
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
 * arrives: the data string is unescaped, base64-decoded and size-limited on the fly, its first
 * bytes decide the type, and nothing is handed to the store before the type is known to be
 * allowed. An image up to the streaming threshold is decoded into one buffer and stored in one
 * write the store may retry; a larger one is hashed, validated and streamed to the store chunk
 * by chunk. Any failure, however late, leaves no object behind.
 */
export async function ingestJsonImage(
  body: AsyncIterable<Buffer>,
  context: IngestContext,
): Promise<StoredImage> {
  let writeFailed = false;
  const decoder = new JsonImageDecoder(
    context.limits,
    context.heldImageBuffers,
    initialCapacity(context.declaredBodyBytes, context.limits),
  );
  try {
    return await ingestWith(decoder, body, context, () => {
      writeFailed = true;
    });
  } finally {
    decoder.dispose(writeFailed);
  }
}

/** How much to make room for at first: the whole image when its body declared its length. */
function initialCapacity(
  declaredBodyBytes: number | undefined,
  limits: IngestLimits,
): number | undefined {
  return declaredBodyBytes === undefined || declaresLargeImage(declaredBodyBytes, limits)
    ? undefined
    : JsonImageDecoder.capacityFor(declaredBodyBytes);
}

async function ingestWith(
  decoder: JsonImageDecoder,
  body: AsyncIterable<Buffer>,
  {
    store,
    heldImageBuffers,
    limits,
    signal,
    validation = defaultImageValidation,
    idempotencyKey,
    scope,
    declaredBodyBytes,
  }: IngestContext,
  /** Called when the store's write failed: the held buffer may still be read for a moment. */
  onWriteFailed: () => void,
): Promise<StoredImage> {
  // A body whose declared length is past the base64 size of the threshold goes to the store
  // as soon as its type is known: holding its first megabytes would only cost memory.
  const streamEarly = declaresLargeImage(declaredBodyBytes, limits);
  const iterator = body[Symbol.asyncIterator]();
  let finished = false;
  /** Reads and decodes one more chunk of the body; false once the body has ended. */
  const readMore = async (): Promise<boolean> => {
    if (finished) return false;
    const next = await iterator.next();
    if (next.done === true) {
      finished = true;
      decoder.end();
      return false;
    }
    decoder.write(next.value);
    return true;
  };
  // MD5 only serves to recognise a replayed idempotent upload, and costs as much CPU as the
  // rest of the request: computed only when a key asks for it.
  const withMd5 = idempotencyKey !== undefined;
  // Once streaming, every chunk is fingerprinted as it leaves the decoder, so the hash is
  // complete whoever reads the body to its end: the store's stream or a replay.
  const streamedFingerprint = new StreamingFingerprint(withMd5);
  let streaming = false;
  let heldFingerprint: ImageFingerprint | undefined;
  const take = (chunks: Buffer[]): Buffer[] => {
    for (const chunk of chunks) streamedFingerprint.update(chunk);
    return chunks;
  };
  const startStreaming = (): Buffer[] => {
    streaming = true;
    return take([decoder.stopHolding()]);
  };
  /**
   * The store's stream of a streamed image, once started; settled when its generator is done,
   * and resolving to the body's own failure, if the body failed.
   */
  const storeStream: {
    current?: { readonly stopped: Promise<Error | undefined>; stop(): void };
  } = {};
  /** Reads the rest of the body (without keeping it) for the fingerprint of the whole image. */
  const readToEnd = async (): Promise<ImageFingerprint> => {
    if (heldFingerprint !== undefined) return heldFingerprint;
    if (!streaming && finished)
      return fingerprintOf(decoder.heldImage(), withMd5, heldImageBuffers);
    if (storeStream.current !== undefined) {
      // The store gave up on its stream: let that reader stop before this one goes on.
      storeStream.current.stop();
      const failure = await storeStream.current.stopped;
      if (failure !== undefined) throw failure;
    }
    if (!streaming) startStreaming();
    // The decoder hands out the last bytes at the closing quote, within a write.
    while (await readMore()) take(decoder.takeChunks());
    return streamedFingerprint.digest();
  };

  // Read until the type can be decided and we know whether the image fits in memory.
  const holdUpTo = streamEarly
    ? sniffSampleBytes
    : Math.max(sniffSampleBytes, limits.streamingThresholdBytes + 1);
  while (decoder.bytes < holdUpTo && (await readMore()));
  if (decoder.bytes === 0) throw new AppError('empty_image');

  const type = await sniffImageType(
    decoder.heldImage().subarray(0, sniffSampleBytes),
    limits.allowedTypes,
  );
  const id =
    idempotencyKey === undefined ? uuidv4() : idFromIdempotencyKey(idempotencyKey, scope ?? '');
  const name = `${id}.${type.extension}`;
  const putOptions = {
    contentType: type.contentType,
    metadata: {},
    signal,
    sharedName: idempotencyKey !== undefined,
  };
  const write = async (content: Buffer | Readable, options: PutOptions): Promise<void> => {
    try {
      await store.put(name, content, options);
    } catch (error) {
      onWriteFailed();
      throw error;
    }
  };
  const validator = new ImageValidator(
    type.contentType,
    // An image held in memory is decoded from there; only a streamed one is spooled to disk.
    finished ? { ...validation, spoolDirectory: undefined } : validation,
  );

  const describe = (fingerprint: ImageFingerprint): StoredImage => ({
    id,
    name,
    url: store.publicUrl(name),
    contentType: type.contentType,
    extension: type.extension,
    bytes: fingerprint.bytes,
    sha256: fingerprint.sha256,
  });
  /** The answer for a key seen before: the earlier object if it is this very upload, else 422. */
  const replay = async (earlier: EarlierObject | undefined): Promise<StoredImage> => {
    // Only the hash of the whole image can say "same upload".
    const upload = { name, ...(await readToEnd()) };
    if (earlier === undefined || !isSameUpload(earlier, upload)) {
      throw new AppError('idempotency_key_reused');
    }
    return describe(upload);
  };
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
    const image = decoder.heldImage();
    // A slab's hash runs on the worker thread while the event loop walks the container.
    const fingerprinting = fingerprintOf(image, withMd5, heldImageBuffers);
    try {
      await validator.write(image);
      await validator.finish();
    } finally {
      // Settled either way, so a failed validation leaves no unhandled rejection behind.
      await fingerprinting.catch(() => undefined);
    }
    heldFingerprint = await fingerprinting;
    const stored = await putOrExplain(
      write(image, { ...putOptions, metadata: { sha256: heldFingerprint.sha256 } }),
      undefined,
      onExists,
    );
    return stored ?? describe(heldFingerprint);
  }

  // Stream: the bytes already held first, then the rest as the client sends it. Each chunk is
  // hashed and validated before the store sees it, and the stream ends only once the whole
  // image has been validated: a store commits an object only when its stream ends cleanly, so
  // an invalid image is never published (the write fails and the driver discards it).
  // What the body or the validator threw (a refused image, its spool file failing) is what the
  // client is told, rather than the store's reaction to its stream breaking off.
  let bodyFailure: Error | undefined;
  // True while the store has a chunk: an error thrown into the generator there is the
  // store's own (the stream passes it back on destroy), not a fault of the body.
  let yielding = false;
  async function* validated(chunks: Buffer[]): AsyncGenerator<Buffer> {
    for (const chunk of chunks) {
      // Awaited: in decode mode the chunk is on disk before the next one is read.
      await validator.write(chunk);
      yielding = true;
      yield chunk;
      yielding = false;
    }
  }
  // Set once the store's write has settled: a generator still waiting for the client must
  // not go on reading, validating or spooling for a write that is over.
  let storeDone = false;
  let generatorStarted = false;
  let generatorDone: (failure: Error | undefined) => void = () => undefined;
  const generatorStopped = new Promise<Error | undefined>((resolve) => {
    generatorDone = resolve;
  });
  async function* rest(): AsyncGenerator<Buffer> {
    generatorStarted = true;
    try {
      if (storeDone) return;
      yield* validated(startStreaming());
      // The decoder hands out the last bytes at the closing quote, within a write.
      while (!storeDone && (await readMore())) {
        if (storeDone) return;
        yield* validated(take(decoder.takeChunks()));
      }
      if (!storeDone) await validator.finish();
    } catch (error) {
      if (!yielding) bodyFailure = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      generatorDone(bodyFailure);
    }
  }
  const stream = Readable.from(rest(), { objectMode: false });
  storeStream.current = {
    stopped: generatorStopped,
    stop: () => {
      stream.destroy();
      // A generator the store never started will not run (nor its finally): nothing to wait for.
      if (!generatorStarted) generatorDone(undefined);
    },
  };
  try {
    const stored = await putOrExplain(
      // The hash is known only once the stream has ended; the store asks for it then.
      write(stream, {
        ...putOptions,
        finalMetadata: () => ({ sha256: streamedFingerprint.digest().sha256 }),
      }).finally(() => {
        storeDone = true;
      }),
      () => bodyFailure,
      onExists,
    );
    return stored ?? describe(streamedFingerprint.digest());
  } catch (error) {
    // Belt and braces: should a driver ever commit a stream that ended in an error, the
    // image must still not stay published. Not for an idempotent name, which may belong to a
    // concurrent request's valid upload.
    if (bodyFailure !== undefined && idempotencyKey === undefined) {
      await store.delete(name).catch(() => undefined);
    }
    throw error;
  } finally {
    // However the upload ended (the store failed, the client left, a chunk was refused), the
    // spool file goes with it.
    await validator.dispose();
  }
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
