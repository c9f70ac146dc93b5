import type Router from '@koa/router';
import type { Context } from 'koa';
import { AppError, isAppError } from '../../errors.js';
import type { LocalByteArea } from '../../storage/staging/local-byte-area.js';
import { localUploadPath, type SignedUploadUrl } from '../../storage/staging/local-upload-urls.js';
import type { DirectUploadRecord } from '../../uploads/direct-upload-record.js';
import { limited, type DirectUploads } from '../../uploads/direct-uploads.js';
import { fromStaging } from '../../uploads/staging-failures.js';
import type { CallerState } from '../middleware/auth.js';
import type { DirectUploadReceivedBody } from '../openapi/schemas.js';

// "bytes a-b/total", "bytes a-b/*" or "bytes */total", as the GCS resumable protocol has it.
interface ContentRange {
  readonly first: number | undefined;
  readonly last: number | undefined;
  readonly total: number | undefined;
}

export function parseContentRange(header: string): ContentRange | undefined {
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

/** The declared Content-Length, checked against what this request may carry. */
function checkDeclaredLength(ctx: Context, expected: number): void {
  const declared = ctx.get('Content-Length');
  if (declared === '') return;
  const length = Number(declared);
  if (length > expected) throw new AppError('upload_too_large');
  if (length !== expected) throw new AppError('upload_size_mismatch');
}

/**
 * The local driver's stand-ins for GCS: a signed PUT URL, and a resumable session speaking the
 * subset of GCS's protocol that UpChunk uses (PUT with Content-Range, 308 with Range until the
 * last byte, then 200). The signature is the credential, as on GCS: guardApi lets these PUTs
 * through without Authorization (isSignedUploadRequest). Bytes are written under the staging
 * folder, bounded by the declared size before they are buffered, flushed, and never served.
 */
export function localUploadTargets(
  router: Router<CallerState>,
  staging: LocalByteArea,
  uploads: DirectUploads,
): void {
  router.put(localUploadPath(':id'), async (ctx) => {
    const id = ctx.params.id ?? '';
    const fields = signedFieldsOf(ctx, id);
    const signature = typeof ctx.query.signature === 'string' ? ctx.query.signature : '';
    if (fields === undefined || !staging.signer.verify(fields, signature)) {
      throw new AppError('invalid_signature');
    }
    const record = await uploads.recordForTarget(id, fields.method, fields.expires * 1000);

    ctx.set('Cache-Control', 'no-store');
    if (fields.method === 'put') {
      checkDeclaredLength(ctx, record.size);
      const written = await fromStaging(
        staging.writeWhole(id, limited(ctx.req, record.size), record.size),
      );
      // A short body was never renamed into place: nothing of it stays.
      if (written !== record.size) throw new AppError('upload_size_mismatch');
      ctx.body = { id, size: written } satisfies DirectUploadReceivedBody;
      return;
    }
    await receiveChunk(ctx, staging, record);
  });
}

async function receiveChunk(
  ctx: Context,
  staging: LocalByteArea,
  record: DirectUploadRecord,
): Promise<void> {
  const header = ctx.get('Content-Range');
  const length = Number(ctx.get('Content-Length') || Number.NaN);
  // A session PUT without Content-Range sends the whole upload at once.
  const range =
    header === ''
      ? parseContentRange(`bytes 0-${record.size - 1}/${record.size}`)
      : parseContentRange(header);
  if (range === undefined) throw new AppError('invalid_content_range');
  if (range.total !== undefined && range.total !== record.size) {
    throw new AppError(range.total > record.size ? 'upload_too_large' : 'upload_size_mismatch');
  }
  const received = await fromStaging(staging.receivedBytes(record.id));
  const answer = (bytes: number): void => {
    if (bytes === record.size) {
      ctx.status = 200;
      ctx.body = { id: record.id, size: bytes } satisfies DirectUploadReceivedBody;
      return;
    }
    // In this order: Koa makes a null body a 204.
    ctx.body = null;
    ctx.status = 308;
    if (bytes > 0) ctx.set('Range', `bytes=0-${bytes - 1}`);
  };
  if (range.first === undefined) {
    // A status query: what has arrived (or, once whole, that it is done).
    answer(
      (await fromStaging(staging.stagedObject(record.id))) === undefined ? received : record.size,
    );
    return;
  }
  const last = range.last!;
  if (range.first > received) throw new AppError('invalid_content_range');
  if (last >= record.size) throw new AppError('upload_too_large');
  const chunkBytes = last - range.first + 1;
  if (!Number.isNaN(length) && length !== chunkBytes) throw new AppError('invalid_content_range');
  let now: number;
  try {
    now = await staging.writeChunk(record.id, range.first, limited(ctx.req, chunkBytes));
  } catch (error) {
    // More bytes than the range said: the session is refused and nothing of it stays. A body
    // that broke off keeps what arrived, and the client resumes from there.
    if (isAppError(error)) await staging.removeStaged(record.id);
    throw error;
  }
  if (now === record.size) await fromStaging(staging.finishChunks(record.id));
  answer(now);
}
