import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Middleware } from 'koa';
import bodyParser from 'koa-bodyparser';
import { AppError } from '../../errors.js';
import { isLocalStaging } from '../../storage/create-staging.js';
import type { Staging } from '../../storage/staging/staging.js';
import { DirectUploads, type DirectUploadRequest } from '../../uploads/direct-uploads.js';
import { LocalUploadEndpoint } from '../../uploads/local-upload-endpoint.js';
import type { DirectUploadCreatedBody, DirectUploadRequestMember } from '../openapi/schemas.js';
import { localUploadTargets } from './local-upload-targets.js';
import { ownerOf, type CallerState } from '../middleware/auth.js';
import { callerKeyOf, clientGoneSignal, ingestContextOf, type ImagesRouteDeps } from './images.js';
import type { OpenUploads } from '../../uploads/open-uploads.js';

export interface DirectUploadsRouteDeps extends ImagesRouteDeps {
  /** The staging layer: its direct area, and on the local driver the upload route's bytes. */
  readonly staging: Staging;
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

type CreateRequest = Omit<DirectUploadRequest, 'owner'>;

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

/**
 * Uploads that skip this server's request body (src/uploads/direct-uploads.ts): POST
 * /v1/uploads/direct hands out a URL, the client sends the bytes there, and POST
 * /v1/uploads/:id/complete publishes them as POST /v1/images would.
 */
export function directUploadsRouter(deps: DirectUploadsRouteDeps): Router<CallerState> {
  const { config, staging, openUploads } = deps;
  const router = createRouter<CallerState>();
  const uploads = new DirectUploads({
    staging: staging.direct,
    maxImageBytes: config.maxImageBytes,
    expiresSeconds: config.staging.directExpiresSeconds,
    onEnded: (id) => openUploads.close(id),
  });

  router.post('/v1/uploads/direct', smallJsonBody(), async (ctx) => {
    const request = createRequestOf(ctx.request.body, config.maxImageBytes);
    const origin = ctx.get('Origin');
    // Where the client reached this service (Koa's ctx.origin is the Origin header instead).
    const service = `${ctx.protocol}://${ctx.host}`;
    const ticket = openUploads.admit(callerKeyOf(ctx));
    let created;
    try {
      created = await uploads.create(
        { ...request, owner: ownerOf(ctx.state.caller) },
        {
          origin: config.security.corsOrigins.includes(origin) ? origin : undefined,
          serviceOrigin: service,
        },
      );
    } catch (error) {
      ticket.cancel();
      throw error;
    }
    const { record, target } = created;
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
    // The upload's owner, scope and key replace the request's (DirectUploads.complete).
    const base = ingestContextOf(ctx, deps, clientGoneSignal(ctx));
    const image = await uploads.complete(ctx.params.id ?? '', ownerOf(ctx.state.caller), base);
    ctx.status = 201;
    ctx.set('Location', image.url);
    ctx.body = image;
  });

  if (isLocalStaging(staging)) {
    localUploadTargets(router, new LocalUploadEndpoint(uploads, staging.direct.bytes));
  }
  return router;
}
