import { ImageIngestError, parseRetryAfter } from './errors.js';
import { NetworkFailure, abortReason, type Answer } from './transport.js';

export interface RetryPolicy {
  /** Attempts after the first; 0 sends once. */
  readonly retries: number;
  /** A Retry-After longer than this is not waited for: the error is returned instead. */
  readonly maxRetryAfterSeconds: number;
  readonly signal?: AbortSignal | undefined;
}

export const defaultRetries = 3;
export const defaultMaxRetryAfterSeconds = 30;

/** Statuses that mean "not now": nothing was stored, the same request may be sent again. */
const retryableStatuses = new Set([429, 503]);

/** Waits, or rejects with the signal's reason as soon as it fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential, with full jitter, from 250 ms up to 8 s. */
function backoffMs(attempt: number): number {
  return Math.round(Math.random() * Math.min(8000, 250 * 2 ** attempt));
}

/**
 * Runs `attempt` until it gets an answer worth returning: network failures, 429 and 503 are
 * tried again, `retries` times at most, after the server's Retry-After or a backoff.
 * `canRetry` says whether the body can still be sent again (a stream cannot).
 */
export async function withRetries(
  attempt: () => Promise<Answer>,
  policy: RetryPolicy,
  canRetry: () => boolean = () => true,
): Promise<Answer> {
  for (let attemptIndex = 0; ; attemptIndex += 1) {
    policy.signal?.throwIfAborted();
    const last = attemptIndex >= policy.retries || !canRetry();
    let answer: Answer;
    try {
      answer = await attempt();
    } catch (error) {
      if (!(error instanceof NetworkFailure)) throw error;
      if (last || !canRetry()) {
        throw new ImageIngestError('network_error', 'The service could not be reached', {
          cause: error.cause,
          details: error.cause,
        });
      }
      await sleep(backoffMs(attemptIndex), policy.signal);
      continue;
    }
    if (!retryableStatuses.has(answer.status) || last || !canRetry()) return answer;
    const retryAfter = parseRetryAfter(answer.header('Retry-After'));
    if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterSeconds) return answer;
    await sleep(
      retryAfter === undefined ? backoffMs(attemptIndex) : retryAfter * 1000,
      policy.signal,
    );
  }
}
