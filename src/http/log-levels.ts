/**
 * The level an answer is logged at. Error is for faults someone must look into: an unknown
 * failure (500) and a store that failed (503 storage_unavailable: the bucket is down or refuses
 * us after the retries ran out, which no client can fix). A full server (503 server_busy) is a
 * warning: the service is doing what it was built to do, but a steady stream of them means it
 * needs more capacity. Everything the client did (4xx, a 501 for a method we do not speak) and a
 * client that left (499) is information: nothing to fix on our side, and at error level it would
 * bury the faults whenever one caller misbehaves.
 */
export type AnswerLogLevel = 'error' | 'warn' | 'info';

/** Status of a request whose client went away before the response was sent (as nginx logs it). */
export const clientClosedStatus = 499;

export function logLevelOf(status: number, code: string | undefined): AnswerLogLevel {
  if (status === clientClosedStatus) return 'info';
  if (code === 'server_busy') return 'warn';
  // A PUT that GCS credentials cannot sign: createStaging warned once what to configure.
  if (code === 'not_implemented' || code === 'signed_put_unavailable') return 'info';
  if (status >= 500) return 'error';
  return 'info';
}
