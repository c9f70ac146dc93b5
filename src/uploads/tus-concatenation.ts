import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppError, storageUnavailable } from '../errors.js';
import { createdImage, type IngestContext } from '../ingest/ingest-image.js';
import { removeUpload, type StagingArea } from '../storage/staging/staging.js';
import { isStagingError } from '../storage/staging/staging-error.js';
import { completeStagedUpload, isRefusal } from './complete-staged-upload.js';
import type { UploadHints } from './tus-headers.js';
import type { BaseIngestContext, TusUploadsOptions } from './tus-uploads.js';
import { expiryFrom, isExpired, parseUploadRecord, type UploadRecord } from './upload-record.js';

/** Upload-Concat: final;… as the route parsed it. */
export interface FinalRequest {
  readonly owner: string | undefined;
  /** The partial uploads' ids, in order, each once. */
  readonly partials: readonly string[];
  /** Their URLs as sent, for HEAD's Upload-Concat. */
  readonly urls: readonly string[];
  /** The final upload's Upload-Metadata: the partials' own is not carried over (tus). */
  readonly hints: UploadHints;
}

/** A partial upload this final upload may take, and the version it was read at. */
interface PartialUpload {
  readonly record: UploadRecord & { readonly length: number };
  readonly version: string;
}

/**
 * tus concatenation: a final upload made of partial uploads (Upload-Concat: partial, created
 * and patched by TusUploads, which never finishes them into an image). Only complete partials
 * are taken (the server does not announce concatenation-unfinished), so the final upload is
 * finished by the request that creates it: the partials' bytes, read in order, run once
 * through the one pipeline (completeStagedUpload), as a single upload's do at its last PATCH.
 *
 * Each partial is taken with compare-and-swap (its record names the final upload), so of two
 * final uploads naming one partial only one goes on. Once the image is stored, or refused,
 * the partials go (records and bytes). On a store failure they are given back, and the
 * image's idempotency key comes from the partials, so a retried final upload finds the image
 * a failed attempt may have stored rather than storing a second one.
 *
 * Not handled: an instance killed between taking the partials and answering leaves them taken;
 * a retry is refused (partial_upload_used) and the partials expire with the sweep.
 */
export class TusConcatenation {
  private readonly staging: StagingArea;
  private readonly now: () => Date;

  constructor(private readonly options: TusUploadsOptions) {
    this.staging = options.staging;
    this.now = options.now ?? (() => new Date());
  }

  /** Creates the final upload and finishes it; answers its record, "done". */
  async createFinal(request: FinalRequest, base: BaseIngestContext): Promise<UploadRecord> {
    const partials = await Promise.all(
      request.partials.map((id) => this.readPartial(id, request.owner)),
    );
    const length = partials.reduce((sum, { record }) => sum + record.length, 0);
    // Each partial is bounded alone; their sum is the image, bounded as any image is.
    if (length > this.options.maxImageBytes) throw new AppError('payload_too_large');
    const final: UploadRecord = {
      id: randomUUID(),
      owner: request.owner ?? null,
      length,
      offset: length,
      pieces: [],
      filename: request.hints.filename,
      filetype: request.hints.filetype,
      focus: request.hints.focus,
      secret: randomBytes(18).toString('base64url'),
      createdAt: this.now().toISOString(),
      expiresAt: expiryFrom(this.now(), this.options.expiresSeconds),
      state: 'done',
      image: null,
      error: null,
      concat: { kind: 'final', partials: request.partials, urls: request.urls },
    };
    const taken = await this.take(partials, final.id);
    const context: IngestContext = {
      ...base,
      owner: final.owner ?? undefined,
      scope: final.owner ?? '',
      idempotencyKey: idempotencyKeyOfPartials(taken),
    };
    let done: UploadRecord;
    try {
      const image = await completeStagedUpload(
        {
          bytes: this.bytesOf(taken),
          size: length,
          hints: {
            filename: final.filename ?? undefined,
            declaredType: final.filetype ?? undefined,
            focus: final.focus ?? undefined,
          },
        },
        context,
      );
      // Without the delete token, as TusUploads keeps a finished upload (finishedImage).
      done = { ...final, image: createdImage({ ...image, deleteToken: undefined }) };
      await fromStaging(this.staging.records.create(done.id, done));
    } catch (error) {
      // A refused image: the partials are of no further use. Anything else: a retry may work.
      if (isRefusal(error)) await this.remove(taken);
      else await this.giveBack(taken, final.id);
      throw error;
    }
    await this.remove(taken);
    return done;
  }

  /**
   * A partial upload this caller may join: another caller's, an expired or an unknown one are
   * alike (as readOwn makes them for every other request), then it must be a complete partial
   * that no final upload took.
   */
  private async readPartial(id: string, owner: string | undefined): Promise<PartialUpload> {
    const found = await fromStaging(this.staging.records.read(id));
    if (found === undefined) throw new AppError('partial_upload_not_found');
    const record = parseUploadRecord(found.record, id);
    if (record.owner !== (owner ?? null) || isExpired(record, this.now())) {
      throw new AppError('partial_upload_not_found');
    }
    if (record.concat?.kind !== 'partial') throw new AppError('not_a_partial_upload');
    if (record.concat.usedBy !== null) throw new AppError('partial_upload_used');
    const { length } = record;
    if (record.state !== 'receiving' || length === null || record.offset !== length) {
      throw new AppError('partial_upload_incomplete');
    }
    return { record: { ...record, length }, version: found.version };
  }

  /** Marks each partial as this final upload's; if another got one first, gives back the rest. */
  private async take(partials: readonly PartialUpload[], finalId: string): Promise<PartialUpload[]> {
    const taken: PartialUpload[] = [];
    for (const { record, version } of partials) {
      const next = { ...record, concat: { kind: 'partial' as const, usedBy: finalId } };
      try {
        await this.staging.records.replace(record.id, next, version);
      } catch (error) {
        await this.giveBack(taken, finalId);
        if (!isStagingError(error, 'conflict')) throw storageUnavailable(error);
        const now = await fromStaging(this.staging.records.read(record.id));
        throw new AppError(now === undefined ? 'partial_upload_not_found' : 'partial_upload_used', {
          cause: error,
        });
      }
      taken.push({ record: next, version });
    }
    return taken;
  }

  /** Best effort: a partial left taken stays so until it expires. */
  private async giveBack(taken: readonly PartialUpload[], finalId: string): Promise<void> {
    await Promise.all(
      taken.map(async ({ record }) => {
        const found = await this.staging.records.read(record.id);
        if (found === undefined) return;
        const now = parseUploadRecord(found.record, record.id);
        if (now.concat?.kind !== 'partial' || now.concat.usedBy !== finalId) return;
        const back = { ...now, concat: { kind: 'partial' as const, usedBy: null } };
        await this.staging.records.replace(record.id, back, found.version);
      }),
    ).catch(() => {});
  }

  /** The partials' bytes, one after the other, as one stream. */
  private bytesOf(taken: readonly PartialUpload[]): Readable {
    const staging = this.staging;
    return Readable.from(
      (async function* () {
        for (const { record } of taken) yield* staging.bytes.readPieces(record.id, record.pieces);
      })(),
      { objectMode: false },
    );
  }

  /** The partials are used up: records and bytes go, and they no longer count as open. */
  private async remove(taken: readonly PartialUpload[]): Promise<void> {
    await Promise.all(
      taken.map(async ({ record }) => {
        // What stays behind is the sweep's.
        await removeUpload(this.staging, record.id).catch(() => {});
        this.options.onEnded?.(record.id);
      }),
    );
  }

}

/**
 * The final upload's image key comes from its partials (their ids and secrets), not from the
 * final upload, which a retry makes anew: the same partials make the same image.
 */
function idempotencyKeyOfPartials(taken: readonly PartialUpload[]): string {
  return `tus-concat:${taken.map(({ record }) => `${record.id}:${record.secret}`).join(' ')}`;
}

/** A staging failure is the catalogue's 503 (the store's, not the request's). */
async function fromStaging<T>(operation: Promise<T>): Promise<T> {
  return operation.catch((error: unknown) => {
    throw storageUnavailable(error);
  });
}
