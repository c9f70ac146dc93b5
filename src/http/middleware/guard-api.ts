import type { Context, Middleware } from 'koa';
import type { SecurityConfig } from '../../config.js';
import { authenticate, type CallerState } from './auth.js';
import { rateLimit, type RateLimitStore } from './rate-limit.js';
import { uploadSlots } from './upload-slots.js';

/**
 * The local driver's direct upload URLs (src/http/routes/local-upload-targets.ts) carry their
 * own credential, a signature, as a GCS signed URL does: a browser PUTs to them without the
 * caller's Authorization, exactly as it would to the bucket. Not rate limited per caller
 * either (there is no caller to count); the concurrency cap applies.
 */
function isSignedUploadRequest(ctx: Context): boolean {
  return (
    ctx.method === 'PUT' &&
    /^\/v1\/uploads\/direct\/[0-9a-f-]{36}$/.test(ctx.path) &&
    typeof ctx.query.signature === 'string'
  );
}

/**
 * A rendition (GET /v1/images/{id}/render) is authorised by its signature, and fetched by
 * <img> elements and CDNs, which send no credentials: as public as a stored file.
 */
function isRenditionRequest(ctx: Context): boolean {
  return (
    (ctx.method === 'GET' || ctx.method === 'HEAD') &&
    /^\/v1\/images\/[^/]+\/render$/.test(ctx.path)
  );
}

/**
 * What stands between a caller and the API (/v1/...), in order: who is calling (401), how
 * often they call (429), and how many uploads the server already carries (503). Health checks
 * and stored files stay outside, as they are public by nature.
 */
export function guardApi(
  security: SecurityConfig,
  rateLimitStore: RateLimitStore,
  onRateLimitStoreError?: (error: unknown) => void,
  observeSlots?: (inFlight: number) => void,
): Middleware<CallerState> {
  const steps: Middleware<CallerState>[] = [
    authenticate(security.auth),
    rateLimit({
      requestsPerMinute: security.rateLimitPerMinute,
      store: rateLimitStore,
      onStoreError: onRateLimitStoreError,
    }),
  ];
  const slots = uploadSlots(security.maxConcurrentUploads, observeSlots);

  return async (ctx, next) => {
    // Preflights carry no credentials by design; CORS alone decides what they are told.
    // The routers match paths exactly (src/http/router.ts), so a path that does not start
    // with `/v1/` as written is never routed to the API.
    if (!ctx.path.startsWith('/v1/') || ctx.method === 'OPTIONS' || isRenditionRequest(ctx)) {
      await next();
      return;
    }
    // A signed upload PUT is authorised by its signature, but carries an image's bytes: it
    // takes an upload slot like any POST. A tus PATCH carries an upload's bytes too.
    const carriesUpload = ctx.method === 'POST' || ctx.method === 'PATCH';
    const chain = isSignedUploadRequest(ctx) ? [slots] : carriesUpload ? [...steps, slots] : steps;
    const run = async (index: number): Promise<void> => {
      const step = chain[index];
      if (step === undefined) {
        await next();
        return;
      }
      await step(ctx, () => run(index + 1));
    };
    await run(0);
  };
}
