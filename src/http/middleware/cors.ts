import cors from '@koa/cors';
import type { Middleware } from 'koa';

/**
 * CORS for the browser frontend: only origins on the allowlist get a grant; any other origin
 * gets no Access-Control-Allow-Origin at all, so its scripts cannot read our responses.
 * Credentials are never granted: callers authenticate with an Authorization header, not
 * cookies, so there is no ambient credential for another site to ride on.
 */
export function corsForOrigins(
  allowedOrigins: readonly string[],
  requestHeaders: readonly string[],
): Middleware {
  const allowed = new Set(allowedOrigins);
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return allowed.has(origin) ? origin : '';
    },
    credentials: false,
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    // PUT: the local driver's direct upload URLs, which a browser sends the bytes to.
    // `requestHeaders`: what the API's operations document (requestHeadersOf); beside them
    // what any route takes: Authorization and Content-Type (a bearer is accepted, and ignored,
    // when the service runs open), X-Request-Id (echoed and logged), and tus's method override
    // and X-Requested-With (tus-js-client and Uppy behind proxies that refuse PATCH).
    allowHeaders: [
      ...new Set([
        ...requestHeaders,
        'Authorization',
        'Content-Type',
        'X-Request-Id',
        'X-HTTP-Method-Override',
        'X-Requested-With',
      ]),
    ],
    exposeHeaders: [
      'Location',
      // Range: how much of a resumable session has arrived (its 308 answers).
      'Range',
      'Retry-After',
      'RateLimit',
      'RateLimit-Policy',
      'Upload-Offset',
      'Upload-Length',
      'Upload-Defer-Length',
      'Upload-Expires',
      'Upload-Concat',
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
