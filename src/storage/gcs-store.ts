import type { Bucket, File } from '@google-cloud/storage';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  StorageError,
  immutableCacheControl,
  type ObjectStore,
  type PutOptions,
  type StoreListener,
  type StoreOperation,
  type StoredObjectBody,
  type StoredObjectInfo,
} from './object-store.js';
import { isWrongObjectError, writeResumable } from './gcs-resumable.js';
import { isTransient, statusOf } from './gcs-errors.js';
import { safeReadStream } from './gcs-read-stream.js';
import {
  DeadlineExceededError,
  defaultRetryPolicy,
  runCancellable,
  withRetries,
  type RetryPolicy,
} from './retry.js';

export interface GcsStoreOptions {
  /** Base of returned URLs when a CDN or custom domain fronts the bucket. */
  readonly publicBaseUrl?: string | undefined;
  /** Set when the bucket lives on an emulator, whose download URLs differ from GCS's. */
  readonly apiEndpoint?: string | undefined;
  /** Deadline, per-attempt timeout and backoff of every call. */
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** How long a background clean-up of an uncertain write keeps trying. */
  readonly cleanupDeadlineMs?: number | undefined;
  /** Size of one request of a streamed (resumable) upload; a multiple of 256 KiB. */
  readonly chunkBytes?: number | undefined;
}

const defaultChunkBytes = 4 * 1024 * 1024;

type Operation = StoreOperation;

/**
 * Writes a Buffer in one request (resumable: false), with `ifGenerationMatch: 0` so an object
 * is never overwritten and a retry of the same write cannot create a second one, and with the
 * client's checksum validation on, which deletes an object whose stored bytes do not match
 * what was sent. A stream goes as a resumable upload in chunks (src/storage/gcs-resumable.ts),
 * each retried from the bytes still held, committed only once the stream ended cleanly.
 *
 * Retries are this class's own loop (src/storage/retry.ts), not the client's retryOptions:
 * the client never retries a write stream (makeWritableStream sets maxRetries: 0), its
 * save() retries buffers under a 600 s default totalTimeout with no per-attempt cut, and none
 * of its calls can be cancelled. Here every call has one explicit deadline (STORE_TIMEOUT_MS)
 * that fits inside the HTTP request's, each attempt is cut at STORE_ATTEMPT_TIMEOUT_MS, and a
 * cut attempt's HTTP request is destroyed rather than left running.
 */
export class GcsStore implements ObjectStore {
  readonly driver = 'gcs';
  private readonly policy: RetryPolicy;
  private readonly listeners = new Set<StoreListener>();
  private readonly cleanups = new Set<Promise<void>>();
  /** Stops the background clean-ups still running when settle() runs out of time. */
  private background = new AbortController();

  constructor(
    private readonly bucket: Bucket,
    private readonly options: GcsStoreOptions = {},
  ) {
    this.policy = { ...defaultRetryPolicy, ...options.retry };
  }

  async put(name: string, body: Buffer | Readable, options: PutOptions): Promise<void> {
    const file = this.bucket.file(name);
    const writeOptions = {
      resumable: false,
      validation: 'crc32c',
      contentType: options.contentType,
      metadata: {
        contentType: options.contentType,
        cacheControl: immutableCacheControl,
        metadata: { ...options.metadata },
      },
      preconditionOpts: { ifGenerationMatch: 0 },
    } as const;
    let outcomeUnknown = false;
    /** The generation of the object this call is known to have created. */
    let ours: string | undefined;
    await this.timed('put', async () => {
      try {
        if (Buffer.isBuffer(body)) {
          // A buffer has ended before it is sent: what finalMetadata reports is known now.
          const bufferOptions = {
            ...writeOptions,
            metadata: {
              ...writeOptions.metadata,
              metadata: { ...options.metadata, ...options.finalMetadata?.() },
            },
          };
          await withRetries(
            async (signal, attemptNumber) => {
              // From here on, a failure may hide a write the server completed.
              outcomeUnknown = true;
              try {
                await pipeline(Readable.from([body]), file.createWriteStream(bufferOptions), {
                  signal,
                });
              } catch (error) {
                // 412 on a retry: our earlier attempt reached the bucket before it failed.
                if (attemptNumber > 0 && statusOf(error) === 412) {
                  // Hashed only here: MD5 of every upload would cost as much as the rest.
                  const md5 = createHash('md5').update(body).digest('base64');
                  if (await holdsBytes(file, body.length, md5)) return;
                }
                throw error;
              }
            },
            this.policy,
            { isRetryable: isTransient, onRetry: () => this.emitRetry('put') },
            options.signal,
          );
        } else {
          await writeResumable(
            file,
            body,
            { ...writeOptions.metadata, metadata: { ...options.metadata } },
            {
              chunkBytes: this.options.chunkBytes ?? defaultChunkBytes,
              policy: this.policy,
              hooks: { isRetryable: isTransient, onRetry: () => this.emitRetry('put') },
              signal: options.signal,
              // From here on, a failure may hide an object the server completed.
              onFinalChunk: () => (outcomeUnknown = true),
              onCompleted: async (generation, signal) => {
                ours = generation;
                // The hash is known only now; and the emulator drops the content type of a
                // resumable upload (GCS keeps it), so the metadata is set again in one patch.
                const metadata = {
                  ...writeOptions.metadata,
                  metadata: { ...options.metadata, ...options.finalMetadata?.() },
                };
                await withRetries(
                  () =>
                    file.setMetadata(
                      metadata,
                      generation === undefined ? {} : { ifGenerationMatch: generation },
                    ),
                  this.policy,
                  { isRetryable: isTransient, onRetry: () => this.emitRetry('put') },
                  signal,
                );
              },
              inBackground: (work) => this.track(work),
            },
          );
        }
      } catch (error) {
        const storageError = toStorageError(error, name);
        // A session that completed the wrong object created it: that object is ours.
        const wrong = isWrongObjectError(error);
        const generation = ours ?? (wrong ? error.generation : undefined);
        if (generation !== undefined) {
          // Our own session created this generation: removing exactly it is safe even under
          // a shared name, and a half-described object must not stay.
          this.cleanUpLater(name, generation);
        } else if (
          storageError.kind !== 'exists' &&
          (outcomeUnknown || wrong) &&
          options.sharedName !== true
        ) {
          this.cleanUpLater(name);
        }
        throw storageError;
      }
    });
  }

  async delete(name: string): Promise<void> {
    await this.timed('delete', async () => {
      try {
        await withRetries(
          () => this.bucket.file(name).delete({ ignoreNotFound: true }),
          this.policy,
          { isRetryable: isTransient, onRetry: () => this.emitRetry('delete') },
        );
      } catch (error) {
        throw toStorageError(error, name);
      }
    });
  }

  async stat(name: string, signal?: AbortSignal): Promise<StoredObjectInfo | undefined> {
    return this.timed('stat', async () => (await this.metadataOf(name, 'stat', signal))?.info);
  }

  /** One metadata request, as stat: GCS keeps what describes an object with it. */
  async exists(name: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.stat(name, signal)) !== undefined;
  }

  /**
   * The object's metadata first (one retried call), then its bytes, pinned to the generation
   * that metadata describes: a delete or a new object in between fails the stream rather than
   * mixing two objects. The client validates the bytes' CRC32C as they arrive.
   */
  async read(name: string, signal?: AbortSignal): Promise<StoredObjectBody | undefined> {
    return this.timed('read', async () => {
      const found = await this.metadataOf(name, 'read', signal);
      if (found === undefined) return undefined;
      const file = this.bucket.file(name, { generation: found.generation });
      const body = safeReadStream(file, { validation: 'crc32c' });
      return { body, size: found.info.size };
    });
  }

  async updateMetadata(name: string, metadata: Readonly<Record<string, string>>): Promise<boolean> {
    return this.timed('update', async () => {
      try {
        return await withRetries(
          async () => {
            try {
              // GCS merges custom metadata keys; the others are kept.
              await this.bucket.file(name).setMetadata({ metadata: { ...metadata } });
              return true;
            } catch (error) {
              if (statusOf(error) === 404) return false;
              throw error;
            }
          },
          this.policy,
          { isRetryable: isTransient, onRetry: () => this.emitRetry('update') },
        );
      } catch (error) {
        throw toStorageError(error, name);
      }
    });
  }

  async list(prefix: string, signal?: AbortSignal): Promise<string[]> {
    return this.timed('list', async () => {
      try {
        return await withRetries(
          async () => {
            const [files] = await this.bucket.getFiles({ prefix, autoPaginate: true });
            return files.map((file) => file.name);
          },
          this.policy,
          { isRetryable: isTransient, onRetry: () => this.emitRetry('list') },
          signal,
        );
      } catch (error) {
        throw toStorageError(error, prefix);
      }
    });
  }

  private async metadataOf(
    name: string,
    operation: Operation,
    signal: AbortSignal | undefined,
  ): Promise<{ info: StoredObjectInfo; generation: number | undefined } | undefined> {
    try {
      return await withRetries(
        async () => {
          try {
            const [metadata] = await this.bucket.file(name).getMetadata();
            const generation = Number(metadata.generation);
            return {
              info: {
                size: Number(metadata.size),
                contentType: metadata.contentType,
                md5: metadata.md5Hash,
                metadata: stringValues(metadata.metadata),
              },
              generation: Number.isSafeInteger(generation) ? generation : undefined,
            };
          } catch (error) {
            if (statusOf(error) === 404) return undefined;
            throw error;
          }
        },
        this.policy,
        { isRetryable: isTransient, onRetry: () => this.emitRetry(operation) },
        signal,
      );
    } catch (error) {
      throw toStorageError(error, name);
    }
  }

  /** Ready when the bucket answers at all: a short metadata read, never retried. */
  async checkReady(timeoutMs: number): Promise<boolean> {
    try {
      const [exists] = await runCancellable(
        () => this.bucket.exists(),
        AbortSignal.timeout(timeoutMs),
      );
      return exists;
    } catch {
      return false;
    }
  }

  observe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async settle(timeoutMs: number): Promise<void> {
    const all = Promise.allSettled([...this.cleanups]).then(() => true);
    const late = new Promise<false>((resolve) =>
      setTimeout(() => resolve(false), timeoutMs).unref(),
    );
    if (await Promise.race([all, late])) return;
    // Time is up: the clean-ups still retrying stop here rather than run on for their own
    // deadline (minutes) in a process that is exiting, or a test file that has ended.
    this.background.abort(new Error('the store was settled'));
    this.background = new AbortController();
  }

  publicUrl(name: string): string {
    const encoded = encodeURIComponent(name);
    if (this.options.publicBaseUrl !== undefined) return `${this.options.publicBaseUrl}/${encoded}`;
    const host = this.options.apiEndpoint ?? 'https://storage.googleapis.com';
    return `${host}/${this.bucket.name}/${encoded}`;
  }

  /**
   * A write that failed after its body may have reached the bucket (a reset or timeout while
   * waiting for the answer) can still have created the object. The name is a fresh UUID that
   * nobody else will ever write, so deleting it is safe; it runs in the background, with its
   * own longer deadline, so the client gets its 503 on time.
   */
  private cleanUpLater(name: string, generation?: string): void {
    this.track(
      withRetries(
        () =>
          this.bucket.file(name).delete({
            ignoreNotFound: true,
            ...(generation === undefined ? {} : { ifGenerationMatch: generation }),
          }),
        { ...this.policy, deadlineMs: this.options.cleanupDeadlineMs ?? 5 * 60_000 },
        // 412: that generation was already replaced by someone else's object; leave it.
        {
          isRetryable: (error) => statusOf(error) !== 412,
          onRetry: () => this.emitRetry('delete'),
        },
        this.background.signal,
      ),
    );
  }

  /** Keeps background work (clean-ups, cancelled sessions) for settle() to wait on. */
  private track(work: Promise<unknown>): void {
    const done = work.then(
      () => undefined,
      () => undefined,
    );
    this.cleanups.add(done);
    void done.finally(() => this.cleanups.delete(done));
  }

  private async timed<T>(operation: Operation, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome: 'ok' | 'error' = 'error';
    try {
      const result = await call();
      outcome = 'ok';
      return result;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      for (const listener of this.listeners) listener.called?.(operation, outcome, seconds);
    }
  }

  private emitRetry(operation: Operation): void {
    for (const listener of this.listeners) listener.retried?.(operation);
  }
}

/** Whether the object at `file` holds exactly the bytes we sent (size and MD5). */
async function holdsBytes(file: File, size: number, md5: string): Promise<boolean> {
  const [metadata] = await file.getMetadata();
  return Number(metadata.size) === size && metadata.md5Hash === md5;
}

function stringValues(record: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (typeof record !== 'object' || record === null) return result;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string') result[key] = value;
  }
  return result;
}

function toStorageError(error: unknown, name: string): StorageError {
  if (statusOf(error) === 412) {
    return new StorageError('exists', `object ${name} already exists`, { cause: error });
  }
  const detail = error instanceof DeadlineExceededError ? ' (deadline exceeded)' : '';
  return new StorageError('unavailable', `writing ${name} to the bucket failed${detail}`, {
    cause: error,
  });
}
