import { isAppError, type AppError } from '../../errors.js';
import { ByteQueue } from '../byte-queue.js';
import type { ImageMimeType } from '../image-types.js';
import {
  tooManyDecodedPixels,
  tooManyFramePixels,
  tooManyPixels,
  undecodable,
  type FactsSeen,
  type Grammar,
  type GrammarContext,
  type ImageFacts,
  type Step,
} from './grammar.js';
import { gif } from './gif.js';
import { isobmff } from './isobmff.js';
import { jpeg } from './jpeg.js';
import { png } from './png.js';
import { webp } from './webp.js';

export interface WalkOptions {
  /**
   * Keep the image without its location and personal metadata as the output (`write` and
   * `end` answer it); otherwise the output is the input itself, checked.
   */
  readonly strip?: boolean | undefined;
}

/** EXIF orientations that turn the image by a quarter, so its displayed axes are swapped. */
function swapsAxes(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/** The one error a walk throws for bytes it cannot read (a RangeError included). */
function asImageError(error: unknown): AppError {
  if (isAppError(error)) return error;
  return undecodable('its container cannot be read');
}

const zeroBlock = 64 * 1024;

/**
 * The one driver under every format's grammar: it feeds the grammar the bytes as they arrive,
 * so that a header split across chunks reads the same as a whole one, and only the bytes a
 * grammar asked to read are ever held (headers and metadata segments, never the image data).
 * Nothing may follow the end of the container. The structure is checked, the facts read and
 * (with `strip`) the metadata dropped in this one pass: no byte is looked at twice.
 *
 * `write` and `end` throw AppErrors (undecodable_image, too_many_pixels) as soon as the bytes
 * prove the image bad, and after a throw every later call throws the same.
 */
export class ContainerWalker {
  private readonly grammar: Grammar;
  private request: Step | undefined;
  private readonly queue = new ByteQueue();
  private readonly strip: boolean;
  private out: Buffer[] = [];
  private ended = false;
  private done = false;
  private failure: AppError | undefined;
  /** What is left of the current pass or drop; -1 before it starts. */
  private remaining = -1;
  private consumed = 0;
  /** Output parts put out so far (a count, to tell whether a step put out anything). */
  private produced = 0;
  /** `produced` when `through` was last set. */
  private notedProduced = 0;
  /** Input consumed when the walk last put anything out (outputThrough). */
  private through = 0;
  private readonly seen: FactsSeen = {};

  constructor(type: ImageMimeType, maxPixels: number, options: WalkOptions = {}) {
    this.strip = options.strip === true;
    const context: GrammarContext = {
      seen: this.seen,
      stripping: this.strip,
      position: () => this.consumed,
      checkPixels: (width, height) => {
        if (width === 0 || height === 0) throw undecodable('it declares a zero width or height');
        if (width * height > maxPixels) throw tooManyPixels(width, height, maxPixels);
      },
      checkDecodedPixels: (pixels, what) => {
        if (pixels > maxPixels) throw tooManyDecodedPixels(pixels, what, maxPixels);
      },
      // A decoder of every frame allocates the canvas once per frame: an animation's budget is
      // all of its frames together, or a GIF of 10,000 full-size frames would pass.
      checkFrames: (frames) => {
        const { width = 0, height = 0 } = this.seen;
        if (frames * width * height > maxPixels) {
          throw tooManyFramePixels(frames, width, height, maxPixels);
        }
      },
    };
    this.grammar = grammarFor(type, context);
    this.guard(() => this.advance(undefined));
  }

  /**
   * Bytes of input the output put out so far stands for: the input consumed when the walk last
   * put anything out (without `strip`, every byte written). Nothing put out since depends on the
   * input after it, so a walk fed that output (stripping is idempotent) and then the input from
   * here on goes on as this one does: where a tus upload resumes on another instance.
   */
  get outputThrough(): number {
    return this.strip ? this.through : this.consumed + this.queue.length;
  }

  /**
   * Bytes of input still to come that the walk will put out as zeros (a dropped chunk kept at
   * its size). The zeros already put out may read, to a walk fed the output, as a chunk it
   * passes: such a walk must be fed zeros for these bytes too, not the input.
   */
  get zeroing(): number {
    const request = this.request;
    if (!this.strip || request?.kind !== 'drop' || request.zero !== true) return 0;
    return this.remaining < 0 ? request.bytes : this.remaining;
  }

  /** What the walk learnt; complete once `end` has succeeded. */
  facts(): ImageFacts {
    const { width = 0, height = 0, frames, orientation = 1, displayed = false } = this.seen;
    const swap = !displayed && swapsAxes(orientation);
    return {
      width: swap ? height : width,
      height: swap ? width : height,
      frames: frames !== undefined && frames > 1 ? frames : undefined,
      orientation,
    };
  }

  /**
   * Feeds the next bytes; answers the output they complete: with `strip`, the stripped bytes
   * (they may share memory with the chunks written); without, the chunk itself.
   */
  write(chunk: Buffer): Buffer[] {
    const out = this.guard(() => {
      if (chunk.length === 0) return;
      if (this.done) throw undecodable('there are bytes after the end of the image');
      this.queue.push(chunk);
      this.pump();
    });
    return this.strip ? out : chunk.length === 0 ? [] : [chunk];
  }

  /** Declares the input complete; answers the rest of the output. Throws if it is cut off. */
  end(): Buffer[] {
    return this.guard(() => {
      this.ended = true;
      this.pump();
      if (!this.done) throw undecodable('the file ends before the image does');
    });
  }

  /** Runs a step; once one has failed, every later call fails the same way. */
  private guard(step: () => void): Buffer[] {
    if (this.failure !== undefined) throw this.failure;
    try {
      step();
    } catch (error) {
      this.failure = asImageError(error);
      this.queue.clear();
      this.out = [];
      throw this.failure;
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  private advance(answer: Buffer | undefined): void {
    const next = this.grammar.next(answer);
    if (next.done === true) {
      this.done = true;
      this.request = undefined;
    } else {
      this.request = next.value;
      this.remaining = -1;
    }
  }

  private pump(): void {
    try {
      this.pumpSteps();
    } finally {
      this.noteOutput();
    }
  }

  private pumpSteps(): void {
    for (;;) {
      this.noteOutput();
      const request = this.request;
      if (request === undefined) {
        if (this.queue.length > 0) throw undecodable('there are bytes after the end of the image');
        return;
      }
      switch (request.kind) {
        case 'read':
        case 'readOrEnd': {
          if (this.queue.length >= request.bytes) {
            this.consumed += request.bytes;
            this.advance(this.queue.take(request.bytes));
            continue;
          }
          if (!this.ended) return;
          if (request.kind === 'readOrEnd' && this.queue.length === 0) {
            this.advance(undefined);
            continue;
          }
          throw undecodable('the file ends before the image does');
        }
        case 'pass':
        case 'drop': {
          if (this.remaining < 0) this.remaining = request.bytes;
          const consumed = this.queue.consume(this.remaining, this.seerOf(request));
          this.remaining -= consumed;
          this.consumed += consumed;
          if (this.remaining > 0) {
            if (this.ended) throw undecodable('the file ends before the image does');
            return;
          }
          this.advance(undefined);
          continue;
        }
        case 'emit': {
          if (this.strip && request.bytes.length > 0) this.put(request.bytes);
          this.advance(undefined);
          continue;
        }
        case 'passToEnd': {
          const rest = this.queue.takeAll();
          for (const part of rest) this.consumed += part.length;
          if (this.strip) for (const part of rest) this.put(part);
          if (!this.ended) return;
          this.advance(undefined);
          continue;
        }
        case 'passEntropy': {
          // The scan passes as it arrives; only a 0xFF on a chunk boundary waits for the byte
          // that tells what it is.
          const before = this.queue.length;
          const found = this.queue.skipEntropy(this.strip ? this.output : undefined);
          this.consumed += before - this.queue.length;
          if (!found) {
            if (this.ended) throw undecodable('the JPEG scan data is cut off');
            return;
          }
          this.advance(undefined);
          continue;
        }
        case 'end': {
          if (this.queue.length > 0)
            throw undecodable('there are bytes after the end of the image');
          this.advance(undefined);
          continue;
        }
      }
    }
  }

  private readonly output = (part: Buffer): void => {
    this.put(part);
  };

  private put(part: Buffer): void {
    this.out.push(part);
    this.produced += 1;
  }

  /** After a step: if it put anything out, the output now stands for the input consumed. */
  private noteOutput(): void {
    if (this.produced === this.notedProduced) return;
    this.notedProduced = this.produced;
    // A 0xFF held back at the end of a scan is consumed but not put out yet.
    this.through = this.consumed - (this.queue.holdsFf ? 1 : 0);
  }

  /** What looks at the bytes a pass or drop consumes: the grammar's seer, and the output. */
  private seerOf(request: Step & { kind: 'pass' | 'drop' }): ((part: Buffer) => void) | undefined {
    const see = request.see;
    let put: ((part: Buffer) => void) | undefined;
    if (this.strip) {
      if (request.kind === 'pass') put = this.output;
      else if (request.zero === true) put = (part) => this.emitZeros(part.length);
    }
    if (see === undefined) return put;
    if (put === undefined) return see;
    return (part) => {
      see(part);
      put(part);
    };
  }

  private emitZeros(bytes: number): void {
    // Fresh buffers, not one shared block: the caller owns what it is handed.
    for (let left = bytes; left > 0; left -= zeroBlock) {
      this.put(Buffer.alloc(Math.min(left, zeroBlock)));
    }
  }
}

function grammarFor(type: ImageMimeType, context: GrammarContext): Grammar {
  switch (type) {
    case 'image/png':
      return png(context);
    case 'image/jpeg':
      return jpeg(context);
    case 'image/gif':
      return gif(context);
    case 'image/webp':
      return webp(context);
    case 'image/avif':
    case 'image/heic':
    case 'image/heif':
      return isobmff(type, context);
    default:
      return unsupported(type);
  }
}

// eslint-disable-next-line require-yield
function* unsupported(type: string): Grammar {
  throw undecodable(`${type} cannot be checked without decoding; use IMAGE_VALIDATION=decode`);
}
