import { createClient } from '@redis/client';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { RedisRateLimitStore } from './rate-limit-redis.js';

/** The shared store when REDIS_URL is set; undefined (counts in memory) otherwise. */
export async function connectRateLimitStore(
  config: Config,
  logger: Logger,
): Promise<RedisRateLimitStore | undefined> {
  const url = config.security.redisUrl;
  if (url === undefined) return undefined;
  // Fail fast while disconnected (the middleware then lets requests through) instead of
  // queueing commands and holding every request until Redis is back.
  const client = createClient({ url, socket: { connectTimeout: 5000 }, disableOfflineQueue: true });
  // Without a listener an 'error' event would crash the process; the client reconnects itself.
  client.on('error', (error: unknown) => logger.warn({ err: error }, 'redis connection error'));
  await client.connect();
  return new RedisRateLimitStore(client);
}
