import { AppError } from '../errors.js';
import { focusFromText } from '../ingest/focal-point.js';
import type { FocalPoint } from '../ingest/image-record.js';
import { uploadIdPattern } from '../storage/staging/staging-error.js';

/**
 * The tus 1.0 headers, parsed strictly: a value the spec does not allow is a 400 from the
 * catalogue, before any storage is touched.
 */

export const tusVersion = '1.0.0';
export const tusExtensions = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'termination',
  'expiration',
  'checksum',
  'concatenation',
] as const;
export const tusContentType = 'application/offset+octet-stream';

/** Non-negative whole numbers that fit a double exactly; "1e30", "-1", "01x" are refused. */
function parseByteCount(raw: string, code: 'invalid_upload_length' | 'invalid_upload_offset') {
  if (!/^[0-9]{1,15}$/.test(raw)) throw new AppError(code);
  return Number(raw);
}

export function parseUploadLength(raw: string | undefined): number | undefined {
  return raw === undefined || raw === '' ? undefined : parseByteCount(raw, 'invalid_upload_length');
}

export function parseUploadOffset(raw: string | undefined): number {
  if (raw === undefined || raw === '') throw new AppError('invalid_upload_offset');
  return parseByteCount(raw, 'invalid_upload_offset');
}

/** Upload-Defer-Length: only the value 1 exists. */
export function parseDeferLength(raw: string | undefined): boolean {
  if (raw === undefined || raw === '') return false;
  if (raw.trim() !== '1') throw new AppError('invalid_upload_length');
  return true;
}

export interface UploadHints {
  readonly filename: string | null;
  readonly filetype: string | null;
  /** `focus`: the image's focal point, refused (400) at creation when it is not one. */
  readonly focus: FocalPoint | null;
}

const maxMetadataHeaderBytes = 4096;
const maxHintLength = 255;

/**
 * Upload-Metadata: `key base64,key base64`; filename and filetype are kept as hints, and
 * focus (`x,y`) as the image's focal point.
 */
export function parseUploadMetadata(raw: string | undefined): UploadHints {
  const hints: Record<string, string> = {};
  if (raw === undefined || raw.trim() === '') return { filename: null, filetype: null, focus: null };
  if (raw.length > maxMetadataHeaderBytes) throw new AppError('invalid_upload_metadata');
  const seen = new Set<string>();
  for (const pair of raw.split(',')) {
    const match = /^\s*([\x21-\x2b\x2d-\x7e]+)(?: ([A-Za-z0-9+/]*={0,2}))?\s*$/.exec(pair);
    const key = match?.[1];
    if (match === null || key === undefined || seen.has(key)) {
      throw new AppError('invalid_upload_metadata');
    }
    seen.add(key);
    const value = Buffer.from(match[2] ?? '', 'base64').toString('utf8');
    // Control characters would only end up in a log line.
    hints[key] = value.replace(/[\p{Cc}]/gu, '').slice(0, maxHintLength);
  }
  return {
    filename: hints.filename ?? null,
    filetype: hints.filetype ?? null,
    focus:
      hints.focus === undefined ? null : focusFromText(hints.focus, 'the tus metadata "focus"'),
  };
}

/** Upload-Concat, as the creation request sent it. */
export type UploadConcat =
  | { readonly kind: 'partial' }
  | {
      readonly kind: 'final';
      /** The partial uploads' ids, in order. */
      readonly partials: readonly string[];
      /** Their URLs as sent (HEAD answers them back, as the spec asks). */
      readonly urls: readonly string[];
    };

/** More would only make a longer header: tus-js-client's parallelUploads is a handful. */
export const maxPartialUploads = 64;
const uploadUrlPattern = new RegExp(
  `^(https?://[^/?#@\\s]+)?/v1/uploads/(${uploadIdPattern.source.slice(1, -1)})$`,
);

/**
 * Upload-Concat: `partial`, or `final;` and the partials' URLs separated by spaces. A URL is
 * this server's upload URL, as a path (`/v1/uploads/<id>`) or absolute on `origin` (the
 * request's own, as Location answered it); anything else, including the same partial twice,
 * is a 400 before any storage is touched.
 */
export function parseUploadConcat(raw: string | undefined, origin: string): UploadConcat | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim();
  if (value === 'partial') return { kind: 'partial' };
  const list = /^final;(.*)$/s.exec(value)?.[1]?.trim();
  if (list === undefined || list === '') throw new AppError('invalid_upload_concat');
  const urls = list.split(/ +/);
  if (urls.length > maxPartialUploads) throw new AppError('too_many_partial_uploads');
  const partials = urls.map((url) => {
    const match = uploadUrlPattern.exec(url);
    const id = match?.[2];
    if (match === null || id === undefined) throw new AppError('invalid_upload_concat');
    if (match[1] !== undefined && !sameOrigin(match[1], origin)) {
      throw new AppError('invalid_upload_concat');
    }
    return id;
  });
  if (new Set(partials).size !== partials.length) throw new AppError('invalid_upload_concat');
  return { kind: 'final', partials, urls };
}

function sameOrigin(prefix: string, origin: string): boolean {
  try {
    return new URL(prefix).origin === new URL(origin).origin;
  } catch {
    return false;
  }
}
