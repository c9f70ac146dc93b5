import { createServer } from 'node:http';

/**
 * The ceiling: a bare node:http server that reads every byte of the request body, drops it,
 * and answers 201, whatever the body's type (JSON, a multipart form, a raw image). No parsing,
 * no decoding, no hashing, no storage. What an upload service can take in on this machine is
 * bounded by this.
 */
const port = Number(process.env.PORT ?? 3002);
const host = process.env.HOST ?? '127.0.0.1';

const server = createServer((request, response) => {
  let received = 0;
  request.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  request.on('end', () => {
    const body = JSON.stringify({ bytes: received });
    response.writeHead(201, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(body);
  });
});

server.listen(port, host);

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
