/**
 * How a failure of a Google Cloud Storage call is classified, for every GCS driver (objects,
 * tus staging, direct staging): its status, and whether another attempt may help.
 */

/** The HTTP status or network code of a failure (gaxios puts an HTTP status in `status`). */
export function statusOf(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && error.code !== undefined) return error.code;
  return 'status' in error ? error.status : undefined;
}

const transientStatuses = new Set([408, 429, 500, 502, 503, 504]);
const transientNetworkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/** Failures worth another attempt: rate limits, server errors, and a broken connection. */
export function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  if (typeof status === 'number') return transientStatuses.has(status);
  if (typeof status === 'string' && transientNetworkCodes.has(status)) return true;
  const cause =
    typeof error === 'object' && error !== null && 'cause' in error ? error.cause : undefined;
  if (cause !== undefined && cause !== error) return isTransient(cause);
  // node-fetch wraps socket failures as FetchError { type: 'system', errno: 'ECONNRESET' }.
  if (typeof error === 'object' && error !== null && 'errno' in error) {
    return typeof error.errno === 'string' && transientNetworkCodes.has(error.errno);
  }
  return error instanceof Error && /socket hang up|premature close|aborted/i.test(error.message);
}
