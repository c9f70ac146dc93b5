import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How a store call is retried. The total deadline bounds everything, backoff included, so a
 * store call always ends inside the HTTP request's own deadline.
 */
export interface RetryPolicy {
  /** Budget for the whole call: every attempt and every pause between them. */
  readonly deadlineMs: number;
  /** Budget for one attempt; a slow attempt is cut so that another one can still fit. */
  readonly attemptTimeoutMs: number;
  /** First pause; each later one is up to `multiplier` times longer (full jitter). */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  deadlineMs: 20_000,
  attemptTimeoutMs: 10_000,
  initialDelayMs: 100,
  maxDelayMs: 2_000,
  multiplier: 2,
};

export interface RetryHooks {
  /** Whether a failed attempt may be tried again (the write it made is safe to repeat). */
  readonly isRetryable: (error: unknown) => boolean;
  /** Called before each retry, e.g. to count retries in metrics. */
  readonly onRetry?: (error: unknown, attempt: number) => void;
}

/** Thrown when the deadline ran out; `cause` is the last attempt's failure, if any. */
export class DeadlineExceededError extends Error {
  constructor(deadlineMs: number, options?: { cause?: unknown }) {
    super(`the store did not answer within ${deadlineMs} ms`, options);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the deadline passes. Each attempt gets
 * a signal that fires when its own timeout, the total deadline or the caller's signal does;
 * any HTTP request the attempt started (directly or deep inside a client library) is
 * destroyed when that signal fires, so nothing outlives the attempt on the wire.
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
  callerSignal?: AbortSignal,
): Promise<T> {
  const startedAt = Date.now();
  const deadline = AbortSignal.timeout(policy.deadlineMs);
  const overall = callerSignal === undefined ? deadline : AbortSignal.any([callerSignal, deadline]);
  let lastError: unknown;
  for (let attemptNumber = 0; ; attemptNumber += 1) {
    if (callerSignal?.aborted === true) throw callerSignal.reason;
    const remaining = policy.deadlineMs - (Date.now() - startedAt);
    if (remaining <= 0) throw new DeadlineExceededError(policy.deadlineMs, { cause: lastError });
    const attemptSignal = AbortSignal.any([
      overall,
      AbortSignal.timeout(Math.min(policy.attemptTimeoutMs, remaining)),
    ]);
    try {
      return await runCancellable(() => attempt(attemptSignal, attemptNumber), attemptSignal);
    } catch (error) {
      if (isAborted(callerSignal)) throw callerSignal?.reason;
      // A timed-out attempt is retryable like a reset: the precondition makes repeating safe.
      if (!attemptSignal.aborted && !hooks.isRetryable(error)) throw error;
      lastError = error;
    }
    const delay = backoffDelay(policy, attemptNumber);
    if (Date.now() - startedAt + delay >= policy.deadlineMs) {
      throw new DeadlineExceededError(policy.deadlineMs, { cause: lastError });
    }
    hooks.onRetry?.(lastError, attemptNumber + 1);
    try {
      await sleep(delay, undefined, { signal: overall });
    } catch {
      if (isAborted(callerSignal)) throw callerSignal?.reason;
      throw new DeadlineExceededError(policy.deadlineMs, { cause: lastError });
    }
  }
}

/** Exponential backoff with full jitter (the AWS architecture blog's recommendation). */
export function backoffDelay(policy: RetryPolicy, attemptNumber: number): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** attemptNumber,
  );
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * The GCS client cannot be handed an AbortSignal, and destroying its write stream does not
 * end the HTTP request underneath (teeny-request pipes the body into a multipart stream that
 * then simply stays open). So requests are tracked through Node's own `http.client.request.
 * created` diagnostics channel (`start` fires only once headers are flushed, which a stalled
 * multipart body may never do), attributed to the attempt whose async context created them,
 * and destroyed on abort: the socket closes, the server sees an incomplete body and stores
 * nothing, and no request lingers after the attempt.
 */
interface AttemptRequests {
  readonly requests: Set<ClientRequest>;
  readonly signal: AbortSignal;
}
const requestsOfAttempt = new AsyncLocalStorage<AttemptRequests>();
let subscribed = false;

function trackClientRequests(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('http.client.request.created', (message) => {
    const attempt = requestsOfAttempt.getStore();
    if (attempt === undefined) return;
    const { request } = message as { request: ClientRequest };
    // A client library may still start a request (its own retry) after the attempt ended.
    if (attempt.signal.aborted) {
      cancel(request, abortError(attempt.signal));
      return;
    }
    attempt.requests.add(request);
    request.once('close', () => attempt.requests.delete(request));
  });
}

/** Runs `work`, rejecting as soon as `signal` fires and destroying the requests it started. */
export async function runCancellable<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
  trackClientRequests();
  signal.throwIfAborted();
  const requests = new Set<ClientRequest>();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      const reason = abortError(signal);
      for (const request of requests) cancel(request, reason);
      reject(reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    return await Promise.race([requestsOfAttempt.run({ requests, signal }, work), aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    // Whatever the attempt left open is of no use now: a request the client library still
    // holds (say, a multipart upload whose body stream will never end) would otherwise keep
    // its socket until the server dropped it.
    for (const request of requests) request.destroy();
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

/** Read through a call, so TypeScript does not narrow `aborted` across awaits. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * Resets the connection (RST) rather than closing it (FIN): a close would still deliver the
 * bytes already in the socket buffers, and a server or proxy could then receive the complete
 * body and store the object after we answered 503. A reset discards them.
 */
function cancel(request: ClientRequest, reason: Error): void {
  const socket = request.socket;
  if (socket !== null && !socket.destroyed) socket.resetAndDestroy();
  request.destroy(reason);
}
