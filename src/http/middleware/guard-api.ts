import type { Middleware } from 'koa';
import type { SecurityConfig } from '../../config.js';
import { authenticate, type CallerState } from './auth.js';
import { rateLimit, type RateLimitStore } from './rate-limit.js';
import { uploadSlots } from './upload-slots.js';

/**
 * What stands between a caller and the API (/v1/...), in order: who is calling (401), how
 * often they call (429), and how many uploads the server already carries (503). Health checks
 * and stored files stay outside, as they are public by nature.
 */
export function guardApi(
  security: SecurityConfig,
  rateLimitStore: RateLimitStore,
  onRateLimitStoreError?: (error: unknown) => void,
): Middleware<CallerState> {
  const steps: Middleware<CallerState>[] = [
    authenticate(security.auth),
    rateLimit({
      requestsPerMinute: security.rateLimitPerMinute,
      store: rateLimitStore,
      onStoreError: onRateLimitStoreError,
    }),
  ];
  const slots = uploadSlots(security.maxConcurrentUploads);

  return async (ctx, next) => {
    // Preflights carry no credentials by design; CORS alone decides what they are told.
    if (!ctx.path.startsWith('/v1/') || ctx.method === 'OPTIONS') {
      await next();
      return;
    }
    // A tus PATCH carries an upload's bytes as a POST does, so it takes a slot too.
    const carriesUpload = ctx.method === 'POST' || ctx.method === 'PATCH';
    const chain = carriesUpload ? [...steps, slots] : steps;
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
