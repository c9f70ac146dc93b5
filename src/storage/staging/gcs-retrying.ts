import { isTransient } from '../gcs-errors.js';
import { withRetries, type RetryPolicy } from '../retry.js';
import { asStagingError } from './staging-error.js';

/**
 * One staging call on GCS in the bounded retry loop (the client's own retries are off,
 * create-store.ts): transient failures are tried again until the deadline, and what still fails
 * is the staging layer's error ("unavailable" unless it is one already).
 */
export async function retryingStaged<T>(
  policy: RetryPolicy,
  what: string,
  attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
): Promise<T> {
  try {
    return await withRetries(attempt, policy, { isRetryable: isTransient });
  } catch (error) {
    throw asStagingError(error, `staging: ${what} failed`);
  }
}
