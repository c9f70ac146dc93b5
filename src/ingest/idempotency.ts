import { v5 as uuidv5 } from 'uuid';
import { AppError } from '../errors.js';
import { knownImageTypes, type ImageMimeType } from '../images/image-types.js';
import type { ObjectStore, StoredObjectInfo } from '../storage/object-store.js';

/**
 * Idempotent uploads without any state in the service: the object's id is a UUIDv5 of the
 * caller's scope and the Idempotency-Key, so every instance behind a load balancer derives
 * the same name, and the object itself (its size and hashes) tells a repeat of the same
 * upload from a reuse of the key for another image. Nothing is remembered in memory.
 */

/** Fixed namespace for this service's key-derived ids (a random v4, chosen once). */
const idempotencyNamespace = '6f1c1b0e-5d1a-4b4e-9a1e-3c2f5e7d8a90';

/** Visible ASCII, as Stripe and the IETF httpapi draft allow; long enough for a UUID or two. */
const keyPattern = /^[\x21-\x7e]{1,255}$/;

export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  if (!keyPattern.test(header)) {
    throw new AppError('invalid_idempotency_key');
  }
  return header;
}

/**
 * The id every instance derives for this key. `scope` keeps callers apart: once requests are
 * authenticated it is the caller's identity, so two clients choosing the same key never meet.
 */
export function idFromIdempotencyKey(key: string, scope: string): string {
  return uuidv5(`${scope}\n${key}`, idempotencyNamespace);
}

export interface EarlierObject {
  readonly name: string;
  readonly info: StoredObjectInfo;
}

/**
 * Looks for an object an earlier request with the same key stored, under any extension this
 * service may give it: the same key with an image of another type must be found too.
 */
export async function findEarlierObject(
  store: ObjectStore,
  id: string,
  allowedTypes: readonly ImageMimeType[],
  signal?: AbortSignal,
): Promise<EarlierObject | undefined> {
  const names = [...new Set(allowedTypes.map((type) => `${id}.${knownImageTypes[type]}`))];
  // The first stat to fail decides the answer, so the others are stopped (their retries would
  // otherwise run on to the store's deadline, after the request was answered) and waited for:
  // nothing of this lookup outlives it.
  const stopped = new AbortController();
  const stopSignal =
    signal === undefined ? stopped.signal : AbortSignal.any([signal, stopped.signal]);
  const failures: unknown[] = [];
  const found = await Promise.all(
    names.map(async (name) => {
      try {
        const info = await store.stat(name, stopSignal);
        return info === undefined ? undefined : { name, info };
      } catch (error) {
        failures.push(error);
        stopped.abort(error);
        return undefined;
      }
    }),
  );
  if (failures.length > 0) throw failures[0];
  return found.find((entry) => entry !== undefined);
}

export interface UploadFingerprint {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
  /** Base64 MD5, the hash GCS keeps for every object, including streamed ones. */
  readonly md5: string | undefined;
}

/**
 * Whether the earlier object carries no sha256 (one stored before the pipeline set it, or a
 * streamed GCS object before its metadata update): only then does the replay check need MD5.
 */
export function lacksSha256(earlier: EarlierObject): boolean {
  const storedSha256 = earlier.info.metadata.sha256;
  return storedSha256 === undefined || storedSha256 === '';
}

/** Whether the stored object is exactly this upload: same name, size and hash. */
export function isSameUpload(earlier: EarlierObject, upload: UploadFingerprint): boolean {
  if (earlier.name !== upload.name || earlier.info.size !== upload.bytes) return false;
  if (!lacksSha256(earlier)) return earlier.info.metadata.sha256 === upload.sha256;
  return earlier.info.md5 !== undefined && earlier.info.md5 === upload.md5;
}
