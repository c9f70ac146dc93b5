import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import Router from '@koa/router';
import type { ImageMimeType } from '../src/images/image-types.ts';

/**
 * The buffered baseline: POST /v1/images written the usual way, to compare image-ingest with.
 *
 *   koa-bodyparser buffers the whole body   (copy 1: the raw bytes, then a string of them)
 *   JSON.parse builds the object            (copy 2: the data URI as a JS string)
 *   Buffer.from(payload, 'base64')          (copy 3: the decoded image)
 *   then the SAME checks and the SAME store as the service.
 *
 * Everything except the body handling is taken from the service itself (dist/, built by
 * `npm run build`, which `npm run bench` runs first): the same configuration from the same
 * environment variables, the same file-type sniff against the same allowlist, the same size
 * limit, the same sha256, the same store class with the same put(). So the ratios in the
 * bench measure the design of the body pipeline, not a missing feature.
 */

// Node runs this file directly (type stripping), and cannot run src/ itself, whose imports
// name `.js` files; the built JS is the same code. The types come from src/.
const dist = new URL('../dist/', import.meta.url);
const { loadConfig } = (await import(
  new URL('config.js', dist).href
)) as typeof import('../src/config.ts');
const { createStore } = (await import(
  new URL('storage/create-store.js', dist).href
)) as typeof import('../src/storage/create-store.ts');
const { sniffImageType } = (await import(
  new URL('ingest/sniff.js', dist).href
)) as typeof import('../src/ingest/sniff.ts');

const config = loadConfig(process.env);
const store = await createStore(config);

const { validateImage: validateWithService } = (await import(
  new URL('ingest/validate-image.js', dist).href
)) as typeof import('../src/ingest/validate-image.ts');

/**
 * The baseline checks each image exactly as deeply as the service does in the run (the bench
 * passes the same IMAGE_VALIDATION to both): the service's own validator, applied the usual
 * way, to the whole decoded buffer. `structure` walks the container; `decode` also decodes
 * every pixel with sharp.
 */
async function validateImage(image: Buffer, type: ImageMimeType): Promise<void> {
  await validateWithService(image, type, {
    mode: config.security.imageValidation,
    maxPixels: config.security.maxImagePixels,
    decodeTimeoutSeconds: config.security.decodeTimeoutSeconds,
  });
}

function httpError(status: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { status, code, expose: true });
}

const app = new Koa();
app.silent = true;
app.use(async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    const { status = 500, code = 'internal_error' } = error as { status?: number; code?: string };
    ctx.status = status;
    ctx.body = { error: { code, message: status < 500 ? (error as Error).message : 'error' } };
  }
});
// The limit the service applies to the whole body, so both refuse the same requests.
app.use(bodyParser({ enableTypes: ['json'], jsonLimit: `${config.maxBodyBytes}b` }));

const router = new Router();
router.post('/v1/images', async (ctx) => {
  const { data } = (ctx.request.body ?? {}) as { data?: unknown };
  if (typeof data !== 'string' || !/^data:[^,]*;base64,/.test(data.slice(0, 256))) {
    throw httpError(422, 'missing_data', 'The body must be {"data": "<base64 data URI>"}.');
  }
  const image = Buffer.from(data.slice(data.indexOf(',') + 1), 'base64');
  if (image.length === 0) throw httpError(400, 'empty_image', 'The image is empty.');
  if (image.length > config.maxImageBytes) {
    throw httpError(413, 'payload_too_large', 'The image is too large.');
  }

  const type = await sniffImageType(image, config.allowedTypes);
  await validateImage(image, type.contentType);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const id = randomUUID();
  const name = `${id}.${type.extension}`;
  await store.put(name, image, { contentType: type.contentType, metadata: { sha256 } });

  ctx.status = 201;
  ctx.set('Location', store.publicUrl(name));
  ctx.body = {
    id,
    name,
    url: store.publicUrl(name),
    contentType: type.contentType,
    extension: type.extension,
    bytes: image.length,
    sha256,
  };
});
app.use(router.routes());

const handle = app.callback();
const server = createServer((request, response) => void handle(request, response));
server.listen(config.port, config.host);

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
