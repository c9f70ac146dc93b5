import { createClient } from '@redis/client';

import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { RedisRateLimitStore, type RedisEvalClient } from './rate-limit-redis.js';

/**
 * The shared store when REDIS_URL is set; undefined (counts in memory) otherwise. Returns at
 * once: the client connects (and reconnects) in the background, and until Redis answers the
 * store counts in memory, so a slow or absent Redis never delays start-up.
 */
export function connectRateLimitStore(
  config: Config,
  logger: Logger,
): RedisRateLimitStore | undefined {
  const { redisUrl: url, redisConnectTimeoutMs, redisCommandTimeoutMs } = config.security;
  if (url === undefined) return undefined;
  // Called again by the store to replace a client whose commands hang (a stopped Redis).
  const connect = (): RedisEvalClient => {
    const client = createClient({
      url,
      socket: {
        connectTimeout: redisConnectTimeoutMs,
        // node-redis gives up for good after a connect timeout by default; keep trying, as
        // Redis may start after the service (compose, a restarted Memorystore).
        reconnectStrategy: (retries) =>
          Math.min(2 ** retries * 50, 2000) + Math.floor(Math.random() * 200),
      },
      // Fail at once while disconnected instead of queueing commands until Redis is back; the
      // store bounds the wait for an answer (REDIS_COMMAND_TIMEOUT_MS).
      disableOfflineQueue: true,
    });
    // Without a listener an 'error' event would crash the process; the client reconnects
    // itself. While Redis is down this fires at every attempt: a warning for the first, then
    // debug.
    client.on('error', (error: unknown) => {
      logger[reported ? 'debug' : 'warn']({ err: error }, 'redis connection error');
      reported = true;
    });
    client.on('ready', () => {
      reported = false;
    });
    client.connect().catch((error: unknown) => {
      // Only when the client is closed while connecting (shutdown, a replaced client, tests).
      logger.debug({ err: error }, 'redis connection abandoned');
    });
    return client;
  };
  let reported = false;
  return new RedisRateLimitStore(connect, {
    commandTimeoutMs: redisCommandTimeoutMs,
    onUnavailable: (error) =>
      logger.warn(
        { err: error },
        'rate-limit store unavailable; this instance counts alone until Redis answers',
      ),
    onRecovered: () => logger.info('rate-limit store answers again; counts are shared'),
  });
}
