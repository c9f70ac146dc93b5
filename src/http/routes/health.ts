import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { HealthBody } from '../openapi/schemas.js';

/** Liveness: answers as long as the process can serve HTTP, whatever the store is doing. */
export function healthRouter(): Router {
  const router = createRouter();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' } satisfies HealthBody;
  });
  return router;
}
