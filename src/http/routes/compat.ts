import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Context } from 'koa';
import { AppError } from '../../errors.js';
import { chunkSource } from '../../ingest/image-source.js';
import {
  createdImage,
  ingestImage,
  type CreatedImage,
  type IngestedImage,
} from '../../ingest/ingest-image.js';
import { readMultipart } from '../../ingest/multipart.js';
import { deleteStoredImage } from '../../ingest/find-image.js';
import { imageSourceOf, isJsonMediaType, multipartBodyOf } from '../image-body.js';
import type { CompatFilesBody } from '../openapi/schemas.js';
import { clientGoneSignal, ingestContextOf, type ImagesRouteDeps } from './images.js';

/**
 * Compatibility routes for open-event-server's event-management frontend, which calls these two
 * upload routes and reads only `url` from their answers. Thin aliases over the same pipeline as
 * POST /v1/images (images only), so that frontend can switch its upload backend by changing a
 * base URL. They answer 200, as open-event-server does, with our fields beside `url`.
 */

/** `files[]` parts one request may carry on /v1/upload/files. */
export const maxCompatFiles = 10;

/** The multipart field names of /v1/upload/files: one `file`, or several `files[]`. */
const compatFileFields = ['file', 'files[]'];

export function compatRouter(deps: ImagesRouteDeps): Router {
  const router = createRouter();

  // {"data": "<data URI>"} -> {"url": "...", ...}
  router.post('/v1/upload/image', async (ctx) => {
    if (!isJsonMediaType(ctx.request.type.trim().toLowerCase())) {
      throw new AppError('unsupported_media_type', {
        message: 'This route takes JSON {"data": "<data URI>"} (Content-Type: application/json).',
      });
    }
    const signal = clientGoneSignal(ctx);
    const context = ingestContextOf(ctx, deps, signal);
    const image = await ingestImage(await imageSourceOf(ctx, deps.config, signal), context);
    ctx.body = createdImage(image);
  });

  // multipart `file` -> {"url": "...", ...}; several `files[]` -> {"url": [...], "images": [...]}
  router.post('/v1/upload/files', async (ctx) => {
    if (ctx.request.type.trim().toLowerCase() !== 'multipart/form-data') {
      throw new AppError('unsupported_media_type', {
        message: 'This route takes a multipart/form-data form with `file` or `files[]` parts.',
      });
    }
    const images = await ingestEveryFile(ctx, deps);
    const single = images.length === 1 && images[0]!.field === 'file';
    ctx.body = single
      ? images[0]!.created
      : ({
          url: images.map((image) => image.created.url),
          images: images.map((i) => i.created),
        } satisfies CompatFilesBody);
  });

  return router;
}

interface FormImage {
  readonly field: string;
  readonly created: CreatedImage;
}

/**
 * Every file part through the pipeline, one after the other as they arrive. All or nothing:
 * if any part, or the body after it, fails, the images already stored by this request are
 * deleted before the error is answered.
 */
async function ingestEveryFile(ctx: Context, deps: ImagesRouteDeps): Promise<FormImage[]> {
  const { config, store } = deps;
  const { maxBodyBytes: oneImageBodyBytes, ...limits } = config.multipart;
  const maxBodyBytes = oneImageBodyBytes + (maxCompatFiles - 1) * config.maxImageBytes;
  const body = multipartBodyOf(ctx, maxBodyBytes);
  const signal = clientGoneSignal(ctx);
  const context = ingestContextOf(ctx, deps, signal);
  const form = readMultipart(
    body,
    ctx.get('Content-Type'),
    { maxFileBytes: config.maxImageBytes, maxFiles: maxCompatFiles, ...limits },
    { fileFields: compatFileFields, signal },
  );
  const stored: { field: string; image: IngestedImage }[] = [];
  try {
    for await (const part of form) {
      const source = chunkSource(
        part.chunks,
        { filename: part.filename, declaredType: part.declaredType },
        {},
        (reason) => form.cancel(reason),
      );
      // One Idempotency-Key names the whole request: each part gets its own id from it.
      const key = context.idempotencyKey;
      const partContext =
        key === undefined ? context : { ...context, idempotencyKey: `${key}#${stored.length}` };
      stored.push({ field: part.field, image: await ingestImage(source, partContext) });
    }
    await form.ended;
    if (stored.length === 0) throw new AppError('missing_file');
  } catch (error) {
    // Idempotent names may be a concurrent retry's success: those stay.
    if (context.idempotencyKey === undefined) {
      await Promise.all(
        stored.map(({ image }) => deleteStoredImage(store, image.record).catch(() => undefined)),
      );
    }
    throw error;
  }
  return stored.map(({ field, image }) => ({ field, created: createdImage(image) }));
}
