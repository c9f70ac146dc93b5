import { createHash, type Hash } from 'node:crypto';
import { isAppError } from '../errors.js';
import { createImageWalk, type ContainerWalker, type ImageFacts } from '../images/formats/index.js';
import { isKnownImageType, knownImageTypes, type ImageMimeType } from '../images/image-types.js';
import {
  assertAllowedType,
  sniffImageType,
  sniffSampleBytes,
  type SniffedType,
} from '../ingest/sniff.js';

export interface ArrivalOptions {
  readonly allowedTypes: readonly ImageMimeType[];
  /** MAX_IMAGE_PIXELS: the walk's budget. */
  readonly maxPixels: number;
  /** IMAGE_METADATA=strip: what is staged is the image without its metadata. */
  readonly strip: boolean;
}

/**
 * What an upload's record keeps of its arrival check, for another instance (or this one after
 * a restart) to catch up: the staged bytes are the walk's output, and `tail` the bytes received
 * after what that output stands for (a header being read, a metadata segment being dropped).
 */
export interface ArrivalRecord {
  /** Bytes staged: the walk's output so far, every piece together. */
  readonly staged: number;
  /**
   * Base64, in a record written before `tailPiece`; null when `tailPiece` holds the bytes
   * (so an instance that predates it starts the upload again rather than lose them), or when
   * more was held than is kept (no catching up then).
   */
  readonly tail: string | null;
  /**
   * The tail's raw bytes, staged beside the pieces (named by the service, never in `pieces`),
   * so the record every PATCH rewrites stays small.
   */
  readonly tailPiece?: { readonly name: string; readonly offset: number; readonly size: number };
  /**
   * Raw bytes from the tail on that the walk puts out as zeros (a dropped chunk kept at its
   * size): a walk fed the staged output may take the zeros so far for a chunk it passes, so it
   * is fed zeros for these bytes too (`ContainerWalker.zeroing`).
   */
  readonly zeroing?: number | undefined;
  /**
   * How many times the upload started again from its first byte (TusUploads.restart): a walk
   * held in memory stands for the bytes of one generation only, and the same offsets reached
   * again by other bytes must not find it.
   */
  readonly generation?: number | undefined;
}

/**
 * Raw bytes kept past the staged output (held in memory between PATCHes, staged as the
 * record's tail piece); a metadata segment is far smaller.
 */
const maxTailBytes = 256 * 1024;

/**
 * A tus upload checked as its bytes arrive: the first sniffSampleBytes decide the type (a
 * refused one throws at once), then every byte passes once through the walk of its format,
 * which checks the structure, reads the facts and strips the metadata; its output is what is
 * staged, hashed as it goes, so the finish has the published bytes and their sha256 already.
 *
 * A walk is a generator and cannot be saved. Where it is lost (another instance takes the
 * upload, a restart, a PATCH that wrote bytes and then failed), `catchUp` walks the staged
 * bytes again: stripping is idempotent, so a walk fed the staged output reaches the state the
 * first walk had when it last put anything out (`ContainerWalker.outputThrough`), and the
 * record's tail, fed after, brings it to where the first walk stood. That the staged bytes walk
 * to themselves byte for byte is checked, not assumed; where it does not hold, the caller
 * starts the upload again rather than guess.
 *
 * `write` and `end` throw the pipeline's AppErrors (unsupported_image_type, undecodable_image,
 * too_many_pixels) as soon as the bytes prove the upload refused.
 */
export class ArrivalCheck {
  /** Raw bytes received and walked. */
  received = 0;
  /** Bytes put out (to be staged). */
  staged = 0;
  private sniffed: SniffedType | undefined;
  /** Undefined before the type is known, and for a type without a grammar (output = input). */
  private walker: ContainerWalker | undefined;
  private readonly hash: Hash = createHash('sha256');
  private digest: string | undefined;
  /** Received bytes from which on the raw input is retained; the walk's input position 0. */
  private walkerBase = 0;
  /** Raw bytes still held: from `retainedFrom` on, until the output stands for them. */
  private retained: Buffer[] = [];
  private retainedFrom = 0;
  private retainedBytes = 0;
  /** Before the type is known: the raw bytes so far. */
  private head: Buffer[] = [];
  /** Raw bytes still to come that this walk is fed as zeros (ArrivalRecord.zeroing). */
  private zeros = 0;

  private constructor(
    private readonly options: ArrivalOptions,
    /** ArrivalRecord.generation: the upload's bytes this check walks. */
    readonly generation: number,
  ) {}

  /** A new upload's check (or a restarted one's, at `generation`): nothing received. */
  static start(options: ArrivalOptions, generation = 0): ArrivalCheck {
    return new ArrivalCheck(options, generation);
  }

  /**
   * The check of an upload that has `received` raw bytes, `record` as its record says, and the
   * staged bytes `staged` (streamed back): the staged bytes are walked and hashed, the tail fed.
   * Answers the check and the output of the tail (staged next), or undefined when the state
   * cannot be established: a tail too long to keep, staged bytes that do not walk to themselves.
   * Throws the check's refusals: a type not allowed here, a tail the walk refuses.
   */
  static async catchUp(
    options: ArrivalOptions,
    type: string | undefined,
    received: number,
    record: ArrivalRecord,
    staged: AsyncIterable<Buffer>,
    /** The bytes of `record.tailPiece`, read back. */
    tailPiece?: Buffer,
  ): Promise<{ check: ArrivalCheck; output: Buffer[] } | undefined> {
    if (record.tailPiece !== undefined && tailPiece === undefined) return undefined;
    const tail = tailPiece ?? (record.tail === null ? undefined : Buffer.from(record.tail, 'base64'));
    if (tail === undefined) return undefined;
    const check = new ArrivalCheck(options, record.generation ?? 0);
    const resumeAt = received - tail.length;
    if (type === undefined) {
      if (record.staged !== 0 || resumeAt !== 0) return undefined;
    } else {
      if (!isKnownImageType(type)) return undefined;
      // The type was sniffed under the allowed types of the instance that took the first
      // bytes; this one's may be fewer.
      assertAllowedType(type, options.allowedTypes);
      check.useType({ contentType: type, extension: knownImageTypes[type] });
      if (!(await check.walkStaged(staged, record.staged))) return undefined;
      check.walkerBase = resumeAt - record.staged;
      check.received = resumeAt;
      check.retainedFrom = resumeAt;
      check.zeros = record.zeroing ?? 0;
    }
    const output = tail.length === 0 ? [] : await check.write(tail);
    return { check, output };
  }

  /** The type, once the first bytes decided it. */
  get type(): SniffedType | undefined {
    return this.sniffed;
  }

  /** Walks the next raw bytes; answers the output to stage. */
  async write(raw: Buffer): Promise<Buffer[]> {
    if (raw.length === 0) return [];
    this.received += raw.length;
    this.retain(raw);
    if (this.sniffed === undefined) {
      this.head.push(raw);
      if (this.received < sniffSampleBytes) return [];
      return this.decideType();
    }
    return this.walked(this.walker?.write(this.zeroed(raw)) ?? [raw]);
  }

  private zeroed(raw: Buffer): Buffer {
    if (this.zeros === 0) return raw;
    const zeros = Math.min(this.zeros, raw.length);
    this.zeros -= zeros;
    return Buffer.concat([Buffer.alloc(zeros), raw.subarray(zeros)]);
  }

  /** The input is complete: answers the rest of the output. Throws if the image is cut off. */
  async end(): Promise<Buffer[]> {
    const out = this.sniffed === undefined ? await this.decideType() : [];
    out.push(...this.walked(this.walker?.end() ?? []));
    this.digest = this.hash.digest('hex');
    return out;
  }

  /** The sha256 of everything staged; once `end` has succeeded. */
  sha256(): string {
    if (this.digest === undefined) throw new Error('the arrival check has not ended');
    return this.digest;
  }

  /** What the walk learnt; complete once `end` has succeeded (undefined without a grammar). */
  facts(): ImageFacts | undefined {
    return this.walker?.facts();
  }

  /** What the upload's record keeps of this check, the tail in it (base64). */
  record(): ArrivalRecord {
    const { tail, ...held } = this.held();
    return { ...held, tail: tail?.toString('base64') ?? null };
  }

  /** What the upload keeps of this check, the tail as raw bytes (null: too long to keep). */
  held(): Omit<ArrivalRecord, 'tail'> & { readonly tail: Buffer | null } {
    const through = this.rawThrough();
    const tailBytes = this.received - through;
    const generation = this.generation > 0 ? { generation: this.generation } : {};
    if (through < this.retainedFrom || tailBytes > maxTailBytes) {
      return { staged: this.staged, tail: null, ...generation };
    }
    const all = Buffer.concat(this.retained, this.retainedBytes);
    const zeroing = Math.max(this.zeros, this.walker?.zeroing ?? 0);
    return {
      staged: this.staged,
      tail: all.subarray(through - this.retainedFrom),
      ...(zeroing > 0 ? { zeroing } : {}),
      ...generation,
    };
  }

  /**
   * Copies the held raw bytes out of the request's buffers, which they would otherwise keep
   * whole (a few bytes of a 64 KiB socket read), while the check waits for the next PATCH.
   */
  compact(): void {
    if (this.retained.length === 0) return;
    this.retained = [Buffer.concat(this.retained, this.retainedBytes)];
  }

  private async decideType(): Promise<Buffer[]> {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.useType(await sniffImageType(head, this.options.allowedTypes));
    return this.walked(this.walker?.write(head) ?? [head]);
  }

  private useType(type: SniffedType): void {
    this.sniffed = type;
    this.walker = createImageWalk(type.contentType, this.options.maxPixels, {
      strip: this.options.strip,
    });
  }

  /** Counts and hashes the output, and lets go of raw bytes it now stands for. */
  private walked(out: Buffer[]): Buffer[] {
    const parts = out.filter((part) => part.length > 0);
    for (const part of parts) {
      this.staged += part.length;
      this.hash.update(part);
    }
    this.release(this.rawThrough());
    if (this.retainedBytes > maxTailBytes) {
      // Past what a record carries: kept no longer; the record says so until the output
      // stands for these bytes.
      this.retained = [];
      this.retainedBytes = 0;
      this.retainedFrom = this.received;
    }
    return parts;
  }

  /** Raw bytes the output so far stands for. */
  private rawThrough(): number {
    if (this.sniffed === undefined) return 0;
    if (this.walker === undefined) return this.received;
    return this.walkerBase + this.walker.outputThrough;
  }

  private retain(raw: Buffer): void {
    this.retained.push(raw);
    this.retainedBytes += raw.length;
  }

  private release(through: number): void {
    while (this.retained.length > 0) {
      const first = this.retained[0]!;
      const end = this.retainedFrom + first.length;
      if (end > through) break;
      this.retained.shift();
      this.retainedBytes -= first.length;
      this.retainedFrom = end;
    }
  }

  /**
   * Walks the staged bytes (`bytes` of them) and checks that the walk puts them out unchanged;
   * hashes them. False where the state of the first walk cannot be so established.
   */
  private async walkStaged(staged: AsyncIterable<Buffer>, bytes: number): Promise<boolean> {
    const walker = this.walker;
    const unmatched = new Unmatched();
    let seen = 0;
    try {
      for await (const chunk of staged) {
        seen += chunk.length;
        if (seen > bytes) return false;
        this.hash.update(chunk);
        if (walker === undefined) continue;
        unmatched.push(chunk);
        for (const part of walker.write(chunk)) if (!unmatched.match(part)) return false;
      }
    } catch (error) {
      // The walk refused the staged bytes; the store's failure is the caller's to see.
      if (isAppError(error) && error.status < 500) return false;
      throw error;
    }
    if (seen !== bytes) return false;
    this.staged = bytes;
    if (walker === undefined) return true;
    return unmatched.empty && walker.outputThrough === bytes;
  }
}

/** Staged bytes not yet matched by the walk's output. */
class Unmatched {
  private chunks: Buffer[] = [];

  get empty(): boolean {
    return this.chunks.length === 0;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  /** Whether `part` is what comes next; consumes it. */
  match(part: Buffer): boolean {
    let rest = part;
    while (rest.length > 0) {
      const first = this.chunks[0];
      if (first === undefined) return false;
      const take = Math.min(first.length, rest.length);
      if (!first.subarray(0, take).equals(rest.subarray(0, take))) return false;
      rest = rest.subarray(take);
      if (take === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(take);
    }
    return true;
  }
}

/**
 * The arrival checks this instance holds, by upload id, each for the upload's state at one
 * raw offset: a PATCH takes its upload's check (so two PATCHes of one upload never feed one
 * walk) and gives it back once its state is committed. Bounded: a check let go is caught up
 * again from staging if its upload goes on.
 */
export class ArrivalChecks {
  private readonly checks = new Map<string, { check: ArrivalCheck; expiresAt: number }>();

  constructor(private readonly maxChecks = 256) {}

  /**
   * The check of `id` at raw offset `received`, with `arrival.staged` bytes staged, in the
   * upload's generation (the same offsets reached again after a restart are other bytes);
   * removed from here.
   */
  take(id: string, received: number, arrival: ArrivalRecord): ArrivalCheck | undefined {
    const kept = this.checks.get(id);
    this.checks.delete(id);
    const check = kept?.check;
    if (
      check === undefined ||
      check.received !== received ||
      check.staged !== arrival.staged ||
      check.generation !== (arrival.generation ?? 0)
    ) {
      return undefined;
    }
    return check;
  }

  /** Keeps the check of an upload whose state it now matches, until the upload expires. */
  keep(id: string, check: ArrivalCheck, expiresAt: Date): void {
    const now = Date.now();
    check.compact();
    this.checks.delete(id);
    this.checks.set(id, { check, expiresAt: expiresAt.getTime() });
    // Oldest first: the expired, then past the bound.
    for (const [other, { expiresAt: expiry }] of this.checks) {
      if (this.checks.size <= this.maxChecks && expiry > now) break;
      this.checks.delete(other);
    }
  }

  /** The upload ended (finished, refused, terminated): its check goes. */
  drop(id: string): void {
    this.checks.delete(id);
  }
}
