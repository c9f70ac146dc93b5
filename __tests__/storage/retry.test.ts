import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DeadlineExceededError,
  backoffDelay,
  withRetries,
  type RetryPolicy,
} from '../../src/storage/retry.js';
import { loadConfig } from '../../src/config.js';

const policy: RetryPolicy = {
  deadlineMs: 1_000,
  attemptTimeoutMs: 200,
  initialDelayMs: 10,
  maxDelayMs: 40,
  multiplier: 2,
};

class Transient extends Error {}

describe('backoffDelay', () => {
  it('stays between half and all of the exponential ceiling, capped at maxDelayMs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), (attempt) => {
        const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
        const delay = backoffDelay(policy, attempt);
        return delay >= Math.floor(ceiling / 2) && delay <= ceiling;
      }),
    );
  });
});

describe('withRetries', () => {
  it('retries transient failures until an attempt succeeds', async () => {
    let attempts = 0;
    const retried: number[] = [];
    const result = await withRetries(
      () => {
        attempts += 1;
        return attempts < 3 ? Promise.reject(new Transient()) : Promise.resolve('stored');
      },
      policy,
      { isRetryable: (error) => error instanceof Transient, onRetry: (_, n) => retried.push(n) },
    );
    expect(result).toBe('stored');
    expect(attempts).toBe(3);
    expect(retried).toEqual([1, 2]);
  });

  it('gives up at once on a failure that is not retryable', async () => {
    let attempts = 0;
    const permanent = new Error('403');
    await expect(
      withRetries(
        () => {
          attempts += 1;
          return Promise.reject(permanent);
        },
        policy,
        { isRetryable: (error) => error instanceof Transient },
      ),
    ).rejects.toBe(permanent);
    expect(attempts).toBe(1);
  });

  it('cuts an attempt that hangs, retries it, and ends with DeadlineExceededError', async () => {
    let attempts = 0;
    const signals: AbortSignal[] = [];
    const failure = await withRetries(
      (signal) => {
        attempts += 1;
        signals.push(signal);
        return new Promise<never>(() => undefined); // never settles
      },
      policy,
      { isRetryable: () => false },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeadlineExceededError);
    // Hanging is retried like a reset: 200 ms attempts fit several times into 1 s.
    expect(attempts).toBeGreaterThan(1);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });

  it("stops as soon as the caller aborts, with the caller's reason", async () => {
    const controller = new AbortController();
    const reason = new Error('client closed the connection');
    setTimeout(() => controller.abort(reason), 20);
    await expect(
      withRetries(
        () => Promise.reject(new Transient()),
        { ...policy, initialDelayMs: 100 },
        {
          isRetryable: () => true,
        },
        controller.signal,
      ),
    ).rejects.toBe(reason);
  });
});

describe('store deadline configuration', () => {
  it('reads STORE_TIMEOUT_MS and STORE_ATTEMPT_TIMEOUT_MS with their defaults', () => {
    expect(loadConfig({})).toMatchObject({
      storeTimeoutMs: 20_000,
      storeAttemptTimeoutMs: 10_000,
      readyTimeoutMs: 2_000,
      shutdownDelayMs: 0,
      shutdownGraceMs: 25_000,
    });
    expect(loadConfig({ STORE_TIMEOUT_MS: '3000' }).storeAttemptTimeoutMs).toBe(3_000);
  });

  it('refuses an attempt timeout longer than the whole deadline, naming the variable', () => {
    expect(() =>
      loadConfig({ STORE_TIMEOUT_MS: '1000', STORE_ATTEMPT_TIMEOUT_MS: '5000' }),
    ).toThrow(/STORE_ATTEMPT_TIMEOUT_MS/);
    expect(() => loadConfig({ SHUTDOWN_GRACE_MS: 'soon' })).toThrow(/SHUTDOWN_GRACE_MS/);
  });
});
