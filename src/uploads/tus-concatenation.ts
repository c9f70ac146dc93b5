import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { removeUpload, type StagingArea } from '../storage/staging/staging.js';
import { isStagingError } from '../storage/staging/staging-error.js';
import { completeStagedUpload, isRefusal } from './complete-staged-upload.js';
import { fromStaging, stagingFailure } from './staging-failures.js';
import type { UploadHints } from './tus-headers.js';
import {
  hintsOf,
  keptImage,
  uploadIngestContext,
  type BaseIngestContext,
  type TusUploadsOptions,
} from './tus-uploads.js';
import {
  expiryFrom,
  isExpired,
  parseUploadRecord,
  readOwnUpload,
  usedByOf,
  type UploadRecord,
} from './upload-record.js';

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

/** A partial upload as read, and the version it was read at (for its compare-and-swap). */
interface ReadPartial {
  readonly record: UploadRecord;
  readonly version: string;
}

/** A complete partial upload this final upload took. */
type TakenPartial = UploadRecord & { readonly length: number };

/**
 * tus concatenation: a final upload made of partial uploads (Upload-Concat: partial, created
 * and patched by TusUploads, which never finishes them into an image). Only complete partials
 * are taken (the server does not announce concatenation-unfinished), so the final upload is
 * finished by the request that creates it: the partials' bytes, read in order, run once
 * through the one pipeline (completeStagedUpload), as a single upload's do at its last PATCH.
 *
 * Each partial is taken with compare-and-swap (its record names the final upload, and its
 * expiry starts again, so no sweep removes it while it is read), in id order, so of two final
 * uploads naming the same partials (in any order) one goes on. A refused image removes the
 * partials. A stored image removes their bytes and keeps their records, used up, until they
 * expire: a retry of the same final upload whose 201 was lost (same caller, same partials in
 * the same order) answers that final upload again. On a store failure they are given back,
 * and the image's idempotency key comes from the partials, so a retried final upload finds
 * the image a failed attempt may have stored rather than storing a second one.
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
    const read = await Promise.all(
      request.partials.map((id) => this.readPartial(id, request.owner)),
    );
    // One of them taken or used up: this may be a retry of a published final upload.
    const used = read.find(({ record }) => usedByOf(record) !== null)?.record;
    if (used !== undefined) return this.answerAgain(request, used);
    const partials = read.map(completePartial);
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
      expiresAt: this.expiry(),
      state: 'done',
      image: null,
      error: null,
      concat: { kind: 'final', partials: request.partials, urls: request.urls },
    };
    const taken = await this.take(partials, final.id);
    const context = uploadIngestContext(final, base, idempotencyKeyOfPartials(taken));
    let done: UploadRecord;
    try {
      const bytes = this.bytesOf(taken);
      const image = await completeStagedUpload({ bytes, size: length, hints: hintsOf(final) }, context);
      done = { ...final, image: keptImage(image) };
      await fromStaging(this.staging.records.create(done.id, done));
    } catch (error) {
      // A refused image: the partials are of no further use. Anything else: a retry may work.
      if (isRefusal(error)) await this.remove(taken);
      else await this.giveBack(taken, final.id);
      throw error;
    }
    await this.useUp(taken, final.id);
    return done;
  }

  /**
   * A partial upload this caller may join: another caller's, an expired or an unknown one are
   * alike (as TusUploads makes them for every other request), then it must be a partial.
   */
  private async readPartial(id: string, owner: string | undefined): Promise<ReadPartial> {
    const found = await readOwnUpload(this.staging.records, id, owner);
    if (found === undefined || isExpired(found.record, this.now())) {
      throw new AppError('partial_upload_not_found');
    }
    if (found.record.concat?.kind !== 'partial') throw new AppError('not_a_partial_upload');
    return found;
  }

  /**
   * A partial is taken or used up: if the final upload it names is published, and is this
   * request again (same caller, the same partials in the same order: a retry whose 201 was
   * lost), that final upload answers again; anything else is partial_upload_used.
   */
  private async answerAgain(request: FinalRequest, partial: UploadRecord): Promise<UploadRecord> {
    const finalId = usedByOf(partial) ?? '';
    const found = await readOwnUpload(this.staging.records, finalId, request.owner);
    const final = found?.record;
    const same =
      final?.concat?.kind === 'final' &&
      final.state === 'done' &&
      final.concat.partials.length === request.partials.length &&
      final.concat.partials.every((id, index) => id === request.partials[index]);
    if (!same) throw new AppError('partial_upload_used');
    return final;
  }

  /**
   * Marks each partial as this final upload's, in id order (two final uploads naming the same
   * partials in different orders meet at the same first one), its expiry renewed; if another
   * got one first, gives back the rest. Answers them as taken, in the order given.
   */
  private async take(
    partials: readonly { record: TakenPartial; version: string }[],
    finalId: string,
  ): Promise<TakenPartial[]> {
    const byId = [...partials].sort((a, b) => (a.record.id < b.record.id ? -1 : 1));
    const taken = new Map<string, TakenPartial>();
    for (const { record, version } of byId) {
      const next = { ...record, expiresAt: this.expiry(), concat: usedFor(finalId) };
      try {
        await this.staging.records.replace(record.id, next, version);
      } catch (error) {
        await this.giveBack([...taken.values()], finalId);
        if (!isStagingError(error, 'conflict')) throw stagingFailure(error);
        const now = await fromStaging(this.staging.records.read(record.id));
        throw new AppError(now === undefined ? 'partial_upload_not_found' : 'partial_upload_used', {
          cause: error,
        });
      }
      taken.set(record.id, next);
    }
    return partials.map(({ record }) => taken.get(record.id) ?? record);
  }

  /** Best effort: a partial left taken stays so until it expires. */
  private async giveBack(taken: readonly UploadRecord[], finalId: string): Promise<void> {
    await this.replaceTaken(taken, finalId, (now) => ({
      ...now,
      expiresAt: this.expiry(),
      concat: usedFor(null),
    }));
  }

  /**
   * The final upload is published: the partials' bytes go, their records stay, "done" and
   * holding no piece, until their expiry (the sweep's), for a retry of this final upload; they
   * no longer count as open.
   */
  private async useUp(taken: readonly UploadRecord[], finalId: string): Promise<void> {
    await this.replaceTaken(taken, finalId, (now) => ({
      ...now,
      pieces: [],
      state: 'done',
    }));
    await Promise.all(
      taken.map(async ({ id }) => {
        // What stays behind is the sweep's.
        await this.staging.bytes.removeAll(id).catch(() => {});
        this.options.onEnded?.(id);
      }),
    );
  }

  /** Replaces each partial still taken by `finalId` with `next` of it; best effort. */
  private async replaceTaken(
    taken: readonly UploadRecord[],
    finalId: string,
    next: (now: UploadRecord) => UploadRecord,
  ): Promise<void> {
    await Promise.all(
      taken.map(async ({ id }) => {
        const found = await this.staging.records.read(id);
        if (found === undefined) return;
        const now = parseUploadRecord(found.record, id);
        if (usedByOf(now) !== finalId) return;
        await this.staging.records.replace(id, next(now), found.version);
      }),
    ).catch(() => {});
  }

  /** The partials' bytes, one after the other, as one stream. */
  private bytesOf(taken: readonly TakenPartial[]): Readable {
    const staging = this.staging;
    return Readable.from(
      (async function* () {
        for (const record of taken) yield* staging.bytes.readPieces(record.id, record.pieces);
      })(),
      { objectMode: false },
    );
  }

  /** A refused image: the partials are of no further use, records and bytes. */
  private async remove(taken: readonly UploadRecord[]): Promise<void> {
    await Promise.all(
      taken.map(async ({ id }) => {
        // What stays behind is the sweep's.
        await removeUpload(this.staging, id).catch(() => {});
        this.options.onEnded?.(id);
      }),
    );
  }

  private expiry(): string {
    return expiryFrom(this.now(), this.options.expiresSeconds);
  }
}

/** A partial, untaken, that has all its bytes. */
function completePartial({ record, version }: ReadPartial): { record: TakenPartial; version: string } {
  const { length } = record;
  if (record.state !== 'receiving' || length === null || record.offset !== length) {
    throw new AppError('partial_upload_incomplete');
  }
  return { record: { ...record, length }, version };
}

function usedFor(finalId: string | null): { kind: 'partial'; usedBy: string | null } {
  return { kind: 'partial', usedBy: finalId };
}

/**
 * The final upload's image key comes from its partials (their ids and secrets), not from the
 * final upload, which a retry makes anew: the same partials make the same image.
 */
function idempotencyKeyOfPartials(taken: readonly UploadRecord[]): string {
  return `tus-concat:${taken.map((record) => `${record.id}:${record.secret}`).join(' ')}`;
}
