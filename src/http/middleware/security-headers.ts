import type { Middleware } from 'koa';
import helmet from 'koa-helmet';

/**
 * Security headers on every response (helmet's defaults: nosniff, HSTS, frame denial, ...),
 * with a policy that lets nothing run: this service answers JSON and images, never pages.
 */
export function securityHeaders(): Middleware {
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], sandbox: [] },
    },
  });
  return async (ctx, next) => {
    await headers(ctx, async () => {
      // Stored images are meant to be embedded by the frontend on its own origin.
      if (ctx.path.startsWith('/uploads/')) ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
      await next();
    });
  };
}
