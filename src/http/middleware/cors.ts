import cors from '@koa/cors';
import type { Middleware } from 'koa';

/**
 * CORS for the browser frontend: only origins on the allowlist get a grant; any other origin
 * gets no Access-Control-Allow-Origin at all, so its scripts cannot read our responses.
 * Credentials are never granted: callers authenticate with an Authorization header, not
 * cookies, so there is no ambient credential for another site to ride on.
 */
export function corsForOrigins(allowedOrigins: readonly string[]): Middleware {
  const allowed = new Set(allowedOrigins);
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return allowed.has(origin) ? origin : '';
    },
    credentials: false,
    // PUT: the local driver's direct upload URLs, which a browser sends the bytes to.
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    // Delete-Token: an anonymous uploader deletes its image from the browser with it.
    // Content-Range: UpChunk's chunks to a resumable session.
    allowHeaders: ['Authorization', 'Content-Type', 'Content-Range', 'Delete-Token'],
    // Range: how much of a resumable session has arrived (its 308 answers).
    exposeHeaders: ['Location', 'Range', 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
    maxAge: 600,
    keepHeadersOnError: true,
  });
}
