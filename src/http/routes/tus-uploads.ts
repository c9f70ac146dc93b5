import type Router from '@koa/router';
import type { RouterMiddleware } from '@koa/router';
import { createRouter } from '../router.js';
import type { Context, Middleware } from 'koa';
import { METHODS } from 'node:http';
import { AppError } from '../../errors.js';
import { checksumAlgorithms, parseUploadChecksum } from '../../uploads/checksum.js';
import {
  parseDeferLength,
  parseUploadConcat,
  parseUploadLength,
  parseUploadMetadata,
  parseUploadOffset,
  tusContentType,
  tusExtensions,
  tusVersion,
} from '../../uploads/tus-headers.js';
import { TusUploads, finishedImage } from '../../uploads/tus-uploads.js';
import { TusConcatenation } from '../../uploads/tus-concatenation.js';
import type { UploadRecord } from '../../uploads/upload-record.js';
import type { StagingArea } from '../../storage/staging/staging.js';
import { uploadIdPattern } from '../../storage/staging/staging-error.js';
import { ownerOf, type CallerState } from '../middleware/auth.js';
import type { OpenUploads } from '../../uploads/open-uploads.js';
import { callerKeyOf, clientGoneSignal, ingestContextOf, type ImagesRouteDeps } from './images.js';

/**
 * tus 1.0 resumable uploads at /v1/uploads (core, creation, creation-with-upload,
 * creation-defer-length, termination, expiration, checksum, concatenation), plus
 * GET /v1/uploads/{id} (JSON, not part of tus) for the finished image or the reason it was
 * refused. The protocol lives in src/uploads/; this file turns headers into its requests and
 * its records into headers.
 */

/** Only ids the service makes: `/v1/uploads/direct` and the like belong to other routes. */
const tusPath = new RegExp(`^/v1/uploads(?:/${uploadIdPattern.source.slice(1, -1)})?$`);

/**
 * tus 1.0 core: X-HTTP-Method-Override MUST be taken as the request's method (for clients
 * whose environment cannot send PATCH or DELETE). Only on a POST to a tus path, and only a
 * method HTTP knows (what the router does not take answers 405 as ever). Before tusResumable
 * and guardApi, so the request is checked, authorised and counted as what it is.
 *
 * Never HEAD: Node frames the answer for the method on the wire, so a POST answered as a HEAD
 * would announce a Content-Length whose body never comes, and the client would wait for it.
 */
export function tusMethodOverride(): Middleware {
  return async (ctx, next) => {
    const override = ctx.get('X-HTTP-Method-Override').trim().toUpperCase();
    if (
      ctx.method === 'POST' &&
      override !== 'HEAD' &&
      METHODS.includes(override) &&
      tusPath.test(ctx.path)
    ) {
      ctx.method = override;
    }
    await next();
  };
}

/**
 * Before auth, so that a 401 or 429 carries it too: Tus-Resumable on every tus answer but
 * OPTIONS, and 412 (with Tus-Version) for a client that speaks another version.
 */
export function tusResumable(): Middleware {
  return async (ctx, next) => {
    if (!tusPath.test(ctx.path) || ctx.method === 'OPTIONS') {
      await next();
      return;
    }
    ctx.set('Tus-Resumable', tusVersion);
    if (ctx.method !== 'GET' && ctx.get('Tus-Resumable') !== tusVersion) {
      throw new AppError('tus_version_unsupported', { headers: { 'Tus-Version': tusVersion } });
    }
    await next();
  };
}

/**
 * Answers only for ids the service makes. A path such as /v1/uploads/direct stops here as a
 * 404 (@koa/router cannot hand it on), so app.ts registers this router after the others.
 */
const onlyUploadIds: RouterMiddleware<CallerState> = async (ctx, next) => {
  if (uploadIdPattern.test(ctx.params.id ?? '')) await next();
};

export interface TusUploadsRouteDeps extends ImagesRouteDeps {
  /** The staging layer's tus area. */
  readonly staging: StagingArea;
  /** MAX_OPEN_UPLOADS_PER_CALLER, shared with direct uploads. */
  readonly openUploads: OpenUploads;
}

export function tusUploadsRouter(deps: TusUploadsRouteDeps): Router<CallerState> {
  const { config, openUploads } = deps;
  const uploadsOptions = {
    staging: deps.staging,
    maxImageBytes: config.maxImageBytes,
    expiresSeconds: config.staging.uploadExpiresSeconds,
    onEnded: (id: string) => openUploads.close(id),
  };
  const uploads = new TusUploads(uploadsOptions);
  const concatenation = new TusConcatenation(uploadsOptions);
  /** An upload that took bytes and goes on expires later. */
  const extend = (record: UploadRecord): void => {
    if (record.state === 'receiving') openUploads.extend(record.id, Date.parse(record.expiresAt));
  };
  const router = createRouter<CallerState>();
  const ownerOfCall = (ctx: Context): string | undefined =>
    ownerOf((ctx.state as Partial<CallerState>).caller);

  const describeServer = (ctx: Context): void => {
    ctx.set({
      'Tus-Version': tusVersion,
      'Tus-Extension': tusExtensions.join(','),
      'Tus-Max-Size': String(config.maxImageBytes),
      'Tus-Checksum-Algorithm': checksumAlgorithms.join(','),
    });
    ctx.status = 204;
  };
  router.options('/v1/uploads', describeServer);
  router.options('/v1/uploads/:id', onlyUploadIds, describeServer);

  router.post('/v1/uploads', async (ctx) => {
    const concat = parseUploadConcat(ctx.get('Upload-Concat') || undefined, serviceOrigin(ctx));
    if (concat?.kind === 'final') {
      await createFinalUpload(ctx, concat);
      return;
    }
    const deferred = parseDeferLength(ctx.get('Upload-Defer-Length') || undefined);
    const length = parseUploadLength(ctx.get('Upload-Length') || undefined);
    if ((length === undefined) === !deferred) throw new AppError('invalid_upload_length');
    const hints = parseUploadMetadata(ctx.get('Upload-Metadata') || undefined);
    const declaredBytes = declaredBodyBytes(ctx);
    const withUpload = declaredBytes !== 0;
    // Everything about the first chunk is checked before an upload is created for it.
    if (withUpload) assertTusBody(ctx);
    const checksum = parseUploadChecksum(ctx.get('Upload-Checksum') || undefined);
    if (withUpload && length !== undefined && (declaredBytes ?? 0) > length) {
      throw new AppError('upload_too_large');
    }
    const owner = ownerOfCall(ctx);
    const ticket = openUploads.admit(callerKeyOf(ctx));
    let record: UploadRecord;
    try {
      record = await uploads.create({ owner, length, hints, partial: concat?.kind === 'partial' });
    } catch (error) {
      ticket.cancel();
      throw error;
    }
    ticket.opened(record.id, Date.parse(record.expiresAt));
    ctx.set('Location', uploadUrl(ctx, record.id));
    if (withUpload) {
      record = await uploads.patch(
        record.id,
        owner,
        { offset: 0, length: undefined, declaredBytes, checksum, body: ctx.req },
        ingestContextOf(ctx, deps, clientGoneSignal(ctx)),
      );
      extend(record);
    }
    setUploadHeaders(ctx, record);
    ctx.status = 201;
    // Not Koa's default "Created": tus answers carry no body.
    ctx.body = '';
  });

  /**
   * Upload-Concat: final;…: made of complete partial uploads and finished at once, so it
   * answers 201 with the image's headers, or the pipeline's refusal (its partials gone).
   */
  const createFinalUpload = async (
    ctx: Context,
    concat: { readonly partials: readonly string[]; readonly urls: readonly string[] },
  ): Promise<void> => {
    const lengthSent = ctx.get('Upload-Length') !== '' || ctx.get('Upload-Defer-Length') !== '';
    if (lengthSent || declaredBodyBytes(ctx) !== 0) throw new AppError('invalid_upload_concat');
    const hints = parseUploadMetadata(ctx.get('Upload-Metadata') || undefined);
    // No place among MAX_OPEN_UPLOADS_PER_CALLER: it is done when it answers, and its partials
    // (which hold places until it takes them) bound what it reads.
    const record = await concatenation.createFinal(
      { owner: ownerOfCall(ctx), partials: concat.partials, urls: concat.urls, hints },
      ingestContextOf(ctx, deps, clientGoneSignal(ctx)),
    );
    ctx.set('Location', uploadUrl(ctx, record.id));
    setUploadHeaders(ctx, record);
    ctx.status = 201;
    ctx.body = '';
  };

  // Registered before GET, which @koa/router also matches for HEAD.
  router.head('/v1/uploads/:id', onlyUploadIds, async (ctx) => {
    const record = await uploads.head(ctx.params.id ?? '', ownerOfCall(ctx));
    ctx.set('Cache-Control', 'no-store');
    setUploadHeaders(ctx, record);
    ctx.status = 200;
    ctx.body = '';
  });

  router.patch('/v1/uploads/:id', onlyUploadIds, async (ctx) => {
    const request = {
      // Answered after the upload is read: a PATCH to a final upload is 403 whatever it carries.
      bodyRefusal: tusBodyRefusal(ctx),
      offset: parseUploadOffset(ctx.get('Upload-Offset') || undefined),
      length: parseUploadLength(ctx.get('Upload-Length') || undefined),
      declaredBytes: declaredBodyBytes(ctx),
      checksum: parseUploadChecksum(ctx.get('Upload-Checksum') || undefined),
      body: ctx.req,
    };
    const record = await uploads.patch(
      ctx.params.id ?? '',
      ownerOfCall(ctx),
      request,
      ingestContextOf(ctx, deps, clientGoneSignal(ctx)),
    );
    extend(record);
    setUploadHeaders(ctx, record);
    ctx.status = 204;
  });

  router.delete('/v1/uploads/:id', onlyUploadIds, async (ctx) => {
    await uploads.terminate(ctx.params.id ?? '', ownerOfCall(ctx));
    ctx.status = 204;
  });

  router.get('/v1/uploads/:id', onlyUploadIds, async (ctx) => {
    const record = await uploads.status(ctx.params.id ?? '', ownerOfCall(ctx));
    ctx.set('Cache-Control', 'no-store');
    if (record.state === 'rejected') throw new AppError(record.error ?? 'internal_error');
    if (record.state === 'done' && record.image !== null) {
      ctx.body = await finishedImage({ ...record, image: record.image }, deps.uploaderKeys);
      return;
    }
    ctx.status = 202;
    ctx.body = {
      id: record.id,
      state: record.state,
      offset: record.offset,
      length: record.length,
      expiresAt: record.expiresAt,
    };
  });

  return router;
}

/** The absolute URL of an upload, from the request (Host, or X-Forwarded-* behind our proxies). */
function uploadUrl(ctx: Context, id: string): string {
  return `${serviceOrigin(ctx)}/v1/uploads/${id}`;
}

function serviceOrigin(ctx: Context): string {
  return `${ctx.protocol}://${ctx.host}`;
}

function setUploadHeaders(ctx: Context, record: UploadRecord): void {
  const { concat } = record;
  // tus: a final upload's offset is undefined until it is done (here, once it exists).
  if (concat?.kind !== 'final' || record.state === 'done') {
    ctx.set('Upload-Offset', String(record.offset));
  }
  if (concat !== undefined) {
    ctx.set(
      'Upload-Concat',
      concat.kind === 'partial' ? 'partial' : `final;${concat.urls.join(' ')}`,
    );
  }
  if (record.length === null) ctx.set('Upload-Defer-Length', '1');
  else ctx.set('Upload-Length', String(record.length));
  if (record.state === 'receiving') {
    ctx.set('Upload-Expires', new Date(record.expiresAt).toUTCString());
  }
  if (record.state === 'done' && record.image !== null) {
    ctx.set('Image-Location', record.image.url);
    ctx.set('Image-Id', record.image.id);
  }
}

function assertTusBody(ctx: Context): void {
  const refusal = tusBodyRefusal(ctx);
  if (refusal !== undefined) throw refusal;
}

/** A tus body is application/offset+octet-stream, sent as it is (no Content-Encoding). */
function tusBodyRefusal(ctx: Context): AppError | undefined {
  const type = ctx.get('Content-Type').split(';')[0]?.trim().toLowerCase();
  if (type !== tusContentType || ctx.get('Content-Encoding') !== '') {
    return new AppError('invalid_upload_content_type');
  }
  return undefined;
}

/** Content-Length when declared (Node has already refused a malformed one), else undefined. */
function declaredBodyBytes(ctx: Context): number | undefined {
  const raw = ctx.get('Content-Length');
  if (raw !== '') return Number(raw);
  return ctx.get('Transfer-Encoding') === '' ? 0 : undefined;
}
