import { createServer, type Server } from 'node:http';
import type Koa from 'koa';
import type { SecurityConfig } from '../config.js';

/** Listeners one response may carry before Node warns: well above the known set. */
const responseListeners = 32;

export type ServerTimeouts = Pick<
  SecurityConfig,
  'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'
>;

/**
 * The HTTP server with its timeouts set on purpose. A client that trickles its headers
 * (slowloris) or its body is answered 408 and cut off once headersTimeout or requestTimeout
 * runs out, so it cannot hold a connection, a socket and an upload slot for ever; idle
 * keep-alive connections are closed after keepAliveTimeout.
 */
export function createHttpServer(app: Koa, timeouts: ServerTimeouts): Server {
  const handle = app.callback();
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      // Node checks the two timeouts above on this interval; keep it well under them.
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(
          30_000,
          Math.floor(Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs) / 4),
        ),
      ),
      // Large numbers of headers are a cheap way to spend our CPU; real clients send few.
      maxHeaderSize: 16 * 1024,
    },
    (request, response) => {
      // Koa pipes a stream body with 7 'close' listeners on the response, our middleware adds
      // 3, and a route that wants to know when its client left adds one more: Node's default
      // limit of 10 then makes every such answer build an Error with its stack and print a
      // MaxListenersExceededWarning (a tenth of a stored rendition's profile; see
      // docs/performance.md). A response lives for one answer, so its listeners cannot pile
      // up: the warning guards nothing here.
      response.setMaxListeners(responseListeners);
      void handle(request, response);
    },
  );
  // Headers must arrive within the request timeout, not after it (Node requires this order).
  server.headersTimeout = Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs);
  return server;
}
