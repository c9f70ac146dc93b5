import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Lifecycle } from './lifecycle.js';
import type { ObjectStore } from './storage/object-store.js';

export interface ShutdownOptions {
  readonly server: Server;
  readonly lifecycle: Lifecycle;
  readonly store: ObjectStore;
  readonly logger: Logger;
  /** How long readiness says 503 before the listener closes (lets load balancers notice). */
  readonly delayMs: number;
  /** How long in-flight requests get to finish once the listener is closed. */
  readonly graceMs: number;
}

/**
 * The SIGTERM sequence, in the order a rolling deploy needs it:
 * 1. readiness answers 503 (and responses ask clients to close keep-alive connections);
 * 2. after `delayMs`, the listener closes: new connections are refused;
 * 3. in-flight requests get `graceMs` to finish; idle connections are closed as they go;
 * 4. whatever is still open then is cut (its uploads store nothing: the write is aborted);
 * 5. background store clean-ups get what is left of the grace period; the process exits 0.
 * Returns the exit code, so the caller decides when to exit.
 */
export async function shutDownGracefully(options: ShutdownOptions): Promise<number> {
  const { server, lifecycle, store, logger } = options;
  const startedAt = Date.now();
  lifecycle.startDraining();
  logger.info(
    { inFlight: lifecycle.requestsInFlight, delayMs: options.delayMs, graceMs: options.graceMs },
    'shutdown: readiness now 503',
  );
  if (options.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.delayMs));

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Connections that become idle after their last response are closed by the
  // Connection: close header the lifecycle middleware sets while draining.
  const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
  const drained = await lifecycle.whenIdle(options.graceMs);
  clearInterval(idleSweep);
  if (!drained) {
    logger.warn(
      { inFlight: lifecycle.requestsInFlight },
      'shutdown: grace period over, closing the remaining connections',
    );
    server.closeAllConnections();
  }
  await closed;
  const left = Math.max(0, options.graceMs - (Date.now() - startedAt));
  await store.settle?.(left);
  logger.info({ ms: Date.now() - startedAt, drained }, 'shutdown: done');
  return 0;
}
