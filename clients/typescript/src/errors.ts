import type { ErrorCode } from './types.js';

/**
 * Codes the client itself gives when no answer from the service explains the failure:
 * `network_error` (no response after every attempt), `invalid_response` (an answer that is
 * not the service's JSON), `tus_unavailable` (via 'tus' without tus-js-client or a server
 * that offers tus).
 */
export type ClientErrorCode = 'network_error' | 'invalid_response' | 'tus_unavailable';

/** A failed call: the service's error code, its HTTP status, and its Retry-After if any. */
export class ImageIngestError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  /** The HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** Seconds the service asked to wait (429, 503). */
  readonly retryAfter: number | undefined;
  /** The response body, or what failed underneath (a network error). */
  readonly details: unknown;

  constructor(
    code: ErrorCode | ClientErrorCode,
    message: string,
    {
      status = 0,
      retryAfter,
      details,
      cause,
    }: { status?: number; retryAfter?: number; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause });
    this.name = 'ImageIngestError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
    this.details = details;
  }
}

/** Recognised by shape, so that an error from another copy of the package still counts. */
export function isImageIngestError(error: unknown): error is ImageIngestError {
  return (
    error instanceof Error &&
    error.name === 'ImageIngestError' &&
    'code' in error &&
    'status' in error
  );
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined if absent. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** The error a non-2xx answer stands for, read from the catalogue's `{"error": {...}}` body. */
export function errorFromResponse(
  status: number,
  bodyText: string,
  retryAfterHeader: string | null,
): ImageIngestError {
  let body: unknown = bodyText;
  try {
    body = JSON.parse(bodyText);
  } catch {
    // Not JSON (a proxy's page): kept as text in details.
  }
  const retryAfter = parseRetryAfter(retryAfterHeader);
  const error =
    typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
  if (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string'
  ) {
    const message =
      'message' in error && typeof error.message === 'string' ? error.message : error.code;
    return new ImageIngestError(error.code as ErrorCode, message, {
      status,
      ...(retryAfter === undefined ? {} : { retryAfter }),
      details: body,
    });
  }
  return new ImageIngestError('invalid_response', `Unexpected HTTP ${status} answer`, {
    status,
    ...(retryAfter === undefined ? {} : { retryAfter }),
    details: body,
  });
}
