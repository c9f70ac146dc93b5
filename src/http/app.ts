import Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ObjectStore } from '../storage/object-store.js';
import { LocalStore } from '../storage/local-store.js';
import { renderErrors } from './middleware/errors.js';
import { corsForOrigins } from './middleware/cors.js';
import { guardApi } from './middleware/guard-api.js';
import { MemoryRateLimitStore, type RateLimitStore } from './middleware/rate-limit.js';
import { securityHeaders } from './middleware/security-headers.js';
import { healthRouter } from './routes/health.js';
import { imagesRouter } from './routes/images.js';
import { uploadsRouter } from './routes/uploads.js';

export interface AppDeps {
  readonly store: ObjectStore;
  readonly logger: Logger;
  /** Shared request counts when several instances run; in memory by default. */
  readonly rateLimitStore?: RateLimitStore | undefined;
}

/** Builds the Koa app from a validated config and its dependencies; opens nothing itself. */
export function createApp(config: Config, { store, logger, rateLimitStore }: AppDeps): Koa {
  const app = new Koa();
  // ctx.ip believes X-Forwarded-For only as far back as the proxies we run ourselves.
  app.proxy = config.security.trustedProxyCount > 0;
  app.maxIpsCount = config.security.trustedProxyCount;
  // Errors are logged by renderErrors; Koa's default handler would print them again.
  app.silent = true;

  app.use(renderErrors(logger));
  app.use(securityHeaders());
  app.use(corsForOrigins(config.security.corsOrigins));
  app.use(
    guardApi(config.security, rateLimitStore ?? new MemoryRateLimitStore(), (error) =>
      logger.warn({ err: error }, 'rate-limit store unavailable; request let through'),
    ),
  );

  const routers = [healthRouter(), imagesRouter({ config, store })];
  if (store instanceof LocalStore) routers.push(uploadsRouter(store));
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
