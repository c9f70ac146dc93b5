import { uploadIdPattern } from '../storage/staging/staging-error.js';
import type { UploadMethod } from '../storage/staging/byte-area.js';

/**
 * What the service remembers of one direct upload between its creation and its completion,
 * kept as JSON in the staging layer's record store (the direct area).
 */
export interface DirectUploadRecord {
  /** A UUID the service chose; names both the staged object and the record. */
  readonly id: string;
  /** ownerOf(caller) of its creator; null when anonymous. */
  readonly owner: string | null;
  /** The size the client declared: exactly this many bytes are taken. */
  readonly size: number;
  readonly method: UploadMethod;
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

/**
 * A record read back from the store, checked field by field (it came from outside memory);
 * undefined when it is not one this service wrote for `id`.
 */
export function parseDirectUploadRecord(value: unknown, id: string): DirectUploadRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const isString = (key: string): boolean => typeof record[key] === 'string';
  const isDate = (key: string): boolean =>
    isString(key) && !Number.isNaN(Date.parse(record[key] as string));
  if (!isString('id') || !uploadIdPattern.test(record.id as string)) return undefined;
  if (record.id !== id) return undefined;
  if (record.owner !== null && !isString('owner')) return undefined;
  if (record.declaredType !== null && !isString('declaredType')) return undefined;
  if (!Number.isSafeInteger(record.size) || (record.size as number) < 1) return undefined;
  if (record.method !== 'put' && record.method !== 'resumable') return undefined;
  if (!isString('nonce') || !isDate('createdAt') || !isDate('expiresAt')) return undefined;
  if (!isDate('completeBy')) return undefined;
  return record as unknown as DirectUploadRecord;
}

/**
 * Whether the sweep may remove the upload: its `completeBy` passed more than one expiry ago.
 * The margin is for a complete admitted just before `completeBy` that is still reading the
 * bytes through the pipeline; swept at `completeBy` itself, its bytes would go from under it.
 */
export function isDirectUploadDue(record: DirectUploadRecord, expiresSeconds: number, now: Date): boolean {
  return Date.parse(record.completeBy) + expiresSeconds * 1000 <= now.valueOf();
}
