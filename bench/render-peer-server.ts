import { createServer } from 'node:http';
import path from 'node:path';
import sharp from 'sharp';

/**
 * The naive peer of the renderer (bench/renditions.ts): GET /render?name=<stored file>&w=<px>
 * reads the original from the same folder the service stores into and calls sharp once per
 * request: upright, resized to the width (never enlarged), WebP at the same quality. No
 * signature, no store lookup, no cache, no write: what a rendition costs at the least.
 */

// As the service does: every original is decoded once per request.
sharp.cache(false);

const directory = process.env.UPLOAD_DIR ?? 'uploads';
const port = Number(process.env.PORT ?? 3001);

createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://peer');
  const name = url.searchParams.get('name') ?? '';
  const width = Number(url.searchParams.get('w'));
  if (!/^[0-9a-f-]{36}\.jpg$/.test(name) || !Number.isInteger(width) || width < 1) {
    response.writeHead(400).end();
    return;
  }
  sharp(path.join(directory, name), { failOn: 'warning' })
    .autoOrient()
    .resize({ width, withoutEnlargement: true })
    .webp({ quality: 75 })
    .toBuffer()
    .then(
      (webp) => response.writeHead(200, { 'Content-Type': 'image/webp' }).end(webp),
      () => response.writeHead(500).end(),
    );
}).listen(port, '127.0.0.1');
