import type { Socket } from 'node:net';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { AppError, isAppError, type ErrorCode } from '../../errors.js';
import { closeLingering, type LingerBounds } from '../lingering-close.js';
import { logLevelOf } from '../log-levels.js';
import type { ErrorBody } from '../openapi/schemas.js';

/** Statuses that Koa, the router or Node may raise themselves, in our catalogue's terms. */
const codeForFrameworkStatus: Record<number, ErrorCode> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  501: 'not_implemented',
};

/**
 * Statuses the router sets without a body (no route matched the path, or none the method),
 * together with headers the client needs, such as Allow on a 405.
 */
const unansweredStatuses = new Set([404, 405, 501]);

function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const status =
    typeof error === 'object' &&
    error !== null &&
    'status' in error &&
    typeof error.status === 'number'
      ? error.status
      : 500;
  const code = codeForFrameworkStatus[status];
  return new AppError(code ?? 'internal_error', { cause: error });
}

/**
 * Whether the connection is gone, so no answer can be sent. Not `req.destroyed`: the route
 * destroys the request itself when it stops reading a body it refuses, and the client is
 * still there, waiting for the answer.
 */
function clientWentAway(ctx: Context): boolean {
  // A pipelined response has no socket until the one before it is sent, and Node sets
  // req.socket to null once the request is destroyed, whatever its type says.
  const socket: Socket | null = ctx.res.socket ?? ctx.req.socket;
  return ctx.res.destroyed || socket?.destroyed === true;
}

/**
 * First in the chain: renders every failure as {"error": {"code", "message"}} with the real
 * status. Messages come from the catalogue (or an AppError built from it), never from an
 * unknown error, whose detail goes to the log only; only faults are logged here, at error
 * level (the request log has a line for every answer). An answer sent before the body was read
 * to its end closes the connection lingering (see closeLingering), so that it arrives whole.
 */
export function renderErrors(logger: Logger, linger: LingerBounds): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined && unansweredStatuses.has(ctx.status)) {
        throw new AppError(codeForFrameworkStatus[ctx.status] ?? 'not_found');
      }
    } catch (error) {
      if (clientWentAway(ctx)) {
        // What failed (an aborted store write, a cut body) failed because the client left.
        logger.info(
          { code: 'client_closed_request', path: ctx.path },
          'client went away before the response was sent',
        );
        return;
      }
      const appError = toAppError(error);
      if (logLevelOf(appError.status, appError.code) === 'error') {
        logger.error({ err: error, code: appError.code, path: ctx.path }, 'request failed');
      }
      ctx.status = appError.status;
      ctx.set(appError.headers);
      ctx.body = {
        error: { code: appError.code, message: appError.message },
      } satisfies ErrorBody;
      if (!ctx.req.complete) closeLingering(ctx.res, linger);
    }
  };
}
