import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import Koa, { type Context } from 'koa';
import bodyParser from 'koa-bodyparser';
import Router from '@koa/router';
import multer, { type File } from '@koa/multer';
import sharp from 'sharp';
import type { ImageMimeType } from '../src/images/image-types.ts';
import type { ImageFacts } from '../src/images/formats/index.ts';
import type { ImageDescription } from '../src/ingest/image-record.ts';

/**
 * The buffered baseline: POST /v1/images written the usual way, to compare image-ingest with.
 * It takes the three input styles the service takes, each the way most Koa apps do it:
 *
 *   application/json     koa-bodyparser buffers the whole body   (copy 1: the raw bytes, then a string of them)
 *                        JSON.parse builds the object            (copy 2: the data URI as a JS string)
 *                        Buffer.from(payload, 'base64')          (copy 3: the decoded image)
 *   multipart/form-data  @koa/multer, memoryStorage(), single('file'): the part's chunks are
 *                        collected and concatenated into one Buffer (copy 1, plus the chunks)
 *   image/*, application/octet-stream
 *                        the request collected into one Buffer under a size limit (what
 *                        raw-body does; copy 1, plus the chunks)
 *
 *   then, for all three, the SAME checks and the SAME store as the service.
 *
 * Everything except the body handling is taken from the service itself (dist/, built by
 * `npm run build`, which `npm run bench` runs first): the same configuration from the same
 * environment variables, the same file-type sniff against the same allowlist, the same size
 * limit, the same sha256, the same store class with the same put(). So the ratios in the
 * bench measure the design of the body pipeline, not a missing feature.
 *
 * Variants (IMAGE_VARIANTS, with the service's grammar, format, quality and placeholders
 * setting) are made the usual way too: after the same checks, one sharp pipeline per variant,
 * each decoding the original again (`sharp(image).rotate().resize(...).webp(...)`), all at once,
 * then one more decode for the placeholder's raster. Each is stored with the same put() as
 * `<id>.<variant>.<ext>` beside the original.
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

const { parseVariantSpecs, variantContentType, variantExtension } = (await import(
  new URL('images/variant-spec.js', dist).href
)) as typeof import('../src/images/variant-spec.ts');
const { placeholderFromRgba, placeholderMaxSide } = (await import(
  new URL('images/placeholder.js', dist).href
)) as typeof import('../src/images/placeholder.ts');

const config = loadConfig(process.env);
const store = await createStore(config);
// The service's own parser, from the same variable (loadConfig has already checked it).
const variantSpecs = parseVariantSpecs(process.env.IMAGE_VARIANTS ?? '');
const { format: variantFormat, quality: variantQuality, placeholders } = config.variants;

const { validateImage: validateWithService } = (await import(
  new URL('ingest/validate-image.js', dist).href
)) as typeof import('../src/ingest/validate-image.ts');

/**
 * The baseline checks each image exactly as deeply as the service does in the run (the bench
 * passes the same IMAGE_VALIDATION to both): the service's own validator, applied the usual
 * way, to the whole decoded buffer. `structure` walks the container; `decode` also decodes
 * every pixel with sharp.
 */
async function validateImage(image: Buffer, type: ImageMimeType): Promise<ImageFacts> {
  return validateWithService(image, type, {
    mode: config.security.imageValidation,
    maxPixels: config.security.maxImagePixels,
    decodeTimeoutSeconds: config.security.decodeTimeoutSeconds,
  });
}

function httpError(status: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { status, code, expose: true });
}

const tooLarge = (): Error => httpError(413, 'payload_too_large', 'The image is too large.');

interface StoredVariant {
  readonly url: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly contentType: string;
}

/** Every configured variant, each from its own decode of the original, stored as it is made. */
async function storeVariants(image: Buffer, id: string): Promise<Record<string, StoredVariant>> {
  const made = await Promise.all(
    variantSpecs.map(async (spec) => {
      const { data, info } = await sharp(image)
        .rotate()
        .resize(spec.width, spec.height, { fit: spec.fit, withoutEnlargement: true })
        .toFormat(variantFormat, { quality: variantQuality })
        .toBuffer({ resolveWithObject: true });
      const name = `${id}.${spec.name}.${variantExtension(variantFormat)}`;
      const contentType = variantContentType(variantFormat);
      await store.put(name, data, { contentType, metadata: { variant: spec.name } });
      const variant: StoredVariant = {
        url: store.publicUrl(name),
        width: info.width,
        height: info.height,
        bytes: data.length,
        contentType,
      };
      return [spec.name, variant] as const;
    }),
  );
  return Object.fromEntries(made);
}

/** ThumbHash and BlurHash of a small RGBA raster: one more decode, shrunk to 100 pixels a side. */
async function placeholderOf(image: Buffer): Promise<ReturnType<typeof placeholderFromRgba>> {
  const { data, info } = await sharp(image)
    .rotate()
    .resize(placeholderMaxSide, placeholderMaxSide, { fit: 'inside', withoutEnlargement: true })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return placeholderFromRgba({ width: info.width, height: info.height, data });
}

/** The one path every input style ends in: sniff, validate, hash, store, describe. */
async function storeImage(image: Buffer): Promise<
  ImageDescription & {
    variants?: Record<string, StoredVariant>;
    placeholder?: ReturnType<typeof placeholderFromRgba>;
  }
> {
  if (image.length === 0) throw httpError(400, 'empty_image', 'The image is empty.');
  if (image.length > config.maxImageBytes) throw tooLarge();

  const type = await sniffImageType(image, config.allowedTypes);
  const facts = await validateImage(image, type.contentType);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const id = randomUUID();
  const name = `${id}.${type.extension}`;
  const createdAt = new Date().toISOString();
  const dimensions = { width: String(facts.width), height: String(facts.height) };
  await store.put(name, image, {
    contentType: type.contentType,
    metadata: { sha256, ...dimensions, createdAt },
  });
  const [variants, placeholder] = await Promise.all([
    variantSpecs.length === 0 ? undefined : storeVariants(image, id),
    placeholders ? placeholderOf(image) : undefined,
  ]);
  return {
    id,
    name,
    url: store.publicUrl(name),
    contentType: type.contentType,
    extension: type.extension,
    bytes: image.length,
    sha256,
    width: facts.width,
    height: facts.height,
    orientation: facts.orientation,
    createdAt,
    display: {
      url: store.publicUrl(name),
      width: facts.width,
      height: facts.height,
      contentType: type.contentType,
    },
    ...(variants === undefined ? {} : { variants }),
    ...(placeholder === undefined ? {} : { placeholder }),
  };
}

function imageFromJson(ctx: Context): Buffer {
  const { data } = (ctx.request.body ?? {}) as { data?: unknown };
  if (typeof data !== 'string' || !/^data:[^,]*;base64,/.test(data.slice(0, 256))) {
    throw httpError(422, 'missing_data', 'The body must be {"data": "<base64 data URI>"}.');
  }
  return Buffer.from(data.slice(data.indexOf(',') + 1), 'base64');
}

function imageFromMultipart(ctx: Context): Buffer {
  const file = (ctx.request as { file?: File }).file;
  if (file === undefined) throw httpError(422, 'missing_file', 'The form has no "file" part.');
  return file.buffer;
}

/**
 * The whole request in one Buffer, refused on a declared Content-Length over the limit before
 * a byte is read, and counted as it arrives for a body that declares none. (Leaving the loop
 * early destroys the request, so such a body gets no 413, only a closed connection.)
 */
async function readWholeBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(request.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

/** multer fails with a MulterError whose `code` names the limit crossed. */
function multerFailure(error: unknown): unknown {
  if (!(error instanceof Error) || error.name !== 'MulterError') return error;
  const { code } = error as Error & { code?: string };
  if (code === 'LIMIT_FILE_SIZE') return tooLarge();
  return httpError(400, 'invalid_multipart', error.message);
}

const app = new Koa();
app.silent = true;
app.use(async (ctx, next) => {
  try {
    await next();
  } catch (caught) {
    const error = multerFailure(caught);
    const { status = 500, code = 'internal_error' } = error as { status?: number; code?: string };
    // What went wrong stays in the log (the bench shows it when a run is refused), not the answer.
    if (status >= 500) console.error(`POST /v1/images: ${String(caught)}`);
    ctx.status = status;
    ctx.body = { error: { code, message: status < 500 ? (error as Error).message : 'error' } };
  }
});
// The limit the service applies to the whole body, so both refuse the same requests. It reads
// JSON bodies only; the other types are left for the route.
app.use(bodyParser({ enableTypes: ['json'], jsonLimit: `${config.maxBodyBytes}b` }));

// memoryStorage: the file is held whole, as Buffer (multer's own default without `dest`).
// multer passes any request that is not multipart straight through.
const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: config.maxImageBytes, files: 1 },
});

const router = new Router();
router.post('/v1/images', upload.single('file'), async (ctx) => {
  let image: Buffer;
  if (ctx.is('multipart/form-data') !== false) image = imageFromMultipart(ctx);
  else if (ctx.is('image/*', 'application/octet-stream') !== false) {
    image = await readWholeBody(ctx.req, config.maxImageBytes);
  } else if (ctx.is('json', '+json') !== false) image = imageFromJson(ctx);
  else throw httpError(415, 'unsupported_media_type', 'Send JSON, a multipart form or an image.');

  const stored = await storeImage(image);
  ctx.status = 201;
  ctx.set('Location', stored.url);
  ctx.body = stored;
});
app.use(router.routes());

const handle = app.callback();
const server = createServer((request, response) => void handle(request, response));
server.listen(config.port, config.host);

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
