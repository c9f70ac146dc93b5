import type { Readable } from 'node:stream';
import { uploadIdPattern } from '../staging/upload-staging.js';

/**
 * Where a direct upload's bytes wait, unverified, until `POST /v1/uploads/:id/complete` reads
 * them through the pipeline: under the private staging prefix of the bucket (GCS) or under
 * `<UPLOAD_DIR>/.staging/direct/` (local). Nothing there is ever served or public.
 */

export type DirectUploadMethod = 'put' | 'resumable';

/** What the service remembers of one direct upload between its creation and its completion. */
export interface DirectUploadRecord {
  /** A UUID the service chose; names both the staged object and the record. */
  readonly id: string;
  /** ownerOf(caller) of its creator; null when anonymous. */
  readonly owner: string | null;
  /** The size the client declared: exactly this many bytes are taken. */
  readonly size: number;
  readonly method: DirectUploadMethod;
  /** The client's type label: a hint for the pipeline only, never trusted. */
  readonly declaredType: string | null;
  /**
   * Random, never shown: the upload's idempotency key is derived from it, so knowing the
   * upload id (it is in URLs and logs) is not enough to derive an anonymous delete token.
   */
  readonly nonce: string;
  readonly createdAt: string;
  /** The upload URL may be started until then. */
  readonly expiresAt: string;
  /** `complete` is taken until then (a transfer started in time may still be under way). */
  readonly completeBy: string;
}

/** Where and how the client sends the bytes. */
export interface DirectUploadTarget {
  readonly url: string;
  /** Headers the client must send with its PUT (signed ones among them). */
  readonly headers: Readonly<Record<string, string>>;
}

export interface TargetOptions {
  /** The request's Origin when CORS allows it: a GCS resumable session answers it only. */
  readonly origin: string | undefined;
  /** Where the service itself is reached (the local driver's URLs point back at it). */
  readonly serviceOrigin: string;
}

/** A staged object that has arrived whole, pinned to the version that was looked at. */
export interface StagedObject {
  readonly size: number;
  /** The GCS generation read; a later overwrite by the client is not read. */
  readonly generation?: string | undefined;
}

/** One upload in the staging area, as the sweep sees it. */
export interface StagedUpload {
  readonly id: string;
  /** When its first file (record or bytes) was made. */
  readonly createdAt: Date;
}

/**
 * The driver cannot sign a PUT URL (GCS without a signing identity): `method: 'put'` cannot be
 * offered, a resumable session can. A configuration fact, not an outage: retrying never helps.
 */
export class PutSigningUnavailableError extends Error {
  override readonly name = 'PutSigningUnavailableError';
}

/** By shape, as every error of the staging layer is recognised (jest's realms break instanceof). */
export function isPutSigningUnavailable(error: unknown): error is PutSigningUnavailableError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'PutSigningUnavailableError'
  );
}

export interface DirectStaging {
  readonly driver: 'local' | 'gcs';
  /**
   * Stores the record (never overwriting one) and makes the URL the bytes go to; a PUT the
   * driver cannot sign fails with PutSigningUnavailableError, storing nothing.
   */
  create(record: DirectUploadRecord, options: TargetOptions): Promise<DirectUploadTarget>;
  /** The record, or undefined when there is none (never created, completed and swept, forged). */
  loadRecord(id: string): Promise<DirectUploadRecord | undefined>;
  /** The staged bytes once they have arrived whole; undefined before. */
  stagedObject(id: string): Promise<StagedObject | undefined>;
  /** Reads the staged bytes, `object` being what stagedObject answered. */
  openStaged(id: string, object: StagedObject, signal?: AbortSignal): Readable;
  /** Deletes the staged bytes, leaving the record (a retried complete answers from it). */
  removeStaged(id: string): Promise<void>;
  /** Deletes the record and whatever bytes are staged for it. */
  remove(id: string): Promise<void>;
  /** Every upload in the staging area (records, and bytes whose record is gone). */
  list(): AsyncIterable<StagedUpload>;
}

/** A record read back from the store, checked field by field (it came from outside memory). */
export function parseDirectUploadRecord(text: string): DirectUploadRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const isString = (key: string): boolean => typeof record[key] === 'string';
  const isDate = (key: string): boolean =>
    isString(key) && !Number.isNaN(Date.parse(record[key] as string));
  if (!isString('id') || !uploadIdPattern.test(record.id as string)) return undefined;
  if (record.owner !== null && !isString('owner')) return undefined;
  if (record.declaredType !== null && !isString('declaredType')) return undefined;
  if (!Number.isSafeInteger(record.size) || (record.size as number) < 1) return undefined;
  if (record.method !== 'put' && record.method !== 'resumable') return undefined;
  if (!isString('nonce') || !isDate('createdAt') || !isDate('expiresAt')) return undefined;
  if (!isDate('completeBy')) return undefined;
  return record as unknown as DirectUploadRecord;
}
