import type { Middleware } from 'koa';
import type { Metrics } from '../../metrics.js';
import { routeOf } from './request-log.js';

/** Counts and times every request by route pattern and status; tracks uploads in flight. */
export function measureRequests(metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    const isUpload = ctx.method === 'POST' && ctx.path === '/v1/images';
    if (isUpload) metrics.uploadsInFlight.inc();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      if (isUpload) metrics.uploadsInFlight.dec();
      const labels = {
        method: ctx.method,
        route: routeOf(ctx as { _matchedRoute?: unknown }),
        status: String(ctx.res.writableFinished ? ctx.status : 499),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
      if (isUpload && ctx.status === 201) {
        const body = ctx.body as { bytes?: unknown } | undefined;
        if (typeof body?.bytes === 'number') metrics.bytesIngested.inc(body.bytes);
      }
    };
    ctx.res.once('finish', record);
    ctx.res.once('close', record);
    await next();
  };
}
