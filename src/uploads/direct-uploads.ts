import { randomBytes, randomUUID } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { AppError } from '../errors.js';
import { findStoredImage } from '../ingest/find-image.js';
import { idFromIdempotencyKey } from '../ingest/idempotency.js';
import {
  createdImage,
  ingestedImage,
  type CreatedImage,
  type IngestContext,
} from '../ingest/ingest-image.js';
import { pipeBody } from '../ingest/pipe-body.js';
import type { TargetOptions, UploadMethod, UploadTarget } from '../storage/staging/byte-area.js';
import { removeUpload, type StagingArea } from '../storage/staging/staging.js';
import { uploadIdPattern } from '../storage/staging/staging-error.js';
import {
  completeStagedUpload,
  isRefusal,
  stagedUploadKey,
  type BaseIngestContext,
} from './complete-staged-upload.js';
import { parseDirectUploadRecord, type DirectUploadRecord } from './direct-upload-record.js';
import { fromStaging } from './staging-failures.js';

export interface DirectUploadsOptions {
  /** The staging layer's direct area: records and the clients' objects. */
  readonly staging: StagingArea;
  /** MAX_IMAGE_BYTES: the largest size a client may declare. */
  readonly maxImageBytes: number;
  /** DIRECT_UPLOAD_EXPIRES_SECONDS: the URL's life; `complete` is taken for as long again. */
  readonly expiresSeconds: number;
  readonly now?: (() => Date) | undefined;
  /** Told when an upload ends: completed, refused or expired (it takes no more bytes). */
  readonly onEnded?: ((id: string) => void) | undefined;
}

export interface DirectUploadRequest {
  readonly owner: string | undefined;
  /** The declared size: exactly this many bytes are taken. */
  readonly size: number;
  /** The client's type label, a hint only. */
  readonly declaredType: string | null;
  readonly method: UploadMethod;
}

/**
 * Uploads whose bytes skip this service: `create` stores a record and hands out a target (a
 * signed PUT or a resumable session, on the bucket or, with the local driver, on this service),
 * the client sends the bytes there, and `complete` reads them through the one pipeline
 * (completeStagedUpload, as a finished tus upload) and publishes them. The peer of TusUploads;
 * knows neither Koa nor GCS.
 */
export class DirectUploads {
  private readonly staging: StagingArea;
  private readonly now: () => Date;

  constructor(private readonly options: DirectUploadsOptions) {
    this.staging = options.staging;
    this.now = options.now ?? (() => new Date());
  }

  /** A new upload: its record, then its target; without a target nothing of it stays. */
  async create(
    request: DirectUploadRequest,
    target: TargetOptions,
  ): Promise<{ readonly record: DirectUploadRecord; readonly target: UploadTarget }> {
    if (request.size > this.options.maxImageBytes) throw new AppError('payload_too_large');
    // A configuration fact, answered before a record is written: with a slow or failing
    // bucket, that write would turn it into a 503.
    if (!this.staging.bytes.offers(request.method)) throw new AppError('signed_put_unavailable');
    // Whole seconds: a signed URL's expiry is counted in them.
    const now = Math.floor(this.now().valueOf() / 1000) * 1000;
    const expiryMs = this.options.expiresSeconds * 1000;
    const record: DirectUploadRecord = {
      id: randomUUID(),
      owner: request.owner ?? null,
      size: request.size,
      method: request.method,
      declaredType: request.declaredType,
      nonce: randomBytes(16).toString('base64url'),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + expiryMs).toISOString(),
      completeBy: new Date(now + 2 * expiryMs).toISOString(),
    };
    await fromStaging(this.staging.records.create(record.id, record));
    try {
      return { record, target: await fromStaging(this.staging.bytes.target(record, target)) };
    } catch (error) {
      // No target, no upload: the record would only wait for the sweep.
      await this.staging.records.remove(record.id).catch(() => undefined);
      throw error;
    }
  }

  /** The record of `id` if `owner` created it: a forged id and another's look the same. */
  async recordOf(id: string, owner: string | undefined): Promise<DirectUploadRecord> {
    const record = await this.read(id);
    if (record === undefined || record.owner !== (owner ?? null)) throw new AppError('not_found');
    return record;
  }

  /**
   * The record a target's write is for, whoever sends it (the signed URL is the credential),
   * while the target may still be written: a PUT until the URL's expiry, a session (once
   * started) until `complete` would refuse it anyway.
   */
  async recordForTarget(id: string, method: UploadMethod, expiresMs: number): Promise<DirectUploadRecord> {
    const record = await this.read(id);
    if (record === undefined) throw new AppError('not_found');
    const deadline = method === 'put' ? expiresMs : Date.parse(record.completeBy);
    if (this.now().valueOf() > deadline) throw new AppError('upload_expired');
    return record;
  }

  /**
   * Reads the client's bytes through the one pipeline and publishes them, under the upload's
   * own idempotency key: a retried complete answers the same image, also once the staged
   * bytes are gone (the record stays until the sweep for that). Refused bytes end the upload,
   * nothing of it stays; a store outage leaves it for a retry.
   */
  async complete(
    id: string,
    owner: string | undefined,
    base: BaseIngestContext,
  ): Promise<CreatedImage> {
    const record = await this.recordOf(id, owner);
    const { bytes } = this.staging;
    if (this.now().valueOf() > Date.parse(record.completeBy)) {
      await this.end(record.id);
      throw new AppError('upload_expired');
    }
    const context: IngestContext = {
      ...base,
      idempotencyKey: stagedUploadKey('direct-upload', record.id, record.nonce),
      scope: record.owner ?? '',
      owner: record.owner ?? undefined,
    };
    const staged = await fromStaging(bytes.stagedObject(record.id));
    if (staged === undefined) return this.completedBefore(record, context);
    if (staged.size !== record.size) {
      // Unverified bytes of the wrong size are of no use to anyone: nothing stays.
      await this.end(record.id);
      throw new AppError(staged.size > record.size ? 'upload_too_large' : 'upload_size_mismatch');
    }
    let image;
    try {
      image = await completeStagedUpload(
        {
          bytes: limitedStaged(bytes.openStaged(record.id, staged, base.signal), record.size),
          size: record.size,
          hints: { declaredType: record.declaredType ?? undefined },
        },
        context,
      );
    } catch (error) {
      if (isRefusal(error)) await this.end(record.id).catch(() => undefined);
      throw error;
    }
    this.options.onEnded?.(record.id);
    // The record stays until the sweep, so that a retried complete answers this same image.
    await bytes.removeStaged(record.id).catch(() => undefined);
    return createdImage(image);
  }

  /** No staged object: completed before (the bytes go once published), or not uploaded yet. */
  private async completedBefore(
    record: DirectUploadRecord,
    { store, limits, uploaderKeys, renditionLinks, idempotencyKey, scope }: IngestContext,
  ): Promise<CreatedImage> {
    const imageId = idFromIdempotencyKey(idempotencyKey!, scope!);
    const earlier = await fromStaging(findStoredImage(store, imageId, limits.allowedTypes));
    if (earlier === undefined) throw new AppError('upload_incomplete');
    const deleteToken =
      record.owner === null ? await uploaderKeys.deleteToken(imageId) : undefined;
    return createdImage(ingestedImage(earlier, deleteToken, { store, renditionLinks }));
  }

  /** The upload is over: record and bytes go. */
  private async end(id: string): Promise<void> {
    await fromStaging(removeUpload(this.staging, id));
    this.options.onEnded?.(id);
  }

  private async read(id: string): Promise<DirectUploadRecord | undefined> {
    if (!uploadIdPattern.test(id)) return undefined;
    const found = await fromStaging(this.staging.records.read(id));
    return found === undefined ? undefined : parseDirectUploadRecord(found.record, id);
  }
}

/** Passes at most `limit` bytes; one more fails the stream with upload_too_large. Counts what passed. */
class ByteLimit extends Transform {
  bytes = 0;
  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) callback(new AppError('upload_too_large'));
    else callback(null, chunk);
  }
}

/** `body`, at most `limit` bytes of it: see pipeBody for why it may be read only later. */
export function limited(body: Readable, limit: number): ByteLimit {
  return pipeBody(body, new ByteLimit(limit));
}

/**
 * Staged bytes, at most `limit` of them. pipeline, not pipeBody: whichever way the reader
 * stops (done, refused, its client gone), destroying what is returned closes the staged file
 * too, which a pipe would leave open, paused, for ever.
 */
export function limitedStaged(bytes: Readable, limit: number): ByteLimit {
  const limiter = new ByteLimit(limit);
  // The failure reaches the reader as the limiter's own (the error it is destroyed with).
  pipeline(bytes, limiter, () => undefined);
  return limiter;
}
