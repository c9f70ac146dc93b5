import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How much of an unread request body is still taken in after an early answer, and for how long. */
export interface LingerBounds {
  /** Bytes read and thrown away after the answer; past them the connection is cut. */
  readonly maxBytes: number;
  /** Time allowed for the client to stop sending once the answer is out; then it is cut. */
  readonly maxMs: number;
}

/**
 * Closes the connection of an answer sent before its request body was read to the end (401,
 * 413, 415, 429, 503, a store that failed mid-upload) the way nginx's lingering_close does.
 *
 * Why: after the last response Node calls socket.destroySoon(), which sends FIN and then
 * close(2)s the socket while the client is still sending its body. A socket closed with unread
 * bytes in its receive queue, or that receives more bytes after close, is answered by the
 * kernel with RST (one per refused upload, measured as Tcp OutRsts). The client's next write
 * then fails with EPIPE or ECONNRESET, and a client that handles that error before it has
 * parsed the answer waiting in its receive buffer (fetch does, as do clients that read only
 * once their body is sent) reports a network failure instead of "busy, retry in 1 s".
 *
 * So instead: half-close (FIN after the answer), keep reading and discarding what the client
 * still sends, and close once it has finished (its FIN: nothing is left unread, so no RST).
 * A client that sends more than `maxBytes`, or for longer than `maxMs`, is cut: it has had its
 * answer for that long, and must not hold a connection or our bandwidth for nothing.
 */
export function closeLingering(response: ServerResponse, bounds: LingerBounds): void {
  const socket = response.socket;
  if (socket === null || socket.destroyed) return;
  response.setHeader('Connection', 'close');
  // Node's own close, once the answer is written; an own property shadows net.Socket's.
  socket.destroySoon = () => linger(socket, bounds);
}

function linger(socket: Socket, { maxBytes, maxMs }: LingerBounds): void {
  if (maxMs === 0 || maxBytes === 0) {
    socket.destroy();
    return;
  }
  // The HTTP parser reads the socket natively, or through the 'data' listener it added; adding
  // ours makes Node stop the native reads, and removing its listener first means no byte read
  // from here on is parsed, neither as the rest of this body nor as a next (pipelined) request.
  socket.removeAllListeners('data');
  let drained = 0;
  const cut = (): void => {
    socket.destroy();
  };
  const deadline = setTimeout(cut, maxMs);
  socket.once('close', () => clearTimeout(deadline));
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > maxBytes) cut();
  });
  // The client has sent all it will: nothing is left unread, so this close sends no RST.
  socket.once('end', () => socket.destroy());
  socket.end();
  socket.resume();
  // When the body was pushed back on (its reader stopped), the parser stopped the handle
  // itself and only its own 'resume' listener, gone with the parser, would start it again:
  // do what that listener does (Node's onSocketResume in lib/_http_server.js).
  const handle = (socket as Socket & { _handle?: NativeHandle | null })._handle;
  if (handle !== undefined && handle !== null && handle.reading !== true) {
    handle.reading = true;
    handle.readStart();
  }
}

/** The part of net.Socket's native handle that starts reading. */
interface NativeHandle {
  reading?: boolean;
  readStart(): number;
}
