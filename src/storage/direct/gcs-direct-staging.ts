import type { Bucket, File } from '@google-cloud/storage';
import type { Readable } from 'node:stream';
import { isMissingSigningIdentity, isTransient, statusOf } from '../gcs-errors.js';
import { safeReadStream } from '../gcs-read-stream.js';
import { defaultRetryPolicy, withRetries, type RetryPolicy } from '../retry.js';
import { stagedObjectHeaders } from '../staged-object-headers.js';
import {
  parseDirectUploadRecord,
  PutSigningUnavailableError,
  type DirectStaging,
  type DirectUploadRecord,
  type DirectUploadTarget,
  type StagedObject,
  type StagedUpload,
  type TargetOptions,
} from './direct-staging.js';

export interface GcsDirectStagingOptions {
  /** STAGING_PREFIX; direct uploads live under `<prefix>direct/`. */
  readonly prefix: string;
  /** Deadline, per-attempt timeout and backoff of every call (STORE_TIMEOUT_MS, ...). */
  readonly retry?: Partial<RetryPolicy> | undefined;
  /**
   * Called once, when the driver learns it cannot sign PUT URLs (at checkSigning, or at the
   * first PUT asked for): what to configure is told there, not at every request.
   */
  readonly onSigningUnavailable?: ((cause: unknown) => void) | undefined;
}

/**
 * Direct uploads in the bucket: `<prefix>direct/<id>` is the staged object the client writes
 * (through a V4 signed PUT URL or a resumable session the service opened), and
 * `<prefix>direct/<id>.json` its record. Signing needs credentials that can sign: a service
 * account key, or IAM signBlob on Cloud Run (docs/operations.md).
 *
 * The client's own retries are off (create-store.ts): every call here runs in the store's
 * bounded retry loop, each attempt cut at its timeout, so a hanging call cannot hold the
 * request (and its upload slot) past STORE_TIMEOUT_MS.
 */
export class GcsDirectStaging implements DirectStaging {
  readonly driver = 'gcs';
  private readonly folder: string;
  private readonly policy: RetryPolicy;
  /** False once a signing attempt failed for want of a signing identity; it stays so. */
  private canSign: boolean | undefined;

  constructor(
    private readonly bucket: Bucket,
    private readonly options: GcsDirectStagingOptions,
  ) {
    this.folder = `${options.prefix}direct/`;
    this.policy = { ...defaultRetryPolicy, ...options.retry };
  }

  /** The staged object's name: the only object a direct upload's URL can write. */
  objectName(id: string): string {
    return `${this.folder}${id}`;
  }

  private recordName(id: string): string {
    return `${this.folder}${id}.json`;
  }

  /**
   * Whether the credentials can sign a PUT URL, found by signing one (for nothing: no request is
   * made with it). With a key file that is local; on Cloud Run it is one IAM signBlob call.
   * One attempt, at start-up: a missing identity is no transient failure, and after a
   * transient one the first PUT asked for finds out, so retrying would only hold start-up.
   */
  async checkSigning(): Promise<void> {
    const probe = this.bucket.file(this.objectName('signing-check'));
    try {
      await probe.getSignedUrl({ version: 'v4', action: 'write', expires: Date.now() + 60_000 });
      this.canSign = true;
    } catch (error) {
      if (isMissingSigningIdentity(error)) this.cannotSign(error);
    }
  }

  private cannotSign(cause: unknown): void {
    if (this.canSign === false) return;
    this.canSign = false;
    this.options.onSigningUnavailable?.(cause);
  }

  async create(record: DirectUploadRecord, options: TargetOptions): Promise<DirectUploadTarget> {
    if (record.method === 'put' && this.canSign === false) {
      throw new PutSigningUnavailableError('the GCS credentials cannot sign URLs');
    }
    const recordFile = this.bucket.file(this.recordName(record.id));
    const text = JSON.stringify(record);
    await this.retrying(async (attempt) => {
      try {
        await recordFile.save(text, {
          resumable: false,
          contentType: 'application/json',
          preconditionOpts: { ifGenerationMatch: 0 },
        });
      } catch (error) {
        // Ids are fresh UUIDs: a 412 on a retry is our own first attempt, which reached the bucket.
        if (attempt > 0 && statusOf(error) === 412) return;
        throw error;
      }
    });
    const file = this.bucket.file(this.objectName(record.id));
    try {
      if (record.method === 'put') return await this.signedPut(file, record);
      const [url] = await this.retrying(() =>
        file.createResumableUpload({
          ...(options.origin === undefined ? {} : { origin: options.origin }),
          // X-Upload-Content-Length: GCS refuses a session whose bytes add up to any other
          // total, as the signed PUT's x-goog-content-length-range does for a PUT.
          metadata: { ...stagedObjectHeaders, contentLength: record.size },
        }),
      );
      return { url, headers: {} };
    } catch (error) {
      // No URL, no upload: the record would only wait for the sweep.
      await this.deleteIfThere(this.recordName(record.id)).catch(() => undefined);
      throw error;
    }
  }

  private async signedPut(file: File, record: DirectUploadRecord): Promise<DirectUploadTarget> {
    try {
      return await this.retrying(() => signedPutTarget(file, record));
    } catch (error) {
      if (!isMissingSigningIdentity(error)) throw error;
      this.cannotSign(error);
      throw new PutSigningUnavailableError('the GCS credentials cannot sign URLs', {
        cause: error,
      });
    }
  }

  async loadRecord(id: string): Promise<DirectUploadRecord | undefined> {
    return this.retrying(async () => {
      try {
        const [bytes] = await this.bucket.file(this.recordName(id)).download();
        const record = parseDirectUploadRecord(bytes.toString('utf8'));
        return record?.id === id ? record : undefined;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async stagedObject(id: string): Promise<StagedObject | undefined> {
    return this.retrying(async () => {
      try {
        const [metadata] = await this.bucket.file(this.objectName(id)).getMetadata();
        return { size: Number(metadata.size), generation: String(metadata.generation) };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  openStaged(id: string, object: StagedObject, signal?: AbortSignal): Readable {
    const file = this.bucket.file(
      this.objectName(id),
      object.generation === undefined ? {} : { generation: Number(object.generation) },
    );
    return safeReadStream(file, {}, signal);
  }

  async removeStaged(id: string): Promise<void> {
    await this.deleteIfThere(this.objectName(id));
  }

  async remove(id: string): Promise<void> {
    await this.removeStaged(id);
    await this.deleteIfThere(this.recordName(id));
  }

  async *list(): AsyncIterable<StagedUpload> {
    // Page by page (names sort, so an upload's object and record are listed together): a
    // staging area of any size is never held in memory.
    let current: StagedUpload | undefined;
    for await (const entry of this.bucket.getFilesStream({ prefix: this.folder })) {
      const file = entry as File;
      const id = file.name.slice(this.folder.length).replace(/\.json$/, '');
      const created = new Date(String(file.metadata.timeCreated ?? ''));
      if (Number.isNaN(created.valueOf())) continue;
      if (current?.id === id) {
        if (created < current.createdAt) current = { id, createdAt: created };
        continue;
      }
      if (current !== undefined) yield current;
      current = { id, createdAt: created };
    }
    if (current !== undefined) yield current;
  }

  private async deleteIfThere(name: string): Promise<void> {
    await this.retrying(() => this.bucket.file(name).delete({ ignoreNotFound: true }));
  }

  private retrying<T>(attempt: (attemptNumber: number) => Promise<T>): Promise<T> {
    return withRetries((_signal, attemptNumber) => attempt(attemptNumber), this.policy, {
      isRetryable: isTransient,
    });
  }
}

/**
 * A V4 signed URL for one PUT of the staged object until the record's expiry. Content-Type
 * and x-goog-content-length-range are signed headers: GCS refuses a PUT without them or with
 * a body outside the declared size, so the client cannot put more (or less) than it declared;
 * `complete` checks the size again all the same.
 */
export async function signedPutTarget(
  file: File,
  record: DirectUploadRecord,
): Promise<DirectUploadTarget> {
  const extensionHeaders = {
    'content-disposition': stagedObjectHeaders.contentDisposition,
    'x-goog-content-length-range': `${record.size},${record.size}`,
  };
  const contentType = stagedObjectHeaders.contentType;
  const [url] = await file.getSignedUrl({
    version: 'v4',
    action: 'write',
    // Signed as of the record's creation, so X-Goog-Expires is exactly the configured expiry.
    accessibleAt: new Date(record.createdAt),
    expires: Date.parse(record.expiresAt),
    contentType,
    extensionHeaders,
  });
  return {
    url,
    headers: {
      'Content-Type': contentType,
      'Content-Disposition': extensionHeaders['content-disposition'],
      'x-goog-content-length-range': extensionHeaders['x-goog-content-length-range'],
    },
  };
}
