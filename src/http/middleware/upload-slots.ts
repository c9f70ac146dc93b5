import type { Middleware } from 'koa';
import { AppError } from '../../errors.js';

/**
 * Caps the uploads in flight. Each holds up to MAX_IMAGE_BYTES (more while it is decoded), so
 * beyond the cap a new upload is refused at once with 503 server_busy and Retry-After, rather
 * than queued until memory runs out.
 */
export function uploadSlots(
  maxConcurrent: number,
  /** Told the count on every change (the upload_slots_in_use gauge). */
  observe: (inFlight: number) => void = () => undefined,
): Middleware & { inFlight(): number } {
  let inFlight = 0;
  const middleware: Middleware = async (_ctx, next) => {
    if (inFlight >= maxConcurrent) {
      throw new AppError('server_busy', { headers: { 'Retry-After': '1' } });
    }
    inFlight += 1;
    observe(inFlight);
    try {
      await next();
    } finally {
      inFlight -= 1;
      observe(inFlight);
    }
  };
  return Object.assign(middleware, { inFlight: () => inFlight });
}
