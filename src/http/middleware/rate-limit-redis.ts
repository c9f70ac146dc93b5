import { MemoryRateLimitStore, type RateLimitStore } from './rate-limit.js';

/** The calls the store needs; node-redis's client (`@redis/client`) has them. */
export interface RedisEvalClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  ping(): Promise<unknown>;
  /** Closes the connection and stops reconnecting. */
  destroy(): void;
}

export interface RedisRateLimitStoreOptions {
  /** How long a command may wait for its answer (REDIS_COMMAND_TIMEOUT_MS). */
  readonly commandTimeoutMs?: number;
  readonly prefix?: string;
  readonly now?: () => number;
  /** After Redis fails, how long counts stay in this instance before Redis is asked again. */
  readonly retryAfterMs?: number;
  /** Redis has just failed (once per outage, not once per request). */
  readonly onUnavailable?: (error: unknown) => void;
  /** Redis answers again after an outage. */
  readonly onRecovered?: () => void;
}

/**
 * Counts and starts the window in one atomic step, so instances sharing the Redis never lose
 * a count to a race; the key expires with its window, so Redis holds only current callers.
 */
const hitScript = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/**
 * Request counts shared by every instance of the service through one Redis. When Redis fails
 * (down, unreachable, or too slow to answer within the client's command timeout) the instance
 * counts alone, in memory, as it does without REDIS_URL: an outage of the counter never becomes
 * an outage of the service, nor switches the limit off. Redis is asked again only every
 * `retryAfterMs`, so a hung Redis costs one command timeout now and then, not one per request.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly commandTimeoutMs: number;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly retryAfterMs: number;
  private readonly fallback: MemoryRateLimitStore;
  private unavailableUntil = 0;
  private failing = false;

  constructor(
    private readonly client: RedisEvalClient,
    private readonly options: RedisRateLimitStoreOptions = {},
  ) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 250;
    this.prefix = options.prefix ?? 'image-ingest:rate:';
    this.now = options.now ?? Date.now;
    this.retryAfterMs = options.retryAfterMs ?? 1000;
    this.fallback = new MemoryRateLimitStore(this.now);
  }

  /** Whether the last count reached Redis (false from its first failure until it answers again). */
  get available(): boolean {
    return !this.failing;
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    if (this.now() < this.unavailableUntil) return this.fallback.hit(key, windowMs);
    let counted: { count: number; resetAt: number };
    try {
      const reply = await this.answered(
        this.client.eval(hitScript, {
          keys: [`${this.prefix}${key}`],
          arguments: [String(windowMs)],
        }),
      );
      if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
        throw new Error('unexpected reply from the rate-limit script');
      }
      counted = { count: reply[0], resetAt: this.now() + reply[1] };
    } catch (error) {
      this.unavailableUntil = this.now() + this.retryAfterMs;
      if (!this.failing) {
        this.failing = true;
        this.options.onUnavailable?.(error);
      }
      return this.fallback.hit(key, windowMs);
    }
    if (this.failing) {
      this.failing = false;
      this.options.onRecovered?.();
    }
    return counted;
  }

  /** For readiness: whether Redis answers a PING now (within the client's command timeout). */
  async checkReady(): Promise<boolean> {
    try {
      await this.answered(this.client.ping());
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The command's answer, or a rejection once the command timeout has passed. node-redis's own
   * timeout covers only a command not yet written: one written to a Redis that accepts
   * connections but never answers (stopped, overloaded) would wait for ever. A late answer is
   * still read off the connection by the client, so later answers stay in step.
   */
  private async answered<T>(command: Promise<T>): Promise<T> {
    // Whichever loses the race must not become an unhandled rejection.
    command.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${this.commandTimeoutMs} ms`)),
        this.commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([command, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
