import type { Bucket, File } from '@google-cloud/storage';
import { Readable } from 'node:stream';
import { isTransient, statusOf } from '../gcs-errors.js';
import { defaultRetryPolicy, withRetries, type RetryPolicy } from '../retry.js';
import { stagedObjectHeaders } from '../staged-object-headers.js';
import {
  StagingError,
  asStagingError,
  assertStagedNames,
  drainBody,
  uploadIdPattern,
  type PieceOptions,
  type StagedPiece,
  type UploadStaging,
  type VersionedRecord,
} from './upload-staging.js';

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

  constructor(
    private readonly bucket: Bucket,
    private readonly prefix: string,
    policy: Partial<RetryPolicy> = {},
    private readonly pieceBytes = gcsPieceBytes,
  ) {
    this.policy = { ...defaultRetryPolicy, ...policy };
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
    assertStagedNames(id);
    for (const piece of pieces) assertStagedNames(id, piece.name);
    const partFiles = pieces.flatMap((piece) =>
      Array.from({ length: Math.ceil(piece.size / this.pieceBytes) }, (_, part) =>
        this.partFile(id, piece.name, part),
      ),
    );
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
