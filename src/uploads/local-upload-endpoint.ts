import type { Readable } from 'node:stream';
import { AppError, isAppError } from '../errors.js';
import type { LocalByteArea } from '../storage/staging/local-byte-area.js';
import type { SignedUploadUrl } from '../storage/staging/local-upload-urls.js';
import type { DirectUploadRecord } from './direct-upload-record.js';
import { limited, type DirectUploads } from './direct-uploads.js';
import { isStagingError } from '../storage/staging/staging-error.js';
import { fromStaging, stagingFailure } from './staging-failures.js';

/** Bytes `first` to `last` of `total`, as a Content-Range names them (GCS's resumable protocol). */
export interface ByteRange {
  // Undefined for a status query ("bytes */total").
  readonly first: number | undefined;
  readonly last: number | undefined;
  // Undefined while the client does not say ("bytes a-b/*").
  readonly total: number | undefined;
}

/**
 * The receiving end of the local driver's upload URLs, its stand-in for GCS: a signed PUT of the
 * whole object, and a resumable session taking chunks in order, as the subset of GCS's protocol
 * that UpChunk uses. The signature is the credential, as on GCS. Bytes are bounded by the
 * declared size before they are written, flushed, and never served.
 */
export class LocalUploadEndpoint {
  constructor(
    private readonly uploads: DirectUploads,
    private readonly bytes: LocalByteArea,
  ) {}

  /** The upload a signed URL writes, once its signature holds and it may still be written. */
  async recordFor(fields: SignedUploadUrl | undefined, signature: string): Promise<DirectUploadRecord> {
    if (fields === undefined || !this.bytes.signer.verify(fields, signature)) {
      throw new AppError('invalid_signature');
    }
    return this.uploads.recordForTarget(fields.id, fields.method, fields.expires * 1000);
  }

  /**
   * A signed PUT: the whole object, `declared` its Content-Length if sent. A short body is never
   * renamed into place: nothing of it stays.
   */
  async putWhole(
    record: DirectUploadRecord,
    body: Readable,
    declared: number | undefined,
  ): Promise<number> {
    if (declared !== undefined) {
      if (declared > record.size) throw new AppError('upload_too_large');
      if (declared !== record.size) throw new AppError('upload_size_mismatch');
    }
    const written = await goneOrStaging(
      this.bytes.writeWhole(record.id, limited(body, record.size), record.size),
    );
    if (written !== record.size) throw new AppError('upload_size_mismatch');
    return written;
  }

  /**
   * A session's PUT: a status query (no first byte) or the next chunk, `declared` its
   * Content-Length if sent. Answers the bytes received so far: the size once whole.
   */
  async putChunk(
    record: DirectUploadRecord,
    range: ByteRange,
    declared: number | undefined,
    body: Readable,
  ): Promise<number> {
    if (range.total !== undefined && range.total !== record.size) {
      throw new AppError(range.total > record.size ? 'upload_too_large' : 'upload_size_mismatch');
    }
    const received = await fromStaging(this.bytes.receivedBytes(record.id));
    if (range.first === undefined) {
      // What has arrived, or, once whole, that it is done.
      const whole = await fromStaging(this.bytes.stagedObject(record.id));
      return whole === undefined ? received : record.size;
    }
    const last = range.last!;
    if (range.first > received) throw new AppError('invalid_content_range');
    if (last >= record.size) throw new AppError('upload_too_large');
    const chunkBytes = last - range.first + 1;
    if (declared !== undefined && !Number.isNaN(declared) && declared !== chunkBytes) {
      throw new AppError('invalid_content_range');
    }
    let now: number;
    try {
      now = await this.bytes.writeChunk(record.id, range.first, limited(body, chunkBytes));
    } catch (error) {
      // More bytes than the range said: the session is refused and nothing of it stays. A body
      // that broke off keeps what arrived, and the client resumes from there.
      if (isAppError(error)) await this.bytes.removeStaged(record.id);
      throw goneOrStagingFailure(error);
    }
    if (now === record.size) await goneOrStaging(this.bytes.finishChunks(record.id));
    return now;
  }
}

/**
 * A staging failure where a conflict means the upload is gone: complete (or the sweep) removed
 * it while the client still sent, and its folder went with it.
 */
function goneOrStagingFailure(error: unknown): unknown {
  if (isStagingError(error, 'conflict')) return new AppError('not_found', { cause: error });
  return stagingFailure(error);
}

/** A staging call whose failure is mapped by goneOrStagingFailure. */
async function goneOrStaging<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw goneOrStagingFailure(error);
  }
}
