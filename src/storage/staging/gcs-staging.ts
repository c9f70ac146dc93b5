import type { Bucket, File } from '@google-cloud/storage';
import { Readable } from 'node:stream';
import { isTransient, statusOf } from '../gcs-errors.js';
import { defaultRetryPolicy, withRetries, type RetryPolicy } from '../retry.js';
import { stagedObjectHeaders } from '../staged-object-headers.js';
import { StorageError, immutableCacheControl, isStorageError } from '../object-store.js';
import {
  StagingError,
  asStagingError,
  assertStagedNames,
  drainBody,
  isStagingError,
  uploadIdPattern,
  type PieceOptions,
  type PublishOptions,
  type StagedPiece,
  type UploadStaging,
  type VersionedRecord,
} from './upload-staging.js';

/** Sources one compose request takes at most (GCS). */
const maxComposeSources = 32;

/** Largest piece object: what one upload holds in memory while a PATCH streams in. */
export const gcsPieceBytes = 8 * 1024 * 1024;

/**
 * Staged uploads as objects under a private prefix: `<prefix><id>/upload.json` (the record)
 * and `<prefix><id>/<piece>.<n>` (the bytes). The record's generation is its version:
 * create writes with ifGenerationMatch: 0, replace with ifGenerationMatch: <version>, so of
 * two instances that read one version only one can write the next.
 *
 * A piece is written as objects of at most gcsPieceBytes, each in one request with
 * ifGenerationMatch: 0 once that many bytes are held (or the body ended, or was cut), so an
 * upload holds one part in memory whatever its chunk size, and an interrupted PATCH keeps
 * every byte that reached the service. A piece's parts are all gcsPieceBytes long but the
 * last, so its recorded size names them; nothing is composed, the pipeline reads the parts
 * in order when the upload finishes.
 */
export class GcsStaging implements UploadStaging {
  private readonly policy: RetryPolicy;

  readonly publishPieces?: UploadStaging['publishPieces'];

  /**
   * `publishTo`: the images bucket, given when this staging belongs to a store: the pieces are
   * then published by composing them (publishPieces).
   */
  constructor(
    private readonly bucket: Bucket,
    private readonly prefix: string,
    policy: Partial<RetryPolicy> = {},
    private readonly pieceBytes = gcsPieceBytes,
    publishTo?: Bucket,
  ) {
    this.policy = { ...defaultRetryPolicy, ...policy };
    if (publishTo !== undefined) {
      this.publishPieces = (id, pieces, name, options) =>
        this.compose(id, pieces, publishTo.file(name), options);
    }
  }

  async create(id: string, record: unknown): Promise<void> {
    assertStagedNames(id);
    const text = JSON.stringify(record);
    const file = this.recordFile(id);
    await this.retrying(`create ${id}`, async (_signal, attempt) => {
      try {
        await saveOnce(file, text, 0);
      } catch (error) {
        if (statusOf(error) !== 412) throw error;
        // 412 on a retry may be our own first attempt, which reached the bucket.
        if (attempt > 0 && (await this.holdsText(file, text))) return;
        throw new StagingError('exists', `staged upload ${id} exists`, { cause: error });
      }
    });
  }

  async read(id: string): Promise<VersionedRecord | undefined> {
    assertStagedNames(id);
    const file = this.recordFile(id);
    return this.retrying(`read ${id}`, async () => {
      // The generation first, then the bytes: bytes newer than the version only make the next
      // replace fail (a safe conflict), whereas the other order could pass stale bytes off as
      // current.
      let generation: string;
      try {
        const [metadata] = await file.getMetadata();
        generation = String(metadata.generation);
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
      try {
        const [bytes] = await file.download();
        return { record: JSON.parse(bytes.toString('utf8')) as unknown, version: generation };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async replace(id: string, record: unknown, version: string): Promise<void> {
    assertStagedNames(id);
    const text = JSON.stringify(record);
    const file = this.recordFile(id);
    await this.retrying(`replace ${id}`, async (_signal, attempt) => {
      try {
        await saveOnce(file, text, Number(version));
      } catch (error) {
        const status = statusOf(error);
        if (status !== 412 && status !== 404) throw error;
        if (attempt > 0 && (await this.holdsText(file, text))) return;
        throw new StagingError('conflict', `staged upload ${id} changed`, { cause: error });
      }
    });
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
    assertStagedNames(id);
    const [files] = await this.retrying(`list ${id}`, () =>
      this.bucket.getFiles({ prefix: `${this.prefix}${id}/` }),
    );
    const record = this.recordFile(id).name;
    await Promise.all(
      files.filter((file) => file.name !== record).map((file) => this.remove(file)),
    );
  }

  async removeAll(id: string): Promise<void> {
    // The pieces first, the record last: an id without its record is only ever an orphan.
    await this.removePieces(id);
    await this.remove(this.recordFile(id));
  }

  async *listIds(): AsyncIterable<string> {
    let last: string | undefined;
    const stream = this.bucket.getFilesStream({ prefix: this.prefix });
    for await (const entry of stream) {
      const name = (entry as File).name.slice(this.prefix.length);
      const id = name.slice(0, name.indexOf('/'));
      // Objects of one id are listed together (names sort by prefix).
      if (id === last || !uploadIdPattern.test(id)) continue;
      last = id;
      yield id;
    }
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
          const into = this.bucket.file(`${this.prefix}${id}/compose-${round}-${next.length}`);
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

  private async removeParts(id: string, pieceName: string): Promise<void> {
    const [files] = await this.retrying(`list ${id}`, () =>
      this.bucket.getFiles({ prefix: `${this.prefix}${id}/${pieceName}.` }),
    );
    await Promise.all(files.map((file) => this.remove(file)));
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

  private async holdsText(file: File, text: string): Promise<boolean> {
    try {
      const [bytes] = await file.download();
      return bytes.toString('utf8') === text;
    } catch {
      return false;
    }
  }

  private async retrying<T>(
    what: string,
    attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  ): Promise<T> {
    try {
      return await withRetries(attempt, this.policy, { isRetryable: isTransient });
    } catch (error) {
      throw asStagingError(error, `staging: ${what} failed`);
    }
  }

  private recordFile(id: string): File {
    return this.bucket.file(`${this.prefix}${id}/upload.json`);
  }

  private partFile(id: string, pieceName: string, part: number): File {
    return this.bucket.file(`${this.prefix}${id}/${pieceName}.${part}`);
  }
}

async function saveOnce(file: File, text: string, ifGenerationMatch: number): Promise<void> {
  await file.save(text, {
    resumable: false,
    contentType: 'application/json',
    metadata: { cacheControl: 'no-store' },
    preconditionOpts: { ifGenerationMatch },
  });
}
