import type { RateLimitStore } from './rate-limit.js';

/** The one call the store needs; node-redis's client (`@redis/client`) has it. */
export interface RedisEvalClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** Closes the connection and stops reconnecting. */
  destroy(): void;
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

/** Request counts shared by every instance of the service through one Redis. */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly client: RedisEvalClient,
    private readonly prefix = 'image-ingest:rate:',
    private readonly now: () => number = Date.now,
  ) {}

  async hit(key: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    const reply = await this.client.eval(hitScript, {
      keys: [`${this.prefix}${key}`],
      arguments: [String(windowMs)],
    });
    if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
      throw new Error('unexpected reply from the rate-limit script');
    }
    return { count: reply[0], resetAt: this.now() + reply[1] };
  }

  close(): void {
    this.client.destroy();
  }
}
