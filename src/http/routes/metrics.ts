import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Metrics } from '../../metrics.js';

/** Prometheus text exposition of this app's registry. */
export function metricsRouter(metrics: Metrics): Router {
  const router = createRouter();
  router.get('/metrics', async (ctx) => {
    ctx.set('Content-Type', metrics.registry.contentType);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
