import { connect, type Socket } from 'node:net';

/**
 * Opens a raw connection, sends the headers of an upload that declares all of `body`, and the
 * first `sentBytes` of it; resolves once those bytes are handed to the kernel, the socket still
 * open. The test decides how the client then leaves (destroy, reset) or whether it lingers.
 */
export async function startRawUpload(
  port: number,
  body: Buffer,
  sentBytes: number,
  contentType = 'application/json',
): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        `POST /v1/images HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body.subarray(0, sentBytes), () => {
        socket.off('error', reject);
        resolve();
      });
    });
  });
  // The server may reset a connection it has given up on; that is not this client's failure.
  socket.on('error', () => undefined);
  return socket;
}
