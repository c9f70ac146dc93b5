import type { Bucket } from '@google-cloud/storage';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  StorageError,
  immutableCacheControl,
  type ObjectStore,
  type PutOptions,
} from './object-store.js';

/**
 * Retry settings for the Storage client. With the SDK's defaults (3 retries, delays doubling
 * from 1 s up to 64 s, 600 s in total) an upload to a bucket answering 503 held the request
 * for 13 s before failing, longer than many clients wait for an answer. Two quick retries
 * (about 4 s in all) absorb a blip; after that the service answers 503 with Retry-After and
 * the client retries on its own schedule. A refused connection is not retried by the SDK at
 * all, so a store that is down fails at once.
 */
export const gcsRetryOptions = {
  autoRetry: true,
  maxRetries: 2,
  retryDelayMultiplier: 2,
  maxRetryDelay: 2,
  totalTimeout: 10,
} as const;

export interface GcsStoreOptions {
  /** Base of returned URLs when a CDN or custom domain fronts the bucket. */
  readonly publicBaseUrl?: string | undefined;
  /** Set when the bucket lives on an emulator, whose download URLs differ from GCS's. */
  readonly apiEndpoint?: string | undefined;
}

/**
 * Writes each object in one request (resumable: false), with `ifGenerationMatch: 0` so an
 * object is never overwritten and a retry of the same write cannot create a second one, and
 * with the client's checksum validation on, which deletes an object whose stored bytes do not
 * match what was sent.
 */
export class GcsStore implements ObjectStore {
  readonly driver = 'gcs';

  constructor(
    private readonly bucket: Bucket,
    private readonly options: GcsStoreOptions = {},
  ) {}

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
    try {
      if (Buffer.isBuffer(body)) {
        options.signal?.throwIfAborted();
        await file.save(body, writeOptions);
      } else {
        await pipeline(body, file.createWriteStream(writeOptions), { signal: options.signal });
      }
    } catch (error) {
      throw toStorageError(error, name);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.bucket.file(name).delete({ ignoreNotFound: true });
    } catch (error) {
      throw toStorageError(error, name);
    }
  }

  publicUrl(name: string): string {
    const encoded = encodeURIComponent(name);
    if (this.options.publicBaseUrl !== undefined) return `${this.options.publicBaseUrl}/${encoded}`;
    const host = this.options.apiEndpoint ?? 'https://storage.googleapis.com';
    return `${host}/${this.bucket.name}/${encoded}`;
  }
}

function toStorageError(error: unknown, name: string): StorageError {
  const status =
    typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (status === 412) {
    return new StorageError('exists', `object ${name} already exists`, { cause: error });
  }
  return new StorageError('unavailable', `writing ${name} to the bucket failed`, { cause: error });
}
