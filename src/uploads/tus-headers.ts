import { AppError } from '../errors.js';
import { focusFromText } from '../ingest/focal-point.js';
import type { FocalPoint } from '../ingest/image-record.js';

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
