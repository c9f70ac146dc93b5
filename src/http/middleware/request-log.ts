import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { clientClosedStatus, logLevelOf } from '../log-levels.js';

/** Ids we accept from a caller or proxy: short, and nothing that could forge a log line. */
const saneRequestId = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The route pattern the router matched (low cardinality), never the raw path. */
export function routeOf(ctx: { _matchedRoute?: unknown }): string {
  return typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
}

/** The catalogue code of an error response, if the body is one. */
export function errorCodeOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const { error } = body;
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

function storedBytesOf(status: number, body: unknown): number | undefined {
  if (status !== 201 || typeof body !== 'object' || body === null || !('bytes' in body)) {
    return undefined;
  }
  return typeof body.bytes === 'number' ? body.bytes : undefined;
}

/**
 * Counts the body bytes that reach the request (Node's HTTP parser pushes each chunk into it,
 * whoever reads them, and whether or not anyone does), so that a body cut off by the request
 * timeout or a client that left is logged with what arrived rather than what it declared.
 */
function countBodyBytes(request: IncomingMessage): () => number {
  let received = 0;
  const push = request.push.bind(request);
  request.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (chunk !== null && chunk !== undefined) received += (chunk as Buffer | string).length;
    return push(chunk, encoding);
  };
  return () => received;
}

/**
 * Outermost: gives each request an id (the caller's X-Request-Id when it is sane, else a new
 * UUID), echoes it, and writes one JSON line when the response is done or the client is gone:
 * method, route, status, bytes in and out, duration, error code. Only these fields are
 * logged: never headers (Authorization), query strings, or any of the image data.
 */
export function logRequests(logger: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    const requestId = saneRequestId.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    const bodyBytes = countBodyBytes(ctx.req);

    let logged = false;
    const writeLine = (): void => {
      if (logged) return;
      logged = true;
      const aborted = !ctx.res.writableFinished;
      const status = aborted ? clientClosedStatus : ctx.status;
      // Whatever the handler meant to answer, the client never saw it.
      const code = aborted ? 'client_closed_request' : errorCodeOf(ctx.body);
      const line = {
        reqId: requestId,
        method: ctx.method,
        route: routeOf(ctx as { _matchedRoute?: unknown }),
        status,
        // The body bytes that arrived (a cut body's fewer than it declared).
        ...(ctx.request.length === undefined && bodyBytes() === 0 ? {} : { bytesIn: bodyBytes() }),
        bytesOut: ctx.response.length ?? 0,
        ...(storedBytesOf(ctx.status, ctx.body) === undefined
          ? {}
          : { imageBytes: storedBytesOf(ctx.status, ctx.body) }),
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(code === undefined ? {} : { code }),
        ...(aborted ? { aborted: true } : {}),
      };
      logger[logLevelOf(status, code)](line, 'request');
    };
    ctx.res.once('finish', writeLine);
    ctx.res.once('close', writeLine);
    await next();
  };
}
