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

/**
 * A signing failure that is the deployment's, not the moment's, so no retry can help: no
 * credentials at all, credentials without a service account (a person's gcloud login), or an
 * account refused `iam.serviceAccounts.signBlob` (or whose project has the IAM Credentials API
 * off). google-auth-library throws plain Errors for the first two, and the storage client wraps
 * the signBlob call's failure in a SigningError that keeps only the message: so the messages
 * are what can be matched.
 */
export function isMissingSigningIdentity(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const message = 'message' in error && typeof error.message === 'string' ? error.message : '';
  if (
    /Could not load the default credentials|Cannot sign data without `client_email`/.test(message)
  ) {
    return true;
  }
  const name = 'name' in error ? error.name : undefined;
  return (
    name === 'SigningError' &&
    /iam\.serviceAccounts\.signBlob|PERMISSION_DENIED|permission|has not been used|is disabled/i.test(
      message,
    )
  );
}
