import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Context, Middleware } from 'koa';
import bodyParser from 'koa-bodyparser';
import { randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../../errors.js';
import { findStoredImage } from '../../ingest/find-image.js';
import { idFromIdempotencyKey } from '../../ingest/idempotency.js';
import { variantUrlsOf } from '../../ingest/image-record.js';
import { uploadIdPattern } from '../../storage/staging/upload-staging.js';
import {
  type DirectStaging,
  type DirectUploadMethod,
  type DirectUploadRecord,
} from '../../storage/direct/direct-staging.js';
import { LocalDirectStaging } from '../../storage/direct/local-direct-staging.js';
import { completeStagedUpload, isRefusal } from '../../uploads/complete-staged-upload.js';
import { fromStaging, limitedStaged } from '../../uploads/direct-uploads.js';
import type { DirectUploadCreatedBody, DirectUploadRequestMember } from '../openapi/schemas.js';
import { localUploadTargets } from './local-upload-targets.js';
import { ownerOf, type CallerState } from '../middleware/auth.js';
import { createdImage } from '../../ingest/ingest-image.js';
import { callerKeyOf, clientGoneSignal, ingestContextOf, type ImagesRouteDeps } from './images.js';
import type { OpenUploads } from '../../uploads/open-uploads.js';

export interface DirectUploadsRouteDeps extends ImagesRouteDeps {
  readonly staging: DirectStaging;
  /** MAX_OPEN_UPLOADS_PER_CALLER, shared with tus uploads. */
  readonly openUploads: OpenUploads;
}

/** The 201 body of POST /v1/uploads/direct. */
export type DirectUploadCreated = DirectUploadCreatedBody;

/** The request is a few numbers and words: anything larger is not one. */
const createBodyLimit = '4kb';

/**
 * koa-bodyparser (the design card's JSON parser) for these small bodies only, JSON only, its
 * errors in our catalogue's terms. The image endpoints read their (large) bodies themselves.
 */
export function smallJsonBody(): Middleware {
  const parse = bodyParser({
    enableTypes: ['json'],
    jsonLimit: createBodyLimit,
    strict: true,
    onerror: (error) => {
      const status = (error as { status?: unknown }).status;
      if (status === 413) throw new AppError('request_too_large', { cause: error });
      if (status === 415) throw new AppError('json_required', { cause: error });
      throw new AppError('invalid_json', { cause: error });
    },
  });
  return async (ctx, next) => {
    // The parser itself passes any other type through as an empty body.
    if (!ctx.is('application/json')) {
      throw new AppError('json_required');
    }
    await parse(ctx, next);
  };
}

interface CreateRequest {
  readonly size: number;
  readonly declaredType: string | null;
  readonly method: DirectUploadMethod;
}

function createRequestOf(body: unknown, maxImageBytes: number): CreateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('invalid_upload_request');
  }
  const {
    size,
    type,
    method = 'put',
  } = body as { readonly [member in DirectUploadRequestMember]?: unknown };
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new AppError('invalid_upload_request');
  }
  if (size > maxImageBytes) throw new AppError('payload_too_large');
  if (type !== undefined && (typeof type !== 'string' || type.length > 255)) {
    throw new AppError('invalid_upload_request');
  }
  if (method !== 'put' && method !== 'resumable') throw new AppError('invalid_upload_request');
  return { size, declaredType: type === undefined || type === '' ? null : type, method };
}

/** The idempotency key of an upload's completion: every retry of it gives the same image. */
function completionKey(record: DirectUploadRecord): string {
  return `direct-upload:${record.id}:${record.nonce}`;
}

/**
 * Uploads that skip this server's request body: POST /v1/uploads/direct hands out a URL (a
 * signed PUT or a resumable session, on the bucket or, with the local driver, on this
 * service), the client sends the bytes there, and POST /v1/uploads/:id/complete reads them
 * through the one pipeline and publishes them as POST /v1/images would.
 */
export function directUploadsRouter(deps: DirectUploadsRouteDeps): Router<CallerState> {
  const { config, staging, openUploads } = deps;
  const router = createRouter<CallerState>();
  const expiresSeconds = config.staging.directExpiresSeconds;

  /** The record of `id` if the caller created it: a forged id and another's look the same. */
  const recordFor = async (ctx: Context, id: string): Promise<DirectUploadRecord> => {
    if (!uploadIdPattern.test(id)) throw new AppError('not_found');
    const record = await fromStaging(staging.loadRecord(id));
    const owner = ownerOf((ctx.state as CallerState).caller) ?? null;
    if (record === undefined || record.owner !== owner) throw new AppError('not_found');
    return record;
  };

  router.post('/v1/uploads/direct', smallJsonBody(), async (ctx) => {
    const request = createRequestOf(ctx.request.body, config.maxImageBytes);
    // Whole seconds: a signed URL's expiry is counted in them.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const record: DirectUploadRecord = {
      id: randomUUID(),
      owner: ownerOf(ctx.state.caller) ?? null,
      size: request.size,
      method: request.method,
      declaredType: request.declaredType,
      nonce: randomBytes(16).toString('base64url'),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + expiresSeconds * 1000).toISOString(),
      completeBy: new Date(now + 2 * expiresSeconds * 1000).toISOString(),
    };
    const origin = ctx.get('Origin');
    // Where the client reached this service (Koa's ctx.origin is the Origin header instead).
    const service = `${ctx.protocol}://${ctx.host}`;
    const ticket = openUploads.admit(callerKeyOf(ctx));
    let target;
    try {
      target = await fromStaging(
        staging.create(record, {
          origin: config.security.corsOrigins.includes(origin) ? origin : undefined,
          serviceOrigin: service,
        }),
      );
    } catch (error) {
      ticket.cancel();
      throw error;
    }
    ticket.opened(record.id, Date.parse(record.completeBy));
    const body: DirectUploadCreated = {
      id: record.id,
      method: record.method,
      url: target.url,
      headers: target.headers,
      expiresAt: record.expiresAt,
      completeUrl: `${service}/v1/uploads/${record.id}/complete`,
    };
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 201;
    ctx.body = body;
  });

  router.post('/v1/uploads/:id/complete', async (ctx) => {
    const record = await recordFor(ctx, ctx.params.id ?? '');
    if (Date.now() > Date.parse(record.completeBy)) {
      await fromStaging(staging.remove(record.id));
      openUploads.close(record.id);
      throw new AppError('upload_expired');
    }
    const signal = clientGoneSignal(ctx);
    const context = {
      ...ingestContextOf(ctx, deps, signal),
      idempotencyKey: completionKey(record),
      scope: record.owner ?? '',
      owner: record.owner ?? undefined,
    };
    const staged = await fromStaging(staging.stagedObject(record.id));
    if (staged === undefined) {
      // Completed before (the staged bytes go once published), or not uploaded yet.
      const imageId = idFromIdempotencyKey(context.idempotencyKey, context.scope);
      const earlier = await fromStaging(findStoredImage(deps.store, imageId, config.allowedTypes));
      if (earlier === undefined) throw new AppError('upload_incomplete');
      const { store } = deps;
      ctx.status = 201;
      ctx.set('Location', store.publicUrl(earlier.name));
      ctx.body = createdImage({
        record: earlier,
        url: store.publicUrl(earlier.name),
        deleteToken:
          record.owner === null ? await deps.uploaderKeys.deleteToken(imageId) : undefined,
        variantUrls: variantUrlsOf(earlier, (name) => store.publicUrl(name)),
        renditions: context.renditionLinks?.(earlier),
      });
      return;
    }
    if (staged.size !== record.size) {
      // Unverified bytes of the wrong size are of no use to anyone: nothing stays.
      await fromStaging(staging.remove(record.id));
      openUploads.close(record.id);
      throw new AppError(staged.size > record.size ? 'upload_too_large' : 'upload_size_mismatch');
    }
    let image;
    try {
      image = await completeStagedUpload(
        {
          bytes: limitedStaged(staging.openStaged(record.id, staged, signal), record.size),
          size: record.size,
          hints: { declaredType: record.declaredType ?? undefined },
        },
        context,
      );
    } catch (error) {
      // Refused bytes (not an image, not allowed, broken): nothing of this upload stays.
      // A store outage leaves it for a retry.
      if (isRefusal(error)) {
        await staging.remove(record.id).catch(() => undefined);
        openUploads.close(record.id);
      }
      throw error;
    }
    openUploads.close(record.id);
    // The record stays until the sweep, so that a retried complete answers this same image.
    await staging.removeStaged(record.id).catch(() => undefined);
    ctx.status = 201;
    ctx.set('Location', image.url);
    ctx.body = createdImage(image);
  });

  if (staging instanceof LocalDirectStaging) localUploadTargets(router, staging);
  return router;
}
