import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import Koa from 'koa';

/**
 * The peer of the HEIC scenario (h), written the way such a server usually is: Koa, the body
 * written to a file, Debian's heif-convert spawned per upload to make a JPEG that browsers
 * show, and both files kept in UPLOAD_DIR. No type sniffing, no pixel limit, no metadata
 * stripping (the JPEG keeps what heif-convert copies), no variants.
 */
const run = promisify(execFile);
const port = Number(process.env.PORT ?? 3004);
const host = process.env.HOST ?? '127.0.0.1';
const directory = process.env.UPLOAD_DIR ?? './heic-uploads';
const incoming = path.join(directory, '.incoming');
await mkdir(incoming, { recursive: true });

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/upload') ctx.throw(404);
  const id = randomUUID();
  const received = path.join(incoming, `${id}.heic`);
  await pipeline(ctx.req, createWriteStream(received));
  const jpeg = path.join(incoming, `${id}.jpg`);
  try {
    await run('heif-convert', ['--quiet', '-q', '85', received, jpeg]);
  } catch {
    ctx.throw(422, 'not a HEIC heif-convert can read');
  }
  await rename(received, path.join(directory, `${id}.heic`));
  await rename(jpeg, path.join(directory, `${id}.jpg`));
  ctx.status = 201;
  ctx.body = { id, url: `/files/${id}.heic`, display: `/files/${id}.jpg` };
});

const server = app.listen(port, host);
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
