import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The connection once `response` owns it, or undefined if the connection closed first.
 *
 * Node parses every request a client pipelines on one connection and runs each handler at
 * once, but a response gets the socket only when the one before it is sent. A response still
 * waiting in that queue when the connection closes never emits 'finish' nor sees the socket
 * close, so nothing Koa ties to it (destroying a stream body) ever runs: whatever such a
 * handler opened stays open until the garbage collector finds it, and Node kills the process
 * for a FileHandle closed that way. A handler that holds something for the length of its
 * answer (a file, a store stream) waits here before taking it, so a connection holds one such
 * thing at a time, however many requests it sends ahead.
 */
export function responseSocket(response: ServerResponse): Promise<Socket | undefined> {
  const owned = (socket: Socket | null): Socket | undefined =>
    socket === null || socket.destroyed ? undefined : socket;
  if (response.socket !== null) return Promise.resolve(owned(response.socket));
  if (response.destroyed) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onSocket = (socket: Socket): void => {
      response.off('close', onClose);
      resolve(owned(socket));
    };
    // Node closes every queued response when their connection closes (their requests too).
    const onClose = (): void => {
      response.off('socket', onSocket);
      resolve(undefined);
    };
    response.once('socket', onSocket);
    response.once('close', onClose);
  });
}
