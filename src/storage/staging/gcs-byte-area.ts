import type { Bucket, File } from '@google-cloud/storage';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { isMissingSigningIdentity, isTransient, statusOf } from '../gcs-errors.js';
import { safeReadStream } from '../gcs-read-stream.js';
import { defaultRetryPolicy, withRetries, type RetryPolicy } from '../retry.js';
import { retryingStaged } from './gcs-retrying.js';
import { stagedObjectHeaders } from '../staged-object-headers.js';
import {
  drainBody,
  type ByteArea,
  type PieceOptions,
  type PublishOptions,
  type StagedBytes,
  type StagedObject,
  type StagedPiece,
  type TargetOptions,
  type TargetRequest,
  type UploadMethod,
  type UploadTarget,
} from './byte-area.js';
import {
  StagingError,
  asStagingError,
  assertStagedNames,
  isStagingError,
  uploadIdPattern,
} from './staging-error.js';
import { StorageError, immutableCacheControl, isStorageError } from '../object-store.js';

/** Sources one compose request takes at most (GCS). */
const maxComposeSources = 32;

/** Largest piece object: what one upload holds in memory while a PATCH streams in. */
export const gcsPieceBytes = 8 * 1024 * 1024;

export interface GcsByteAreaOptions {
  /** Deadline, per-attempt timeout and backoff of every call (STORE_TIMEOUT_MS, ...). */
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** gcsPieceBytes unless a test asks for smaller parts. */
  readonly pieceBytes?: number | undefined;
  /**
   * Called once, when the area learns it cannot sign PUT URLs (at checkSigning, or at the
   * first PUT asked for): what to configure is told there, not at every request.
   */
  readonly onSigningUnavailable?: ((cause: unknown) => void) | undefined;
  /**
   * The images bucket, given when this area stages the uploads of a store: finished pieces are
   * then published by composing them (publishPieces).
   */
  readonly publishTo?: Bucket | undefined;
}

/** The client's object's name in its upload's folder. */
const objectName = 'data';

/**
 * Staged bytes as objects under a private prefix, in the upload's folder `<prefix><id>/` beside
 * its record (GcsRecordStore): `<piece>.<n>` the pieces the service writes, `data` the object
 * a client writes, through a V4 signed PUT URL or a resumable session the service opened.
 * Signing needs credentials that can sign: a service account key, or IAM signBlob on Cloud
 * Run (docs/operations.md).
 *
 * A piece is written as objects of at most gcsPieceBytes, each in one request with
 * ifGenerationMatch: 0 once that many bytes are held (or the body ended, or was cut), so an
 * upload holds one part in memory whatever its chunk size, and an interrupted PATCH keeps
 * every byte that reached the service. A piece's parts are all gcsPieceBytes long but the
 * last, so its recorded size names them; nothing is composed, the pipeline reads the parts
 * in order when the upload finishes.
 *
 * The client's own retries are off (create-store.ts): every call here runs in a bounded retry
 * loop, each attempt cut at its timeout, so a hanging call cannot hold the request (and its
 * upload slot) past STORE_TIMEOUT_MS.
 */
export class GcsByteArea implements ByteArea {
  readonly driver = 'gcs';
  private readonly policy: RetryPolicy;
  private readonly pieceBytes: number;
  /** False once a signing attempt failed for want of a signing identity; it stays so. */
  private canSign: boolean | undefined;
  readonly publishPieces?: ByteArea['publishPieces'];

  constructor(
    private readonly bucket: Bucket,
    private readonly prefix: string,
    private readonly options: GcsByteAreaOptions = {},
  ) {
    this.policy = { ...defaultRetryPolicy, ...options.retry };
    this.pieceBytes = options.pieceBytes ?? gcsPieceBytes;
    const { publishTo } = options;
    if (publishTo !== undefined) {
      this.publishPieces = (id, pieces, name, publish) =>
        this.compose(id, pieces, publishTo.file(name), publish);
    }
  }

  async writePiece(
    id: string,
    pieceName: string,
    body: Readable,
    options: PieceOptions,
  ): Promise<number> {
    assertStagedNames(id, pieceName);
    // One buffer per piece part, filled in place: memory is one part, never a part and a copy.
    const held = Buffer.allocUnsafe(Math.min(this.pieceBytes, options.maxBytes));
    let heldBytes = 0;
    let part = 0;
    const flush = async (): Promise<void> => {
      if (heldBytes === 0) return;
      // writePart has sent the bytes when it returns; the buffer is then refilled.
      await this.writePart(this.partFile(id, pieceName, part), held.subarray(0, heldBytes));
      heldBytes = 0;
      part += 1;
    };
    try {
      const { bytes } = await drainBody(body, options, async (chunk) => {
        let rest = chunk;
        while (rest.length > 0) {
          const take = Math.min(held.length - heldBytes, rest.length);
          rest.copy(held, heldBytes, 0, take);
          heldBytes += take;
          rest = rest.subarray(take);
          if (heldBytes === held.length) await flush();
        }
      });
      await flush();
      return bytes;
    } catch (error) {
      await this.removeParts(id, pieceName).catch(() => undefined);
      throw asStagingError(error, `writing a piece of ${id} failed`);
    }
  }

  readPieces(id: string, pieces: readonly StagedPiece[]): Readable {
    const partFiles = this.partFilesOf(id, pieces);
    return Readable.from(
      (async function* () {
        for (const file of partFiles) {
          try {
            // Checked against the part's CRC32C: with IMAGE_METADATA=keep these bytes are
            // published as they are, so a part damaged in transit must fail, not be stored.
            yield* file.createReadStream({ validation: 'crc32c' });
          } catch (error) {
            throw asStagingError(error, `reading a piece of ${id} failed`);
          }
        }
      })(),
      { objectMode: false },
    );
  }

  async removePiece(id: string, piece: StagedPiece): Promise<void> {
    assertStagedNames(id, piece.name);
    await this.removeParts(id, piece.name);
  }

  async removePieces(id: string): Promise<void> {
    await this.removeObjects(id, isPiecePart);
  }

  /** The client's object: the only object an upload's URL can write. */
  objectFile(id: string, generation?: string): File {
    assertStagedNames(id);
    return this.bucket.file(
      `${this.prefix}${id}/${objectName}`,
      generation === undefined ? {} : { generation: Number(generation) },
    );
  }

  /**
   * Whether the credentials can sign a PUT URL, found by signing one (for nothing: no request is
   * made with it). With a key file that is local; on Cloud Run it is one IAM signBlob call.
   * One attempt, at start-up: a missing identity is no transient failure, and after a
   * transient one the first PUT asked for finds out, so retrying would only hold start-up.
   */
  async checkSigning(): Promise<void> {
    const probe = this.bucket.file(`${this.prefix}signing-check`);
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

  offers(method: UploadMethod): boolean {
    // Unknown (a transient failure at checkSigning) is tried: the first PUT finds out.
    return method !== 'put' || this.canSign !== false;
  }

  async target(request: TargetRequest, options: TargetOptions): Promise<UploadTarget> {
    const file = this.objectFile(request.id);
    if (request.method === 'put') return this.signedPut(file, request);
    const [url] = await this.retrying(`session ${file.name}`, () =>
      file.createResumableUpload({
        ...(options.origin === undefined ? {} : { origin: options.origin }),
        // X-Upload-Content-Length: GCS refuses a session whose bytes add up to any other
        // total, as the signed PUT's x-goog-content-length-range does for a PUT.
        metadata: { ...stagedObjectHeaders, contentLength: request.size },
      }),
    );
    return { url, headers: {} };
  }

  private async signedPut(file: File, request: TargetRequest): Promise<UploadTarget> {
    const cannot = (cause?: unknown): StagingError =>
      new StagingError('cannot_sign', 'the GCS credentials cannot sign URLs', { cause });
    if (this.canSign === false) throw cannot();
    try {
      return await withRetries(() => signedPutTarget(file, request), this.policy, {
        isRetryable: isTransient,
      });
    } catch (error) {
      if (!isMissingSigningIdentity(error)) throw asStagingError(error, 'signing a PUT failed');
      this.cannotSign(error);
      throw cannot(error);
    }
  }

  async stagedObject(id: string): Promise<StagedObject | undefined> {
    const file = this.objectFile(id);
    return this.retrying(`stat ${file.name}`, async () => {
      try {
        const [metadata] = await file.getMetadata();
        return { size: Number(metadata.size), generation: String(metadata.generation) };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  openStaged(id: string, object: StagedObject, signal?: AbortSignal): Readable {
    return safeReadStream(this.objectFile(id, object.generation), {}, signal);
  }

  async removeStaged(id: string): Promise<void> {
    await this.remove(this.objectFile(id));
  }

  /** Every piece part and the client's object; the record beside them stays. */
  async removeAll(id: string): Promise<void> {
    await this.removeObjects(id, isByteObject);
  }

  async *list(): AsyncIterable<StagedBytes> {
    // Page by page (names sort, so an upload's objects are listed together): a staging area of
    // any size is never held in memory.
    let current: StagedBytes | undefined;
    for await (const entry of this.bucket.getFilesStream({ prefix: this.prefix })) {
      const file = entry as File;
      const name = file.name.slice(this.prefix.length);
      const slash = name.indexOf('/');
      const id = name.slice(0, slash);
      if (!uploadIdPattern.test(id) || !isByteObject(name.slice(slash + 1))) continue;
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

  /** Removes the objects of the upload's folder whose names `which` picks. */
  private async removeObjects(id: string, which: (name: string) => boolean): Promise<void> {
    assertStagedNames(id);
    const [files] = await this.retrying(`list ${id}`, () =>
      this.bucket.getFiles({ prefix: `${this.prefix}${id}/` }),
    );
    await Promise.all(
      files
        .filter((file) => which(file.name.slice(file.name.lastIndexOf('/') + 1)))
        .map((file) => this.remove(file)),
    );
  }

  private async removeParts(id: string, pieceName: string): Promise<void> {
    const [files] = await this.retrying(`list ${id}`, () =>
      this.bucket.getFiles({ prefix: `${this.prefix}${id}/${pieceName}.` }),
    );
    await Promise.all(files.map((file) => this.remove(file)));
  }

  /** The part objects of `pieces`, in order. */
  private partFilesOf(id: string, pieces: readonly StagedPiece[]): File[] {
    assertStagedNames(id);
    for (const piece of pieces) assertStagedNames(id, piece.name);
    return pieces.flatMap((piece) =>
      Array.from({ length: Math.ceil(piece.size / this.pieceBytes) }, (_, part) =>
        this.partFile(id, piece.name, part),
      ),
    );
  }

  /**
   * Composes the parts into `target`, 32 at a time (GCS's limit per compose): in rounds of
   * intermediate objects beside the parts while there are more, then into the target with its
   * metadata and ifGenerationMatch: 0, in one request, so the object is never seen without
   * them. A staging bucket apart from the images bucket cannot compose across: the parts are
   * composed into one object there and copied (a rewrite, within GCS) to the target.
   */
  private async compose(
    id: string,
    pieces: readonly StagedPiece[],
    target: File,
    options: PublishOptions,
  ): Promise<void> {
    let sources = this.partFilesOf(id, pieces);
    if (sources.length === 0) throw new Error(`staged upload ${id} has no bytes to publish`);
    const sameBucket = target.bucket.name === this.bucket.name;
    const intermediates: File[] = [];
    // Named for this publish alone: two finishes of one upload at once (two instances taking
    // the last PATCH) must not compose over each other's intermediates.
    const publish = randomBytes(8).toString('hex');
    const object = {
      contentType: options.contentType,
      cacheControl: immutableCacheControl,
      metadata: { ...options.metadata },
    };
    try {
      // ifGenerationMatch: 0 below is what makes it create-only on GCS; fake-gcs-server
      // ignores preconditions on compose and copy, so a name taken already is also looked for
      // first (a race between the two is GCS's precondition's to catch).
      const [exists] = await this.retrying(`stat ${target.name}`, () => target.exists());
      if (exists) throw new StorageError('exists', `object ${target.name} already exists`);
      for (let round = 0; sources.length > (sameBucket ? maxComposeSources : 1); round += 1) {
        const next: File[] = [];
        for (let at = 0; at < sources.length; at += maxComposeSources) {
          const group = sources.slice(at, at + maxComposeSources);
          const into = this.bucket.file(
            `${this.prefix}${id}/compose-${round}-${next.length}-${publish}`,
          );
          await this.composeOnce(group, into, stagedObjectHeaders, undefined);
          intermediates.push(into);
          next.push(into);
        }
        sources = next;
      }
      if (sameBucket) {
        await this.composeOnce(sources, target, object, 0);
      } else {
        // A 412 on a retry may be our own earlier attempt: the caller's replay tells.
        await this.retrying(`copy ${id}`, () =>
          sources[0]!.copy(target, { ...object, preconditionOpts: { ifGenerationMatch: 0 } }),
        );
      }
    } catch (error) {
      if (isStorageError(error)) throw error;
      const cause = isStagingError(error) ? error.cause : error;
      if (statusOf(cause) === 412) {
        throw new StorageError('exists', `object ${target.name} already exists`, { cause });
      }
      throw new StorageError('unavailable', `cannot publish ${target.name}`, { cause: error });
    } finally {
      await Promise.all(intermediates.map((file) => this.remove(file).catch(() => undefined)));
    }
  }

  /** One compose request: `sources` into `into`, described by `resource`. */
  private async composeOnce(
    sources: readonly File[],
    into: File,
    resource: Record<string, unknown>,
    ifGenerationMatch: number | undefined,
  ): Promise<void> {
    await this.retrying(`compose ${into.name}`, () =>
      into.request({
        method: 'POST',
        uri: '/compose',
        json: {
          destination: resource,
          sourceObjects: sources.map((source) => ({ name: source.name })),
        },
        qs: ifGenerationMatch === undefined ? {} : { ifGenerationMatch },
      }),
    );
  }

  private async remove(file: File): Promise<void> {
    await this.retrying(`delete ${file.name}`, () => file.delete({ ignoreNotFound: true }));
  }

  private async writePart(file: File, bytes: Buffer): Promise<void> {
    await this.retrying(`write ${file.name}`, async (_signal, attempt) => {
      try {
        await file.save(bytes, {
          resumable: false,
          validation: 'crc32c',
          // Labelled as direct uploads are: whatever the bytes are, a download, never a page.
          metadata: stagedObjectHeaders,
          preconditionOpts: { ifGenerationMatch: 0 },
        });
      } catch (error) {
        // Part names are unique to this write: a 412 on a retry is our own earlier attempt.
        if (attempt > 0 && statusOf(error) === 412) return;
        throw error;
      }
    });
  }

  private retrying<T>(
    what: string,
    attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  ): Promise<T> {
    return retryingStaged(this.policy, what, attempt);
  }

  private partFile(id: string, pieceName: string, part: number): File {
    return this.bucket.file(`${this.prefix}${id}/${pieceName}.${part}`);
  }
}

/**
 * The objects of an upload's folder that are bytes: piece parts, the client's object, and what
 * a publish killed mid-compose left.
 */
function isByteObject(name: string): boolean {
  return (
    name === objectName || isPiecePart(name) || /^compose-[0-9]+-[0-9]+(-[0-9a-f]{16})?$/.test(name)
  );
}

/** `<offset>-<random hex>.<part>`, as writePiece names a piece's parts. */
function isPiecePart(name: string): boolean {
  return /^[0-9]{1,15}-[0-9a-f]{8,32}\.[0-9]+$/.test(name);
}

/**
 * A V4 signed URL for one PUT of the client's object until the upload's expiry. Content-Type
 * and x-goog-content-length-range are signed headers: GCS refuses a PUT without them or with
 * a body outside the declared size, so the client cannot put more (or less) than it declared;
 * `complete` checks the size again all the same.
 */
export async function signedPutTarget(file: File, request: TargetRequest): Promise<UploadTarget> {
  const extensionHeaders = {
    'content-disposition': stagedObjectHeaders.contentDisposition,
    'x-goog-content-length-range': `${request.size},${request.size}`,
  };
  const contentType = stagedObjectHeaders.contentType;
  const [url] = await file.getSignedUrl({
    version: 'v4',
    action: 'write',
    // Signed as of the upload's creation, so X-Goog-Expires is exactly the configured expiry.
    accessibleAt: new Date(request.createdAt),
    expires: Date.parse(request.expiresAt),
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
