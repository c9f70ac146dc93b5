import type { ErrorCode } from '../errors.js';
import { errorCatalogue } from '../errors.js';
import type { FocalPoint } from '../ingest/image-record.js';
import type { CreatedImage } from '../ingest/ingest-image.js';
import type { RecordStore } from '../storage/staging/record-store.js';
import { uploadIdPattern } from '../storage/staging/staging-error.js';
import type { ArrivalRecord } from './arrival-check.js';
import { fromStaging } from './staging-failures.js';

/**
 * The state of one tus upload, kept as JSON in the staging area (never in one process's
 * memory), so a PATCH can land on any instance. Replaced only with compare-and-swap.
 */
export interface UploadRecord {
  readonly id: string;
  /** The caller who created it (ownerOf); null for an anonymous upload. */
  readonly owner: string | null;
  /** Upload-Length; null while deferred (Upload-Defer-Length: 1). */
  readonly length: number | null;
  /**
   * Bytes committed (the tus offset): the sum of the pieces' sizes, or, for an upload checked
   * as it arrives (`arrival`), the raw bytes received, of which the pieces hold the output.
   */
  readonly offset: number;
  readonly pieces: readonly UploadPiece[];
  /** Upload-Metadata hints; logged at most, never a name or a type. */
  readonly filename: string | null;
  readonly filetype: string | null;
  /** Upload-Metadata's focus, validated at creation; absent in records written before it. */
  readonly focus?: FocalPoint | null;
  /** Random, never shown: the finished image's idempotency key is derived from it. */
  readonly secret: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: 'receiving' | 'done' | 'rejected';
  /**
   * The type the first bytes were sniffed as, once enough of them arrived (sniffSampleBytes):
   * a refused type ends the upload there, not at its last byte. Absent in older records, and
   * for an upload shorter than the sample (the finish decides then).
   */
  readonly sniffedType?: string | undefined;
  /**
   * Set for an upload checked as its bytes arrive (src/uploads/arrival-check.ts): its pieces
   * hold the walk's output (stripped), and this is what another instance needs to catch up.
   * Absent in records written before, whose pieces hold the bytes as they came.
   */
  readonly arrival?: ArrivalRecord | undefined;
  /**
   * PATCHes committed since the upload (re)started, each a rewrite of this record: one checked
   * as it arrives may commit bytes that put out nothing yet (a metadata segment being dropped),
   * so its pieces do not count them. Absent in records written before it: the pieces count.
   */
  readonly patches?: number | undefined;
  /**
   * state done: the image's JSON, as POST /v1/images answers it but without the delete token
   * (finishedImage derives it again; records written before may still hold one).
   */
  readonly image: CreatedImage | null;
  /** state rejected: the pipeline's error code. */
  readonly error: ErrorCode | null;
  /** tus concatenation (Upload-Concat); absent for an ordinary upload. */
  readonly concat?: PartialConcat | FinalConcat | undefined;
}

/**
 * A partial upload: bytes only, never an image on its own. Complete once its offset reaches
 * its length; it stays "receiving" until a final upload takes it. Once that final upload is
 * published its bytes go and its record stays, "done", until it expires: a retry of the final
 * upload whose 201 was lost finds the final upload through it.
 */
export interface PartialConcat {
  readonly kind: 'partial';
  /** The final upload that took it, or used it up (claimed with compare-and-swap, so only one can). */
  readonly usedBy: string | null;
}

/** A final upload: its partials' bytes in order, published when it was created. */
export interface FinalConcat {
  readonly kind: 'final';
  readonly partials: readonly string[];
  /** The partials' URLs as the client sent them, for HEAD's Upload-Concat. */
  readonly urls: readonly string[];
}

export interface UploadPiece {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

/** A record read back from staging; anything else there is not ours and fails loudly. */
export function parseUploadRecord(value: unknown, id: string): UploadRecord {
  const record = value as Partial<UploadRecord> | null;
  const valid =
    typeof record === 'object' &&
    record !== null &&
    record.id === id &&
    typeof record.offset === 'number' &&
    Array.isArray(record.pieces) &&
    typeof record.expiresAt === 'string' &&
    (record.state === 'receiving' || record.state === 'done' || record.state === 'rejected') &&
    (record.error === null || (typeof record.error === 'string' && record.error in errorCatalogue)) &&
    (record.concat === undefined || isConcatKind(record.concat));
  if (!valid) throw new Error(`the staged record of upload ${id} is not one this service wrote`);
  return record as UploadRecord;
}

/** A stored `concat` may be anything (null included): only ours passes. */
function isConcatKind(concat: unknown): boolean {
  const kind = (concat as { kind?: unknown } | null)?.kind;
  return kind === 'partial' || kind === 'final';
}

export function isPartial(record: UploadRecord): boolean {
  return record.concat?.kind === 'partial';
}

/** The final upload that took this partial upload; null for any other upload. */
export function usedByOf(record: UploadRecord): string | null {
  return record.concat?.kind === 'partial' ? record.concat.usedBy : null;
}

/** A partial upload a published final upload used up: only its record is left. */
export function isUsedUp(record: UploadRecord): boolean {
  return isPartial(record) && record.state === 'done';
}

/**
 * The upload, if `owner` may see it: another caller's upload is as missing as a forged id
 * (undefined either way, for the caller to answer its own 404 or 400).
 */
export async function readOwnUpload(
  records: RecordStore,
  id: string,
  owner: string | undefined,
): Promise<{ record: UploadRecord; version: string } | undefined> {
  if (!uploadIdPattern.test(id)) return undefined;
  const found = await fromStaging(records.read(id));
  if (found === undefined) return undefined;
  const record = parseUploadRecord(found.record, id);
  if (record.owner !== (owner ?? null)) return undefined;
  return { record, version: found.version };
}

/** When an upload touched now expires: UPLOAD_EXPIRES_SECONDS later. */
export function expiryFrom(now: Date, expiresSeconds: number): string {
  return new Date(now.getTime() + expiresSeconds * 1000).toISOString();
}

export function isExpired(record: UploadRecord, now: Date): boolean {
  return Date.parse(record.expiresAt) <= now.getTime();
}
