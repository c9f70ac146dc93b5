import { MemoryRateLimitStore, type RateLimitStore } from './rate-limit.js';

/** The calls the store needs; node-redis's client (`@redis/client`) has them. */
export interface RedisEvalClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  ping(): Promise<unknown>;
  /** Closes the connection, fails the commands it still holds, and stops reconnecting. */
  destroy(): void;
}

export interface RedisRateLimitStoreOptions {
  /** How long a command may wait for its answer (REDIS_COMMAND_TIMEOUT_MS). */
  readonly commandTimeoutMs?: number;
  readonly prefix?: string;
  readonly now?: () => number;
  /** While Redis fails, how long after a failed probe the next one is sent. */
  readonly retryAfterMs?: number;
  /** After this many failed probes in a row, the client is replaced by a new connection. */
  readonly reconnectAfterFailures?: number;
  /** Callers counted in memory while Redis fails (see MemoryRateLimitStore). */
  readonly maxFallbackKeys?: number;
  /** Redis has just failed (once per outage, not once per request). */
  readonly onUnavailable?: (error: unknown) => void;
  /** Redis answers again after an outage. */
  readonly onRecovered?: () => void;
}

/** What the store has done, for tests and metrics. */
export interface RedisRateLimitStoreCounts {
  /** Counts that waited for Redis's answer (or its timeout). */
  readonly waited: number;
  /** Counts made in memory, at once, because Redis was failing. */
  readonly counted: number;
  /** PINGs sent to learn whether Redis answers again. */
  readonly probes: number;
  /** The most commands sent while Redis was failing that the store waited on at one time. */
  readonly mostWaitingWhileFailing: number;
  /** Clients replaced after repeated failures. */
  readonly reconnects: number;
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
 * (down, unreachable, or too slow to answer within the command timeout) the instance counts
 * alone, in memory, as it does without REDIS_URL: an outage of the counter never becomes an
 * outage of the service, nor switches the limit off.
 *
 * A breaker, half-open while Redis fails: every count goes to memory at once, and one PING at a
 * time (never a counting command, which a hung Redis would apply late, counting twice) asks
 * whether Redis answers, `retryAfterMs` after the last one failed. After
 * `reconnectAfterFailures` failed probes the client is destroyed and a new one made, dropping
 * the commands the old one still waited on. Once a probe is answered, counts go to Redis again
 * and the memory counts are forgotten.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly commandTimeoutMs: number;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly retryAfterMs: number;
  private readonly reconnectAfterFailures: number;
  private readonly fallback: MemoryRateLimitStore;
  private client: RedisEvalClient;
  private failing = false;
  private nextProbeAt = 0;
  private probe: Promise<boolean> | undefined;
  private failedProbes = 0;
  private waitingWhileFailing = 0;
  private tally = {
    waited: 0,
    counted: 0,
    probes: 0,
    mostWaitingWhileFailing: 0,
    reconnects: 0,
  };

  /** `connect` makes a client (connecting in the background); called again to replace one. */
  constructor(
    private readonly connect: () => RedisEvalClient,
    private readonly options: RedisRateLimitStoreOptions = {},
  ) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 250;
    this.prefix = options.prefix ?? 'image-ingest:rate:';
    this.now = options.now ?? Date.now;
    this.retryAfterMs = options.retryAfterMs ?? 1000;
    this.reconnectAfterFailures = options.reconnectAfterFailures ?? 2;
    this.fallback = new MemoryRateLimitStore({
      now: this.now,
      ...(options.maxFallbackKeys === undefined ? {} : { maxKeys: options.maxFallbackKeys }),
    });
    this.client = connect();
  }

  get counts(): RedisRateLimitStoreCounts {
    return { ...this.tally };
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    if (this.failing) {
      this.probeSoon();
      this.tally.counted += 1;
      return this.fallback.hit(key, windowMs);
    }
    this.tally.waited += 1;
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
      return { count: reply[0], resetAt: this.now() + reply[1] };
    } catch (error) {
      this.fail(error);
      this.tally.counted += 1;
      return this.fallback.hit(key, windowMs);
    }
  }

  /**
   * For readiness: whether Redis answers a PING now (within the command timeout). While Redis
   * fails this is the breaker's probe, so readiness checks add no command of their own.
   */
  async checkReady(): Promise<boolean> {
    if (this.failing) return this.probe ?? this.startProbe();
    try {
      await this.answered(this.client.ping());
      return true;
    } catch {
      // Counts find out for themselves; a client still connecting is no outage to report.
      return false;
    }
  }

  close(): void {
    this.client.destroy();
  }

  private fail(error: unknown): void {
    this.nextProbeAt = this.now() + this.retryAfterMs;
    if (this.failing) return;
    this.failing = true;
    this.failedProbes = 0;
    this.options.onUnavailable?.(error);
  }

  private probeSoon(): void {
    if (this.probe === undefined && this.now() >= this.nextProbeAt) void this.startProbe();
  }

  private startProbe(): Promise<boolean> {
    this.tally.probes += 1;
    const probe = this.answered(this.client.ping()).then(
      () => {
        this.failing = false;
        this.fallback.clear();
        this.options.onRecovered?.();
        return true;
      },
      () => {
        this.nextProbeAt = this.now() + this.retryAfterMs;
        this.failedProbes += 1;
        if (this.failedProbes >= this.reconnectAfterFailures) this.reconnect();
        return false;
      },
    );
    this.probe = probe.finally(() => {
      this.probe = undefined;
    });
    return this.probe;
  }

  /** A new connection in place of one whose commands hang: they fail now, and are never sent. */
  private reconnect(): void {
    this.failedProbes = 0;
    this.tally.reconnects += 1;
    this.client.destroy();
    this.client = this.connect();
  }

  /**
   * The command's answer, or a rejection once the command timeout has passed. node-redis's own
   * timeout covers only a command not yet written: one written to a Redis that accepts
   * connections but never answers (stopped, overloaded) would wait for ever.
   */
  private async answered<T>(command: Promise<T>): Promise<T> {
    const whileFailing = this.failing;
    if (whileFailing) {
      this.waitingWhileFailing += 1;
      this.tally.mostWaitingWhileFailing = Math.max(
        this.tally.mostWaitingWhileFailing,
        this.waitingWhileFailing,
      );
    }
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
      if (whileFailing) this.waitingWhileFailing -= 1;
    }
  }
}
