import { createWriteStream, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * The ceiling of the tus scenario: just enough tus for the bench's client, on bare node:http.
 * POST creates an empty file and answers its URL; PATCH writes the body into that file at the
 * given offset and answers the new offset. No checks, no locking, no validation: what taking
 * chunks in and writing them to a file costs on this machine.
 */
const port = Number(process.env.PORT ?? 3004);
const host = process.env.HOST ?? '127.0.0.1';
const directory = process.env.UPLOAD_DIR ?? '.';
let uploads = 0;

const server = createServer((request, response) => {
  const answer = (status: number, headers: Record<string, string>) => {
    response.writeHead(status, { 'Tus-Resumable': '1.0.0', ...headers });
    response.end();
  };
  if (request.method === 'POST') {
    const id = String(++uploads);
    writeFileSync(path.join(directory, id), '');
    request.resume();
    answer(201, { Location: `/uploads/${id}` });
    return;
  }
  const id = /^\/uploads\/(\d+)$/.exec(request.url ?? '')?.[1];
  if (request.method !== 'PATCH' || id === undefined) {
    request.resume();
    answer(404, {});
    return;
  }
  const offset = Number(request.headers['upload-offset']);
  let received = 0;
  request.on('data', (chunk: Buffer) => (received += chunk.length));
  pipeline(request, createWriteStream(path.join(directory, id), { flags: 'r+', start: offset }))
    .then(() => answer(204, { 'Upload-Offset': String(offset + received) }))
    .catch(() => answer(500, {}));
});

server.listen(port, host);

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
