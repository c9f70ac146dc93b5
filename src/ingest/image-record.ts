import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StoredObjectInfo } from '../storage/object-store.js';

/**
 * What the service knows about one stored image, and how that is kept: in the object's own
 * custom metadata (GCS object metadata; the local driver's sidecar), so that an image can be
 * described again later without any database. The service stays stateless.
 */
export interface ImageRecord {
  readonly id: string;
  /** `<id>.<extension>`, the object's name. */
  readonly name: string;
  readonly contentType: string;
  readonly extension: string;
  /** Size and hash of the stored bytes. */
  readonly bytes: number;
  readonly sha256: string;
  /** As the image is displayed (EXIF orientations 5 to 8 swap the stored axes). */
  readonly width: number;
  readonly height: number;
  /** Frames of an animation; undefined for a still image. */
  readonly frames: number | undefined;
  /**
   * The EXIF orientation the stored image carries (1 to 8; 1 when it has none). Browsers apply
   * it; `width` and `height` already have.
   */
  readonly orientation: number;
  /** ISO 8601, when the upload was accepted. */
  readonly createdAt: string;
  /** The authenticated caller that uploaded it (`api_key:key:…`, `jwt:sub:…`); undefined if anonymous. */
  readonly owner: string | undefined;
  /** SHA-256 (hex) of the delete token handed to the uploader; the token itself is never stored. */
  readonly deleteTokenSha256: string | undefined;
}

/** The JSON every 201 and GET /v1/images/{id} answers with. */
export interface ImageDescription {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly contentType: string;
  readonly extension: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
  readonly frames?: number;
  readonly orientation: number;
  readonly createdAt: string;
}

/** Metadata keys, as kept on the object. */
const keys = {
  sha256: 'sha256',
  width: 'width',
  height: 'height',
  frames: 'frames',
  orientation: 'orientation',
  createdAt: 'createdAt',
  owner: 'owner',
  deleteTokenSha256: 'deleteTokenSha256',
} as const;

/** The record's facts as custom object metadata (strings only, as GCS keeps them). */
export function toObjectMetadata(
  record: Omit<ImageRecord, 'id' | 'name' | 'contentType' | 'extension' | 'bytes' | 'sha256'>,
): Record<string, string> {
  return {
    [keys.width]: String(record.width),
    [keys.height]: String(record.height),
    ...(record.frames === undefined ? {} : { [keys.frames]: String(record.frames) }),
    [keys.orientation]: String(record.orientation),
    [keys.createdAt]: record.createdAt,
    ...(record.owner === undefined ? {} : { [keys.owner]: record.owner }),
    ...(record.deleteTokenSha256 === undefined
      ? {}
      : { [keys.deleteTokenSha256]: record.deleteTokenSha256 }),
  };
}

/** The sha256 entry, set once the stored bytes are known in full. */
export function sha256Metadata(sha256: string): Record<string, string> {
  return { [keys.sha256]: sha256 };
}

const nonNegativeInteger = /^(0|[1-9][0-9]{0,9})$/;

/**
 * Reads a record back from a stored object. Undefined when the object does not carry the
 * facts this service writes (it was not stored by this service, or not completely).
 */
export function fromStoredObject(
  name: string,
  contentType: string,
  info: StoredObjectInfo,
): ImageRecord | undefined {
  const meta = info.metadata;
  const dot = name.lastIndexOf('.');
  const width = meta[keys.width];
  const height = meta[keys.height];
  const sha256 = meta[keys.sha256];
  const createdAt = meta[keys.createdAt];
  if (width === undefined || !nonNegativeInteger.test(width)) return undefined;
  if (height === undefined || !nonNegativeInteger.test(height)) return undefined;
  if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  if (createdAt === undefined || Number.isNaN(Date.parse(createdAt))) return undefined;
  const frames = meta[keys.frames];
  return {
    id: name.slice(0, dot),
    name,
    contentType,
    extension: name.slice(dot + 1),
    bytes: info.size,
    sha256,
    width: Number(width),
    height: Number(height),
    frames: frames !== undefined && nonNegativeInteger.test(frames) ? Number(frames) : undefined,
    orientation: orientationOf(meta[keys.orientation]),
    createdAt,
    owner: meta[keys.owner] || undefined,
    deleteTokenSha256: meta[keys.deleteTokenSha256] || undefined,
  };
}

/** An object stored before orientation was recorded displays as its pixels are: 1. */
function orientationOf(value: string | undefined): number {
  return value !== undefined && /^[1-8]$/.test(value) ? Number(value) : 1;
}

/** The public description of a record; owner and delete token stay private. */
export function describeImage(record: ImageRecord, url: string): ImageDescription {
  return {
    id: record.id,
    name: record.name,
    url,
    contentType: record.contentType,
    extension: record.extension,
    bytes: record.bytes,
    sha256: record.sha256,
    width: record.width,
    height: record.height,
    ...(record.frames === undefined ? {} : { frames: record.frames }),
    orientation: record.orientation,
    createdAt: record.createdAt,
  };
}

/**
 * The secret that lets an anonymous uploader delete its image. Random for an ordinary upload;
 * for an idempotent one, derived from the Idempotency-Key (which only that client knows), so a
 * replay can hand the same token back without the service remembering it.
 */
export function newDeleteToken(id: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return randomBytes(24).toString('base64url');
  return createHmac('sha256', idempotencyKey).update(`delete-token\n${id}`).digest('base64url');
}

export function deleteTokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether a presented token is the one whose hash the record keeps (constant time). */
export function deleteTokenMatches(record: ImageRecord, presented: string): boolean {
  if (record.deleteTokenSha256 === undefined) return false;
  const expected = Buffer.from(record.deleteTokenSha256, 'hex');
  const actual = Buffer.from(deleteTokenSha256(presented), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
