import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Lifecycle } from '../../lifecycle.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { ReadyBody } from '../openapi/schemas.js';

export interface ReadyRouteDeps {
  readonly store: ObjectStore;
  readonly lifecycle: Lifecycle;
  /** How long the store may take to answer the probe. */
  readonly timeoutMs: number;
}

/**
 * Readiness: whether a load balancer should send uploads here. Config is loaded (or the app
 * would not exist); the store must answer (GCS: the bucket exists; local: the folder is
 * writable) within a short timeout; and a draining process says no at once, so traffic
 * moves away before the listener closes. Liveness (/healthz) never looks at the store.
 */
export function readyRouter({ store, lifecycle, timeoutMs }: ReadyRouteDeps): Router {
  const router = createRouter();
  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (lifecycle.draining) {
      ctx.status = 503;
      ctx.body = { status: 'draining' } satisfies ReadyBody;
      return;
    }
    if (!(await store.checkReady(timeoutMs))) {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = { status: 'store_unreachable' } satisfies ReadyBody;
      return;
    }
    ctx.body = { status: 'ready' } satisfies ReadyBody;
  });
  return router;
}
