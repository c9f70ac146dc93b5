import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppError, isAppError, storageUnavailable } from '../errors.js';
import {
  createdImage,
  defaultImageValidation,
  publishCheckedImage,
  publishesAsChecked,
  type CreatedImage,
  type IngestContext,
  type IngestedImage,
} from '../ingest/ingest-image.js';
import type { PutOptions } from '../storage/object-store.js';
import type { UploaderKeys } from '../ingest/uploader-keys.js';
import { sniffImageType, sniffSampleBytes } from '../ingest/sniff.js';
import { pipeBody } from '../ingest/pipe-body.js';
import { removeUpload, type StagingArea } from '../storage/staging/staging.js';
import { isStagingError } from '../storage/staging/staging-error.js';
import type { ImageHints } from '../ingest/image-source.js';
import {
  ArrivalCheck,
  ArrivalChecks,
  type ArrivalOptions,
  type ArrivalRecord,
} from './arrival-check.js';
import { ChecksumPassThrough, type UploadChecksum } from './checksum.js';
import {
  completeStagedUpload,
  isRefusal,
  stagedUploadKey,
  type BaseIngestContext,
} from './complete-staged-upload.js';
import { stagingFailure } from './staging-failures.js';
import type { UploadHints } from './tus-headers.js';
import {
  expiryFrom,
  isExpired,
  isPartial,
  usedByOf,
  isUsedUp,
  parseUploadRecord,
  readOwnUpload,
  type UploadPiece,
  type UploadRecord,
} from './upload-record.js';

export interface TusUploadsOptions {
  /** The staging layer's tus area: records and pieces. */
  readonly staging: StagingArea;
  /** MAX_IMAGE_BYTES: the largest Upload-Length, and the bound on a deferred upload. */
  readonly maxImageBytes: number;
  /** UPLOAD_EXPIRES_SECONDS, counted from the last committed byte. */
  readonly expiresSeconds: number;
  readonly now?: (() => Date) | undefined;
  /** Told when an upload ends: finished, refused or terminated (it takes no more bytes). */
  readonly onEnded?: ((id: string) => void) | undefined;
}

export interface CreateRequest {
  readonly owner: string | undefined;
  /** undefined: Upload-Defer-Length: 1. */
  readonly length: number | undefined;
  readonly hints: UploadHints;
  /** Upload-Concat: partial (concatenation): its bytes wait for a final upload. */
  readonly partial?: boolean | undefined;
}

export interface PatchRequest {
  readonly offset: number;
  /** Upload-Length sent with a PATCH, which sets a deferred length. */
  readonly length: number | undefined;
  /** Content-Length, when the client declared one. */
  readonly declaredBytes: number | undefined;
  readonly checksum: UploadChecksum | undefined;
  readonly body: Readable;
  /**
   * What the route found wrong with how the body is sent (its Content-Type), answered once the
   * upload is known to take a PATCH at all: tus has a PATCH to a final upload answer 403,
   * whatever it carries.
   */
  readonly bodyRefusal?: AppError | undefined;
}

export type { BaseIngestContext };

/**
 * Pieces one upload may be sent in: each is an entry in the record, which every PATCH
 * rewrites, so a client sending one-byte chunks must not grow it without bound. An upload
 * checked as it arrives counts its PATCHes (UploadRecord.patches), pieces or not.
 */
const maxUploadPieces = 1000;

/**
 * The tus 1.0 protocol over the staging area, as named steps; knows neither Koa nor GCS.
 * Every step reads the record, checks it, and commits the next state with compare-and-swap,
 * so two instances serving one upload agree: of two PATCHes at one offset one commits and the
 * other answers 409, its piece removed. When the last byte arrives the staged bytes run
 * through the one pipeline (ingestImage) before the record says "done".
 */
export class TusUploads {
  private readonly staging: StagingArea;
  private readonly now: () => Date;
  /** The walks of the uploads whose PATCHes this instance served last. */
  private readonly checks = new ArrivalChecks();

  constructor(private readonly options: TusUploadsOptions) {
    this.staging = options.staging;
    this.now = options.now ?? (() => new Date());
  }

  /** creation (and creation-defer-length): a new record, no bytes yet. */
  async create({ owner, length, hints, partial }: CreateRequest): Promise<UploadRecord> {
    if (length !== undefined) this.checkLength(length, 0);
    const now = this.now();
    const record: UploadRecord = {
      id: randomUUID(),
      owner: owner ?? null,
      length: length ?? null,
      offset: 0,
      pieces: [],
      filename: hints.filename,
      filetype: hints.filetype,
      focus: hints.focus,
      secret: randomBytes(18).toString('base64url'),
      createdAt: now.toISOString(),
      expiresAt: this.expiry(),
      state: 'receiving',
      image: null,
      error: null,
      // A partial upload (but the first) starts mid-image: it is walked once, in its final
      // upload, never as it arrives.
      ...(partial === true ? { concat: { kind: 'partial', usedBy: null } } : { arrival: noArrival }),
    };
    await this.staged(() => this.staging.records.create(record.id, record));
    return record;
  }

  /** HEAD: the upload's offset; a finished one reads as complete, a refused one as gone. */
  async head(id: string, owner: string | undefined): Promise<UploadRecord> {
    const { record } = await this.readOwn(id, owner);
    this.assertLive(record);
    return record;
  }

  /** GET /v1/uploads/{id}: the record in any state (the route answers by state). */
  async status(id: string, owner: string | undefined): Promise<UploadRecord> {
    const { record } = await this.readOwn(id, owner);
    if (record.state === 'receiving' && isExpired(record, this.now())) {
      throw new AppError('upload_expired');
    }
    return record;
  }

  /** termination: the record and every piece go. */
  async terminate(id: string, owner: string | undefined): Promise<void> {
    const { record, version } = await this.readOwn(id, owner);
    if (isPartial(record)) await this.withdrawPartial(record, version);
    await this.staged(() => removeUpload(this.staging, id));
    this.ended(id);
  }

  /**
   * A partial upload that a final upload took is being read by it: its termination is refused
   * (409). Any other is first marked expired with compare-and-swap, so a final upload taking
   * it meanwhile fails its own compare-and-swap rather than read bytes as they are removed.
   */
  private async withdrawPartial(record: UploadRecord, version: string): Promise<void> {
    if (usedByOf(record) !== null) {
      throw new AppError('partial_upload_used');
    }
    const withdrawn: UploadRecord = { ...record, expiresAt: this.now().toISOString() };
    try {
      await this.staging.records.replace(record.id, withdrawn, version);
    } catch (error) {
      if (!isStagingError(error, 'conflict')) throw stagingFailure(error);
      // Taken by a final upload, or changed by another request: the client may ask again.
      const now = await this.readOwn(record.id, record.owner ?? undefined);
      const taken = usedByOf(now.record) !== null;
      throw new AppError(taken ? 'partial_upload_used' : 'upload_offset_mismatch', { cause: error });
    }
  }

  /**
   * PATCH: check the offset, write the piece, verify its checksum, commit the new offset, and,
   * once the last byte is in, finish. Answers the record as committed.
   */
  async patch(
    id: string,
    owner: string | undefined,
    request: PatchRequest,
    ingestContext: BaseIngestContext,
  ): Promise<UploadRecord> {
    const { record, version } = await this.readOwn(id, owner);
    if (record.concat?.kind === 'final') throw new AppError('upload_is_final');
    if (request.bodyRefusal !== undefined) throw request.bodyRefusal;
    if (record.state === 'done' && request.offset === record.offset) return record;
    this.assertLive(record);
    if (request.offset !== record.offset) throw new AppError('upload_offset_mismatch');
    const length = this.lengthAfter(record, request.length);
    const room = (length ?? this.options.maxImageBytes) - record.offset;
    if (request.declaredBytes !== undefined && request.declaredBytes > room) {
      throw tooLarge(length);
    }
    const { arrival } = record;
    if (arrival !== undefined) {
      const checked = { ...record, arrival };
      return this.patchChecked(checked, version, request, { length, room }, ingestContext);
    }
    const piece = await this.writePiece(record, request, length, room).catch(async (error) => {
      throw await this.conflictOr(id, version, error);
    });
    const offset = record.offset + (piece?.size ?? 0);
    const pieces = piece === undefined ? record.pieces : [...record.pieces, piece];
    try {
      // A partial upload's bytes wait, unread, for the final upload that takes them.
      if (length !== null && offset === length && !isPartial(record)) {
        return await this.finish({ ...record, length }, version, pieces, ingestContext);
      }
      if (piece === undefined && length === record.length) return record;
      const sniffedType =
        record.sniffedType ??
        (isPartial(record)
          ? undefined
          : await this.sniffWhenEnough({ ...record, length, offset }, version, pieces, ingestContext));
      const next: UploadRecord = {
        ...record,
        length,
        offset,
        pieces,
        sniffedType,
        expiresAt: this.expiry(),
      };
      await this.commit(next, version);
      return next;
    } catch (error) {
      // Not committed, so no record names the new piece (a refused image's went with the rest).
      if (piece !== undefined) await this.discardPieces(record.id, [piece]);
      throw await this.conflictOr(id, version, error);
    }
  }

  /**
   * PATCH of an upload checked as it arrives: the body passes through the upload's arrival
   * check (this instance's, or one caught up from staging) and the piece holds its output.
   * A refused type or structure ends the upload at this PATCH; bytes received but not yet
   * standing for any output go into the record (ArrivalRecord.tail).
   */
  private async patchChecked(
    record: UploadRecord & { readonly arrival: ArrivalRecord },
    version: string,
    request: PatchRequest,
    { length, room }: { length: number | null; room: number },
    base: BaseIngestContext,
  ): Promise<UploadRecord> {
    const options = arrivalOptionsOf(base);
    let check =
      record.offset === 0
        ? ArrivalCheck.start(options, record.arrival.generation)
        : this.checks.take(record.id, record.offset, record.arrival);
    let caughtUp: Buffer[] = [];
    if (check === undefined) {
      const caught = await this.catchUp(record, options).catch(async (error) => {
        throw isRefusal(error) ? await this.reject(record, version, error) : error;
      });
      if (caught === undefined) throw await this.restart(record, version);
      ({ check, output: caughtUp } = caught);
    }
    const { piece, refusal } = await this.writeChecked(
      record,
      request,
      check,
      caughtUp,
      length,
      room,
    ).catch(async (error) => {
      throw await this.conflictOr(record.id, version, error);
    });
    const pieces = piece === undefined ? record.pieces : [...record.pieces, piece];
    let tailPiece: UploadPiece | undefined;
    try {
      if (refusal !== undefined) throw await this.reject({ ...record, pieces }, version, refusal);
      const offset = check.received;
      if (length !== null && offset === length) {
        return await this.finish({ ...record, length }, version, pieces, base, check);
      }
      if (offset === record.offset && length === record.length) {
        // No byte arrived: the record stays as it was (a caught-up tail's output, staged
        // again, goes; the check then no longer matches the record, and is not kept).
        if (piece === undefined) this.checks.keep(record.id, check, new Date(record.expiresAt));
        else await this.discardPieces(record.id, [piece]);
        return record;
      }
      const { tail, ...held } = check.held();
      if (tail !== null && tail.length > 0) tailPiece = await this.writeTail(record, tail, length);
      const next: UploadRecord = {
        ...record,
        length,
        offset,
        pieces,
        sniffedType: check.type?.contentType,
        // The tail is in its piece, or empty, or too long to keep (null and no piece).
        arrival:
          tailPiece === undefined
            ? { ...held, tail: tail === null ? null : '' }
            : { ...held, tail: null, tailPiece },
        patches: patchesOf(record) + 1,
        expiresAt: this.expiry(),
      };
      await this.commit(next, version);
      this.checks.keep(record.id, check, new Date(next.expiresAt));
      // The tail this commit replaced (best effort: the upload's end removes what stays).
      const replaced = record.arrival.tailPiece;
      if (replaced !== undefined) await this.discardPieces(record.id, [replaced]);
      return next;
    } catch (error) {
      const written = [piece, tailPiece].filter((each) => each !== undefined);
      await this.discardPieces(record.id, written);
      throw await this.conflictOr(record.id, version, error);
    }
  }

  /**
   * Writes the output of `check` for the body as one piece (after `first`, the output of a
   * catch-up), and at the upload's last byte the rest of it. A refusal of the check ends the
   * body there and is answered, for the caller to end the upload; the check is of no more use
   * after any failure (it has walked bytes no record names).
   */
  private async writeChecked(
    record: UploadRecord,
    request: PatchRequest,
    check: ArrivalCheck,
    first: readonly Buffer[],
    length: number | null,
    room: number,
  ): Promise<{ piece: UploadPiece | undefined; refusal?: AppError }> {
    if (patchesOf(record) >= maxUploadPieces) throw new AppError('too_many_upload_pieces');
    const name = pieceNameAt(record.offset);
    const checked = pipeBody(request.body, new ChecksumPassThrough(request.checksum));
    const outcome: { refusal?: AppError; tooLarge?: boolean } = {};
    async function* output(): AsyncGenerator<Buffer> {
      yield* first;
      let received = check.received;
      try {
        for await (const chunk of checked) {
          received += (chunk as Buffer).length;
          if (received - record.offset > room) {
            outcome.tooLarge = true;
            return;
          }
          // Refused, but read on to the end: with Upload-Checksum, bytes damaged in transit
          // are a 460 for the client to send again, not a refused image.
          if (outcome.refusal !== undefined) continue;
          try {
            yield* await check.write(chunk as Buffer);
          } catch (error) {
            if (!isRefusal(error)) throw error;
            outcome.refusal = error;
            if (request.checksum === undefined) return;
          }
        }
      } catch {
        // The body was cut: what arrived stays, as tus has it.
      }
      if (outcome.refusal !== undefined) return;
      if (length === null || check.received !== length) return;
      try {
        yield* await check.end();
      } catch (error) {
        if (!isRefusal(error)) throw error;
        outcome.refusal = error;
      }
    }
    // The output is the body's bytes stripped (rarely a few bytes more: a rewritten header),
    // after what the catch-up put out.
    const maxBytes = room + first.reduce((sum, part) => sum + part.length, 0) + 64 * 1024;
    const size = await this.writeOutput(record, name, Readable.from(output()), length, maxBytes);
    const piece = size === 0 ? undefined : { name, offset: record.offset, size };
    const failure = outcome.tooLarge
      ? tooLarge(length)
      : !checked.matches()
        ? new AppError('upload_checksum_mismatch')
        : undefined;
    if (failure !== undefined || size === 0) {
      await this.discardPieces(record.id, [{ name, offset: record.offset, size }]);
    }
    if (failure !== undefined) throw failure;
    return { piece, ...(outcome.refusal === undefined ? {} : { refusal: outcome.refusal }) };
  }

  /**
   * The raw bytes received past what the staged output stands for, staged beside the pieces
   * as the record's tail piece (ArrivalRecord.tailPiece), for a catch-up to feed the walk.
   */
  private async writeTail(
    record: UploadRecord,
    tail: Buffer,
    length: number | null,
  ): Promise<UploadPiece> {
    const name = pieceNameAt(record.offset);
    const size = await this.writeOutput(record, name, Readable.from([tail]), length, tail.length);
    return { name, offset: record.offset, size };
  }

  private async writeOutput(
    record: UploadRecord,
    name: string,
    output: Readable,
    length: number | null,
    maxBytes: number,
  ): Promise<number> {
    try {
      return await this.staging.bytes.writePiece(record.id, name, output, { maxBytes });
    } catch (error) {
      await this.discardPieces(record.id, [{ name, offset: record.offset, size: 0 }]);
      if (isStagingError(error, 'too_large')) throw tooLarge(length, error);
      if (isStagingError(error, 'conflict')) throw new AppError('not_found', { cause: error });
      throw storageUnavailable(error);
    }
  }

  /**
   * The rare path: this instance has no walk of the upload at its committed state (another
   * instance served it, this one restarted, a PATCH failed after its bytes were walked). The
   * staged output is read back once and walked again (ArrivalCheck.catchUp).
   */
  private async catchUp(
    record: UploadRecord & { readonly arrival: ArrivalRecord },
    options: ArrivalOptions,
  ): Promise<{ check: ArrivalCheck; output: Buffer[] } | undefined> {
    const { tailPiece } = record.arrival;
    const tail =
      tailPiece === undefined ? undefined : await this.readStaged(record.id, [tailPiece]);
    const stream = this.staging.bytes.readPieces(record.id, record.pieces);
    try {
      return await ArrivalCheck.catchUp(
        options,
        record.sniffedType,
        record.offset,
        record.arrival,
        stream,
        tail,
      );
    } catch (error) {
      throw isAppError(error) ? error : storageUnavailable(error);
    } finally {
      stream.destroy();
    }
  }

  /**
   * The walk's state cannot be established from staging (a record whose tail was too long to
   * keep, staged bytes that do not walk to themselves): rather than guess, and never refuse a
   * valid image, the upload starts again from its first byte. The client learns it as a
   * conflict, and HEAD answers offset 0, from which tus clients send the file again. The next
   * generation begins: a walk another instance holds of the last one is not taken for it.
   */
  private async restart(record: UploadRecord, version: string): Promise<AppError> {
    const restarted: UploadRecord = {
      ...record,
      offset: 0,
      pieces: [],
      sniffedType: undefined,
      patches: 0,
      arrival: { ...noArrival, generation: (record.arrival?.generation ?? 0) + 1 },
      expiresAt: this.expiry(),
    };
    await this.commit(restarted, version);
    await this.removeEveryPiece(record.id);
    return new AppError('upload_offset_mismatch');
  }

  /** The upload takes no more bytes: its walk and its open request go. */
  private ended(id: string): void {
    this.checks.drop(id);
    this.options.onEnded?.(id);
  }

  /**
   * A store failure while the upload was terminated or moved on under this PATCH (its pieces
   * gone from under the finish, say) is that conflict, not an outage: 404 once the upload is
   * gone, 409 once another request changed it. Anything else stays what it was.
   */
  private async conflictOr(id: string, version: string, error: unknown): Promise<unknown> {
    if (!isAppError(error) || error.code !== 'storage_unavailable') return error;
    const now = await this.staging.records.read(id).catch(() => ({ version }));
    if (now === undefined) return new AppError('not_found', { cause: error });
    if (now.version !== version) return new AppError('upload_offset_mismatch', { cause: error });
    return error;
  }

  /**
   * The last byte is in: the pipeline reads the committed pieces and the last one. Only once
   * it stored the image does the record say "done", so a store outage here (503) leaves the
   * upload where it was (the caller discards the last piece), and a retried PATCH finishes it;
   * the image id comes from the upload's own key, so a finish retried after a crash finds the
   * same image rather than storing a second one. A refused image ends the upload ("rejected", pieces
   * removed) and the client gets the pipeline's error.
   */
  private async finish(
    record: UploadRecord & { readonly length: number },
    version: string,
    pieces: readonly UploadPiece[],
    base: BaseIngestContext,
    check?: ArrivalCheck,
  ): Promise<UploadRecord> {
    // The client may go away now: the image is finished all the same, for its next HEAD.
    const context = uploadIngestContext(record, { ...base, signal: undefined }, idempotencyKeyOf(record));
    let done: UploadRecord;
    try {
      const image = await this.publish(record, pieces, context, check);
      done = {
        ...record,
        offset: record.length,
        pieces: [],
        state: 'done',
        image: keptImage(image),
        expiresAt: this.expiry(),
      };
    } catch (error) {
      if (!isRefusal(error)) throw error;
      throw await this.reject({ ...record, offset: record.length }, version, error);
    }
    try {
      await this.commit(done, version);
    } catch (error) {
      // Another instance finished the same bytes at the same moment: same key, same image.
      const now = await this.staging.records.read(record.id).catch(() => undefined);
      const current = now === undefined ? undefined : parseUploadRecord(now.record, record.id);
      if (current?.state !== 'done') throw error;
      done = current;
    }
    this.ended(record.id);
    await this.removeEveryPiece(record.id);
    return done;
  }

  /**
   * The finished upload's image, stored. Checked as it arrived, with nothing left to learn from
   * its bytes (structure mode, nothing derived) and a staging that can, its staged pieces are
   * published as they are, with the check's facts and hash: not read again. Otherwise they
   * run through the pipeline, read once.
   */
  private async publish(
    record: UploadRecord & { readonly length: number },
    pieces: readonly UploadPiece[],
    context: IngestContext,
    check: ArrivalCheck | undefined,
  ): Promise<IngestedImage> {
    const hints = hintsOf(record);
    const type = check?.type;
    const facts = check?.facts();
    const publishPieces = this.staging.bytes.publishPieces;
    if (
      check !== undefined &&
      type !== undefined &&
      facts !== undefined &&
      publishPieces !== undefined &&
      pieces.length > 0 &&
      publishesAsChecked(type.contentType, context)
    ) {
      const fingerprint = { bytes: check.staged, sha256: check.sha256(), md5: undefined };
      const write = (name: string, options: PutOptions): Promise<void> =>
        publishPieces(record.id, pieces, name, options);
      return publishCheckedImage({ type, facts, fingerprint, hints, write }, context);
    }
    const bytes = this.staging.bytes.readPieces(record.id, pieces);
    return completeStagedUpload({ bytes, size: check?.staged ?? record.length, hints }, context);
  }

  /**
   * Once the upload holds enough bytes to tell its type, the pipeline's own sniff decides it
   * (the same bytes it will sniff at the finish): a refused type (SVG, HTML, an executable, a
   * type not allowed) ends the upload at this PATCH, rejected and its bytes removed, rather
   * than after its last byte. The head is read back from staging (a few KiB, once per
   * upload), so it does not matter how the bytes were split into PATCHes or instances.
   */
  private async sniffWhenEnough(
    record: UploadRecord,
    version: string,
    pieces: readonly UploadPiece[],
    base: BaseIngestContext,
  ): Promise<string | undefined> {
    if (record.offset < sniffSampleBytes) return undefined;
    const head = await this.readHead(record.id, pieces);
    try {
      return (await sniffImageType(head, base.limits.allowedTypes)).contentType;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      throw await this.reject({ ...record, pieces }, version, error);
    }
  }

  /** The first sniffSampleBytes of the staged pieces. */
  private async readHead(id: string, pieces: readonly UploadPiece[]): Promise<Buffer> {
    return (await this.readStaged(id, pieces, sniffSampleBytes)).subarray(0, sniffSampleBytes);
  }

  /** The staged pieces' bytes, or at least their first `upTo`. */
  private async readStaged(
    id: string,
    pieces: readonly UploadPiece[],
    upTo = Infinity,
  ): Promise<Buffer> {
    const stream = this.staging.bytes.readPieces(id, pieces);
    const chunks: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const chunk of stream) {
        chunks.push(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        if (bytes >= upTo) break;
      }
    } catch (error) {
      throw storageUnavailable(error);
    } finally {
      stream.destroy();
    }
    return Buffer.concat(chunks);
  }

  /**
   * A refused upload ends: its record says why (GET /v1/uploads/{id}; HEAD answers 410) and
   * every piece goes. Answers the refusal, for the caller to throw.
   */
  private async reject(record: UploadRecord, version: string, refusal: AppError): Promise<AppError> {
    const rejected: UploadRecord = {
      ...record,
      pieces: [],
      state: 'rejected',
      error: refusal.code,
      expiresAt: this.expiry(),
    };
    await this.commit(rejected, version);
    this.ended(record.id);
    await this.removeEveryPiece(record.id);
    return refusal;
  }

  private async writePiece(
    record: UploadRecord,
    request: PatchRequest,
    length: number | null,
    room: number,
  ): Promise<UploadPiece | undefined> {
    if (record.pieces.length >= maxUploadPieces) throw new AppError('too_many_upload_pieces');
    const piece = { name: pieceNameAt(record.offset), offset: record.offset };
    // A cut body fails the pass-through, which the staging driver takes as the end of what
    // arrived; a body cut while the record was read is cut already (see pipeBody).
    const checked = pipeBody(request.body, new ChecksumPassThrough(request.checksum));
    let size: number;
    try {
      size = await this.staging.bytes.writePiece(record.id, piece.name, checked, { maxBytes: room });
    } catch (error) {
      await this.discardPieces(record.id, [{ ...piece, size: 0 }]);
      if (isStagingError(error, 'too_large')) throw tooLarge(length, error);
      if (isStagingError(error, 'conflict')) throw new AppError('not_found', { cause: error });
      throw storageUnavailable(error);
    }
    if (!checked.matches()) {
      await this.discardPieces(record.id, [{ ...piece, size }]);
      throw new AppError('upload_checksum_mismatch');
    }
    if (size === 0) {
      await this.discardPieces(record.id, [{ ...piece, size }]);
      return undefined;
    }
    return { ...piece, size };
  }

  /** Commits the next state at the version read; another writer first means 409. */
  private async commit(next: UploadRecord, version: string): Promise<void> {
    try {
      await this.staging.records.replace(next.id, next, version);
    } catch (error) {
      if (isStagingError(error, 'conflict')) {
        throw new AppError('upload_offset_mismatch', { cause: error });
      }
      throw storageUnavailable(error);
    }
  }

  /**
   * A finished or refused upload's record names no piece, and no PATCH can add one: every
   * piece goes, including one left by an instance killed mid-PATCH, which no record names.
   */
  private async removeEveryPiece(id: string): Promise<void> {
    await this.staging.bytes.removePieces(id).catch(() => {});
  }

  /** Removes the pieces named (a refused or uncommitted write), where removeEveryPiece removes all. */
  private async discardPieces(id: string, pieces: readonly UploadPiece[]): Promise<void> {
    // Best effort: what stays behind is the sweep's (and the bucket lifecycle rule's).
    await Promise.all(pieces.map((piece) => this.staging.bytes.removePiece(id, piece).catch(() => {})));
  }

  /**
   * The upload, if this caller may see it (readOwnUpload). A used-up partial is kept only for
   * its final upload's retry: to every other request it is gone.
   */
  private async readOwn(
    id: string,
    owner: string | undefined,
  ): Promise<{ record: UploadRecord; version: string }> {
    const found = await readOwnUpload(this.staging.records, id, owner);
    if (found === undefined || isUsedUp(found.record)) throw new AppError('not_found');
    return found;
  }

  private assertLive(record: UploadRecord): void {
    if (record.state === 'rejected') throw new AppError('upload_rejected');
    if (record.state === 'receiving' && isExpired(record, this.now())) {
      throw new AppError('upload_expired');
    }
  }

  /** The length after this PATCH: a deferred one may be set once, never changed. */
  private lengthAfter(record: UploadRecord, requested: number | undefined): number | null {
    if (requested === undefined) return record.length;
    if (record.length !== null) {
      if (requested !== record.length) throw new AppError('invalid_upload_length');
      return record.length;
    }
    this.checkLength(requested, record.offset);
    return requested;
  }

  private checkLength(length: number, offset: number): void {
    if (length > this.options.maxImageBytes) throw tooLarge(null);
    if (length === 0) throw new AppError('empty_image');
    if (length < offset) throw new AppError('invalid_upload_length');
  }

  private expiry(): string {
    return expiryFrom(this.now(), this.options.expiresSeconds);
  }

  private async staged<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isStagingError(error, 'exists')) throw error;
      if (isStagingError(error)) throw stagingFailure(error);
      throw error;
    }
  }
}

/**
 * The image of a finished upload, as POST /v1/images answered it: an anonymous upload's delete
 * token is derived again from the image's id under UPLOADER_SECRET, as the pipeline made it,
 * never read from the record.
 */
export async function finishedImage(
  record: UploadRecord & { readonly image: CreatedImage },
  keys: UploaderKeys,
): Promise<CreatedImage> {
  const { deleteToken: _stored, ...image } = record.image;
  if (record.owner !== null) return image;
  return { ...image, deleteToken: await keys.deleteToken(image.id) };
}

/** What a tus upload's client said of its bytes (Upload-Metadata): hints for the pipeline only. */
export function hintsOf(record: UploadRecord): ImageHints {
  return {
    filename: record.filename ?? undefined,
    declaredType: record.filetype ?? undefined,
    focus: record.focus ?? undefined,
  };
}

/** The pipeline's context for a tus upload's image: its owner's, under `idempotencyKey`. */
export function uploadIngestContext(
  record: UploadRecord,
  base: BaseIngestContext,
  idempotencyKey: string,
): IngestContext {
  return { ...base, owner: record.owner ?? undefined, scope: record.owner ?? '', idempotencyKey };
}

/**
 * A finished upload's image as its record keeps it: without the delete token (finishedImage
 * derives it again), so the record holds no secret that works on the image itself.
 */
export function keptImage(image: IngestedImage): CreatedImage {
  return createdImage({ ...image, deleteToken: undefined });
}

/** PATCHes the upload took so far, each a record rewrite (UploadRecord.patches). */
function patchesOf(record: UploadRecord): number {
  return record.patches ?? record.pieces.length;
}

/** A new upload's arrival state: nothing received. */
const noArrival: ArrivalRecord = { staged: 0, tail: '' };

/** The arrival check walks as the pipeline would (same types, budget and metadata policy). */
function arrivalOptionsOf(base: BaseIngestContext): ArrivalOptions {
  return {
    allowedTypes: base.limits.allowedTypes,
    maxPixels: (base.validation ?? defaultImageValidation).maxPixels,
    strip: base.metadata !== 'keep',
  };
}

/**
 * The finished image's idempotency key: the upload's own, so a retried finish finds the same
 * image; and its generation's, so an image published by a finish whose upload was then started
 * again (its commit lost) is not answered for the other bytes sent since.
 */
export function idempotencyKeyOf(record: UploadRecord): string {
  const generation = record.arrival?.generation ?? 0;
  const secret = generation === 0 ? record.secret : `${record.secret}.${generation}`;
  return stagedUploadKey('tus', record.id, secret);
}

/**
 * One limit, one error: past MAX_IMAGE_BYTES (a deferred upload has no other bound) is the
 * pipeline's payload_too_large; past the upload's own Upload-Length is upload_too_large.
 */
function tooLarge(length: number | null, cause?: unknown): AppError {
  return new AppError(length === null ? 'payload_too_large' : 'upload_too_large', { cause });
}

/** A new piece's name: the offset it starts at, and a random part (two writers never share one). */
function pieceNameAt(offset: number): string {
  return `${offset}-${randomBytes(8).toString('hex')}`;
}
