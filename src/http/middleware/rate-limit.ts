import type { Middleware } from 'koa';
import { AppError } from '../../errors.js';
import type { CallerState } from './auth.js';
import { anonymousCallerId } from '../client-address.js';

/** Where request counts live; in memory by default, shared (e.g. Redis) for several instances. */
export interface RateLimitStore {
  /** Counts one request for `key` in the current window and returns the count so far. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetAt: number }>;
  /** A store outside the process (Redis): whether it answers now, for readiness. */
  checkReady?(): Promise<boolean>;
}

export interface MemoryRateLimitStoreOptions {
  readonly now?: () => number;
  /**
   * How many callers get a counter of their own; beyond it, callers not yet counted share one
   * (so a flood of distinct addresses is limited together, and memory stays bounded).
   */
  readonly maxKeys?: number;
}

/** The counter that callers beyond `maxKeys` share. */
export const overflowKey = 'overflow:';

/**
 * Fixed windows per key, forgotten once they end. At most `maxKeys` callers are held (about
 * 130 bytes each); ended windows are swept a few at each count, so no count walks the whole map.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly now: () => number;
  private readonly maxKeys: number;
  private sweeper: Iterator<[string, { resetAt: number }]> | undefined;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Callers with a counter now (the shared overflow counter included). */
  get size(): number {
    return this.windows.size;
  }

  hit(caller: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    const now = this.now();
    this.sweep(now, 4);
    let key = caller;
    if (!this.windows.has(key) && this.windows.size >= this.maxKeys) {
      this.sweep(now, 64);
      if (this.windows.size >= this.maxKeys) key = overflowKey;
    }
    let window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return Promise.resolve({ ...window });
  }

  /** Forgets every count (the shared store answers again and counts from there). */
  clear(): void {
    this.windows.clear();
    this.sweeper = undefined;
  }

  /** Drops up to `steps` ended windows, resuming where the last sweep stopped. */
  private sweep(now: number, steps: number): void {
    for (let step = 0; step < steps; step += 1) {
      this.sweeper ??= this.windows.entries();
      const next = this.sweeper.next();
      if (next.done === true) {
        this.sweeper = undefined;
        return;
      }
      const [key, window] = next.value;
      if (window.resetAt <= now) this.windows.delete(key);
    }
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
    const key = ctx.state.caller?.id ?? anonymousCallerId(ctx);
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
