import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Lifecycle } from '../../lifecycle.js';
import type { RateLimitStore } from '../middleware/rate-limit.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { ReadyBody } from '../openapi/schemas.js';

export interface ReadyRouteDeps {
  readonly store: ObjectStore;
  readonly lifecycle: Lifecycle;
  /** How long the store may take to answer the probe. */
  readonly timeoutMs: number;
  /** Shared rate-limit counts (Redis), reported in the body when they live outside the process. */
  readonly rateLimitStore?: RateLimitStore | undefined;
}

/**
 * Readiness: whether a load balancer should send uploads here. Config is loaded (or the app
 * would not exist); the store must answer (GCS: the bucket exists; local: the folder is
 * writable) within a short timeout; and a draining process says no at once, so traffic
 * moves away before the listener closes. Liveness (/healthz) never looks at the store.
 *
 * A shared rate-limit store (Redis) is reported as `rateLimitStore` but never makes the
 * instance unready: without it each instance counts alone and serves on, and a Redis outage
 * that turned every instance unready would be the outage of the service it must not become.
 */
export function readyRouter({
  store,
  lifecycle,
  timeoutMs,
  rateLimitStore,
}: ReadyRouteDeps): Router {
  const router = createRouter();
  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (lifecycle.draining) {
      ctx.status = 503;
      ctx.body = { status: 'draining' } satisfies ReadyBody;
      return;
    }
    const [storeReady, countsShared] = await Promise.all([
      store.checkReady(timeoutMs),
      rateLimitStore?.checkReady?.(),
    ]);
    const counts: Pick<ReadyBody, 'rateLimitStore'> =
      countsShared === undefined
        ? {}
        : { rateLimitStore: countsShared ? 'reachable' : 'unreachable' };
    if (!storeReady) {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = { status: 'store_unreachable', ...counts } satisfies ReadyBody;
      return;
    }
    ctx.body = { status: 'ready', ...counts } satisfies ReadyBody;
  });
  return router;
}
