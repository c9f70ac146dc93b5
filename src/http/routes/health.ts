import Router from '@koa/router';
import type { HealthBody } from '../openapi/schemas.js';

/** Liveness: answers as long as the process can serve HTTP, whatever the store is doing. */
export function healthRouter(): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' } satisfies HealthBody;
  });
  return router;
}
