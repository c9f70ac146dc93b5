import type { Middleware } from 'koa';
import type { Lifecycle } from '../../lifecycle.js';

/**
 * Counts requests in flight, so shutdown can wait for them, and while draining asks every
 * client to close its keep-alive connection: the server then runs out of connections as the
 * last responses go out, instead of holding idle ones until the grace period ends.
 */
export function trackLifecycle(lifecycle: Lifecycle): Middleware {
  return async (ctx, next) => {
    lifecycle.requestStarted();
    // Counted until the response is fully written or the connection is gone, not merely
    // until the handler returns: a large body may still be streaming out.
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      lifecycle.requestFinished();
    };
    ctx.res.once('finish', finish);
    ctx.res.once('close', finish);
    try {
      await next();
    } finally {
      if (lifecycle.draining) ctx.set('Connection', 'close');
    }
  };
}
