import type { Middleware } from 'koa';
import { AppError } from '../../errors.js';
import type { CallerState } from './auth.js';
import { addressKey } from './client-address.js';

/** Where request counts live; in memory by default, shared (e.g. Redis) for several instances. */
export interface RateLimitStore {
  /** Counts one request for `key` in the current window and returns the count so far. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetAt: number }>;
  /** A store outside the process (Redis): whether it answers now, for readiness. */
  checkReady?(): Promise<boolean>;
}

/** Fixed windows per key, forgotten once they end; the map holds only callers seen this minute. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  hit(key: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    const now = this.now();
    if (now >= this.nextSweep) {
      for (const [seen, window] of this.windows)
        if (window.resetAt <= now) this.windows.delete(seen);
      this.nextSweep = now + windowMs;
    }
    let window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return Promise.resolve({ ...window });
  }
}

export interface RateLimitOptions {
  readonly requestsPerMinute: number;
  readonly store: RateLimitStore;
  /**
   * Called when the store fails (a shared store that is down); the request then goes through:
   * an outage of the counter should not become an outage of the service.
   */
  readonly onStoreError?: (error: unknown) => void;
  readonly now?: () => number;
}

/**
 * Limits each caller (API key, token subject, or client address) to so many requests a
 * minute: beyond it, 429 rate_limited with Retry-After. Runs after authentication, so the
 * caller is known; client addresses come from ctx.ip, which honours X-Forwarded-For only
 * for the configured number of trusted proxies.
 */
export function rateLimit({
  requestsPerMinute,
  store,
  onStoreError,
  now = Date.now,
}: RateLimitOptions): Middleware<CallerState> {
  const windowMs = 60_000;
  return async (ctx, next) => {
    if (requestsPerMinute === 0) {
      await next();
      return;
    }
    const key = ctx.state.caller?.id ?? `ip:${addressKey(ctx.ip)}`;
    let counted: { count: number; resetAt: number };
    try {
      counted = await store.hit(key, windowMs);
    } catch (error) {
      if (onStoreError === undefined) throw error;
      onStoreError(error);
      await next();
      return;
    }
    const { count, resetAt } = counted;
    ctx.set('RateLimit-Policy', `${requestsPerMinute};w=60`);
    ctx.set(
      'RateLimit',
      `limit=${requestsPerMinute}, remaining=${Math.max(0, requestsPerMinute - count)}, reset=${Math.max(0, Math.ceil((resetAt - now()) / 1000))}`,
    );
    if (count > requestsPerMinute) {
      const retryAfter = Math.max(1, Math.ceil((resetAt - now()) / 1000));
      throw new AppError('rate_limited', { headers: { 'Retry-After': String(retryAfter) } });
    }
    await next();
    return;
  };
}
