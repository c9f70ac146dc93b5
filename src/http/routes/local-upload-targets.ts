import type Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../../errors.js';
import { localUploadPath, type SignedUploadUrl } from '../../storage/staging/local-upload-urls.js';
import type { ByteRange, LocalUploadEndpoint } from '../../uploads/local-upload-endpoint.js';
import type { CallerState } from '../middleware/auth.js';
import type { DirectUploadReceivedBody } from '../openapi/schemas.js';

// "bytes a-b/total", "bytes a-b/*" or "bytes */total", as the GCS resumable protocol has it.
export function parseContentRange(header: string): ByteRange | undefined {
  const match = /^bytes (?:(\d{1,15})-(\d{1,15})|\*)\/(?:(\d{1,15})|\*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, first, last, total] = match;
  const range = {
    first: first === undefined ? undefined : Number(first),
    last: last === undefined ? undefined : Number(last),
    total: total === undefined ? undefined : Number(total),
  };
  if (range.first !== undefined && range.last! < range.first) return undefined;
  if (range.first === undefined && range.total === undefined) return undefined;
  return range;
}

/** A signed URL's fields from its query, or undefined when one is missing or malformed. */
function signedFieldsOf(ctx: Context, id: string): SignedUploadUrl | undefined {
  const { method, expires, size } = ctx.query;
  if (method !== 'put' && method !== 'resumable') return undefined;
  if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires)) return undefined;
  if (typeof size !== 'string' || !/^\d{1,15}$/.test(size)) return undefined;
  return { id, method, expires: Number(expires), size: Number(size) };
}

/** The request's Content-Length, if it declared one. */
function declaredLength(ctx: Context): number | undefined {
  const declared = ctx.get('Content-Length');
  return declared === '' ? undefined : Number(declared);
}

/**
 * The local driver's upload URLs (src/uploads/local-upload-endpoint.ts): a signed PUT, and a
 * resumable session answering 308 with Range until the last byte, then 200. guardApi lets
 * these PUTs through without Authorization (isSignedUploadRequest): the signature is the
 * credential.
 */
export function localUploadTargets(
  router: Router<CallerState>,
  endpoint: LocalUploadEndpoint,
): void {
  router.put(localUploadPath(':id'), async (ctx) => {
    const id = ctx.params.id ?? '';
    const signature = typeof ctx.query.signature === 'string' ? ctx.query.signature : '';
    const fields = signedFieldsOf(ctx, id);
    const record = await endpoint.recordFor(fields, signature);

    ctx.set('Cache-Control', 'no-store');
    if (fields?.method === 'put') {
      const written = await endpoint.putWhole(record, ctx.req, declaredLength(ctx));
      ctx.body = { id, size: written } satisfies DirectUploadReceivedBody;
      return;
    }
    const header = ctx.get('Content-Range');
    // A session PUT without Content-Range sends the whole upload at once.
    const range =
      header === ''
        ? parseContentRange(`bytes 0-${record.size - 1}/${record.size}`)
        : parseContentRange(header);
    if (range === undefined) throw new AppError('invalid_content_range');
    const bytes = await endpoint.putChunk(record, range, declaredLength(ctx), ctx.req);
    if (bytes === record.size) {
      ctx.status = 200;
      ctx.body = { id: record.id, size: bytes } satisfies DirectUploadReceivedBody;
      return;
    }
    // In this order: Koa makes a null body a 204.
    ctx.body = null;
    ctx.status = 308;
    if (bytes > 0) ctx.set('Range', `bytes=0-${bytes - 1}`);
  });
}
