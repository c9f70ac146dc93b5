import http from 'node:http';
import { connect } from 'node:net';

/** What a client saw of one upload over a real socket. */
export interface UploadOutcome {
  /** The response, when it arrived complete (status, headers and the whole body). */
  readonly response?: {
    readonly status: number;
    readonly headers: http.IncomingHttpHeaders;
    readonly text: string;
    readonly body: unknown;
  };
  /** The socket error (EPIPE, ECONNRESET) that came instead of a complete response. */
  readonly error?: string;
  /** Bytes of the body handed to the socket before the client stopped sending. */
  readonly bytesSent: number;
}

export interface UploadRequest {
  readonly port: number;
  readonly path?: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** Written in pieces of this size, waiting for 'drain' as a real client must. */
  readonly chunkBytes?: number;
  /** Leave out Content-Length: Node then sends the body chunked. */
  readonly chunked?: boolean;
  /**
   * 'after-sending' (the default) reads nothing until the whole body is sent, as fetch
   * (undici), browsers and many phone HTTP stacks do: the answer then waits in the receive
   * buffer, and a reset loses it. 'while-sending' parses the answer as soon as it arrives and
   * stops sending then, as curl and Node's http client do.
   */
  readonly reads?: 'after-sending' | 'while-sending';
}

/**
 * Uploads `body` in chunks over its own connection, as a phone does: it keeps sending while
 * the server may already have answered. Resolves with the complete response, or with the
 * socket error that came first; never rejects.
 */
export function sendUpload({
  port,
  path = '/v1/images',
  headers,
  body,
  chunkBytes = 64 * 1024,
  chunked = false,
  reads = 'after-sending',
}: UploadRequest): Promise<UploadOutcome> {
  return new Promise((resolve) => {
    let bytesSent = 0;
    let settled = false;
    const settle = (outcome: Omit<UploadOutcome, 'bytesSent'>): void => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, bytesSent });
      // The answer is in; the rest of the body is of no use to anyone.
      call.destroy();
    };
    const call = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: chunked ? headers : { ...headers, 'Content-Length': String(body.length) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error: NodeJS.ErrnoException) =>
          settle({ error: error.code ?? error.message }),
        );
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          settle({
            response: {
              status: response.statusCode ?? 0,
              headers: response.headers,
              text,
              body: parsed,
            },
          });
        });
      },
    );
    call.on('error', (error: NodeJS.ErrnoException) =>
      settle({ error: error.code ?? error.message }),
    );
    if (reads === 'after-sending') {
      // The socket's bytes reach the response parser only once the body has been sent.
      call.once('socket', (socket) => socket.pause());
    }
    const sent = (): void => {
      if (reads === 'after-sending') call.socket?.resume();
    };
    const writeMore = (): void => {
      while (!settled && bytesSent < body.length) {
        const chunk = body.subarray(bytesSent, bytesSent + chunkBytes);
        bytesSent += chunk.length;
        if (!call.write(chunk)) {
          call.once('drain', writeMore);
          return;
        }
      }
      if (!settled) call.end(sent);
    };
    writeMore();
  });
}

/** What a client that never stops sending saw: how much it sent, and how it ended. */
export interface FloodOutcome {
  readonly bytesSent: number;
  readonly ms: number;
  /** 'end' when the server closed cleanly, else the socket error (ECONNRESET, EPIPE). */
  readonly closedWith: string;
  /** What the server answered, raw, if anything. */
  readonly received: string;
}

export interface FloodRequest {
  readonly port: number;
  /** Header lines, each ending in CRLF, besides Host and Content-Length. */
  readonly headers: string;
  readonly declaredBytes: number;
  /** Give up (and report 'still open') after this long. */
  readonly maxMs: number;
  /** Bytes a write; with `everyMs`, a slow trickle instead of a flood. */
  readonly chunkBytes?: number;
  readonly everyMs?: number;
}

/**
 * Declares a body of `declaredBytes` and keeps sending zeros, as fast as the socket takes them
 * or a chunk every `everyMs`, ignoring any answer: the client a lingering close must cut
 * rather than hold.
 */
export function floodUpload({
  port,
  headers,
  declaredBytes,
  maxMs,
  chunkBytes = 64 * 1024,
  everyMs,
}: FloodRequest): Promise<FloodOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const zeros = Buffer.alloc(chunkBytes);
    let bytesSent = 0;
    let received = '';
    let done = false;
    // Half-open allowed: the server's FIN after its answer must not stop this client sending.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const finish = (closedWith: string): void => {
      if (done) return;
      done = true;
      clearTimeout(giveUp);
      clearInterval(trickle);
      socket.destroy();
      resolve({ bytesSent, ms: performance.now() - started, closedWith, received });
    };
    const giveUp = setTimeout(() => finish('still open'), maxMs);
    let trickle: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on('close', () => finish('end'));
    socket.once('connect', () => {
      socket.write(
        `POST /v1/images HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}` +
          `Content-Length: ${declaredBytes}\r\n\r\n`,
      );
      if (everyMs !== undefined) {
        trickle = setInterval(() => {
          bytesSent += zeros.length;
          socket.write(zeros);
        }, everyMs);
        return;
      }
      const writeMore = (): void => {
        while (!done && bytesSent < declaredBytes) {
          bytesSent += zeros.length;
          if (!socket.write(zeros)) {
            socket.once('drain', writeMore);
            return;
          }
        }
      };
      writeMore();
    });
  });
}
