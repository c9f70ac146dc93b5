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
    allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    // Delete-Token: an anonymous uploader deletes its image from the browser with it. The
    // others are tus's (tus-js-client, Uppy).
    allowHeaders: [
      'Authorization',
      'Content-Type',
      'Delete-Token',
      'Tus-Resumable',
      'Upload-Length',
      'Upload-Offset',
      'Upload-Metadata',
      'Upload-Defer-Length',
      'Upload-Checksum',
      'X-HTTP-Method-Override',
      'X-Requested-With',
    ],
    exposeHeaders: [
      'Location',
      'Retry-After',
      'RateLimit',
      'RateLimit-Policy',
      'Upload-Offset',
      'Upload-Length',
      'Upload-Defer-Length',
      'Upload-Expires',
      'Tus-Resumable',
      'Tus-Version',
      'Tus-Extension',
      'Tus-Max-Size',
      'Tus-Checksum-Algorithm',
      'Image-Location',
      'Image-Id',
    ],
    maxAge: 600,
    keepHeadersOnError: true,
  });
}
