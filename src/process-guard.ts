import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

/**
 * The backstop under every request: an exception nothing caught, or a rejection nothing
 * handled, is logged (error level, with its stack: it is a bug to fix) and counted in
 * process_uncaught_errors_total, for an alert, and the process serves on. Without it, Node
 * ends the process, and every upload in flight with it, for what one request did.
 *
 * Each such error is a bug: the abort harness (__tests__/http/abort-harness.test.ts) and the
 * soak show that none happens. Node's advice not to resume after an uncaught exception is for
 * state left half-changed; here every request's state is its own, and the liveness probe
 * (GET /healthz) still answers only while the event loop does. Returns the uninstaller.
 */
export function guardProcess(
  target: Pick<EventEmitter, 'on' | 'off'>,
  logger: Logger,
  metrics: Pick<Metrics, 'uncaughtErrors'>,
): () => void {
  const onException = (error: unknown, origin: unknown): void => {
    metrics.uncaughtErrors.inc({ kind: 'exception' });
    logger.error({ err: error, origin }, 'uncaught exception (a bug): the process serves on');
  };
  const onRejection = (reason: unknown): void => {
    metrics.uncaughtErrors.inc({ kind: 'rejection' });
    logger.error({ err: reason }, 'unhandled rejection (a bug): the process serves on');
  };
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
