import { AppError, isAppError } from '../../errors.js';

/**
 * The engine under every format's stripper. A format is a generator that walks its container
 * and asks the driver to hold bytes (`read`), to let them through untouched (`pass`), to leave
 * them out (`drop`, or replace them by as many zeros), or to put out bytes of its own (`emit`).
 * The driver answers as input arrives and hands back whatever output is ready, so only the
 * bytes a format asked to read are ever held: headers and metadata segments, never the image.
 */
export type StripRequest =
  | { readonly kind: 'read'; readonly bytes: number }
  /** Reads `bytes`, or answers undefined if the input ended cleanly right here. */
  | { readonly kind: 'readOrEnd'; readonly bytes: number }
  | { readonly kind: 'pass'; readonly bytes: number }
  | {
      readonly kind: 'drop';
      readonly bytes: number;
      /** Put out as many zero bytes instead, so that offsets and sizes stay valid. */
      readonly zero?: boolean;
    }
  | { readonly kind: 'emit'; readonly bytes: Buffer }
  /** Passes JPEG entropy-coded data up to the next marker that is not a restart or stuffing. */
  | { readonly kind: 'passEntropy' }
  /** Passes everything up to the end of the input (an ISOBMFF box of size 0). */
  | { readonly kind: 'passToEnd' }
  /** The container is complete: the input must end here. */
  | { readonly kind: 'end' };

export type StripWalk = Generator<StripRequest, void, Buffer | undefined>;

export function undecodable(detail: string): AppError {
  return new AppError('undecodable_image', { message: `The image is not valid: ${detail}.` });
}

/** The one error a stripper throws, whatever went wrong underneath (a RangeError included). */
function asUndecodable(error: unknown): AppError {
  if (isAppError(error) && error.code === 'undecodable_image') return error;
  return new AppError('undecodable_image', {
    message: 'The image is not valid: its container cannot be read.',
    cause: error,
  });
}

const zeroBlock = 64 * 1024;

export class StripDriver {
  private readonly walk: StripWalk;
  private request: StripRequest | undefined;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private out: Buffer[] = [];
  private ended = false;
  private done = false;
  private failure: AppError | undefined;
  /** For 'passEntropy': a 0xFF seen at the end of the previous chunk, not yet put out. */
  private pendingFf = false;
  /** What is left of the current 'pass' or 'drop'; -1 before it starts. */
  private remaining = -1;

  constructor(walk: StripWalk) {
    this.walk = walk;
    this.guard(() => this.advance(undefined));
  }

  write(chunk: Buffer): Buffer[] {
    return this.guard(() => {
      if (chunk.length === 0) return;
      if (this.done) throw undecodable('there are bytes after the end of the image');
      this.queue.push(chunk);
      this.queued += chunk.length;
      this.pump();
    });
  }

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
      this.failure = asUndecodable(error);
      this.queue.length = 0;
      this.out = [];
      throw this.failure;
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  private advance(answer: Buffer | undefined): void {
    const next = this.walk.next(answer);
    if (next.done === true) {
      this.done = true;
      this.request = undefined;
    } else {
      this.request = next.value;
      this.remaining = -1;
    }
  }

  private pump(): void {
    for (;;) {
      const request = this.request;
      if (request === undefined) {
        if (this.queued > 0) throw undecodable('there are bytes after the end of the image');
        return;
      }
      switch (request.kind) {
        case 'read':
        case 'readOrEnd': {
          if (this.queued >= request.bytes) {
            this.advance(this.take(request.bytes));
            continue;
          }
          if (!this.ended) return;
          if (request.kind === 'readOrEnd' && this.queued === 0) {
            this.advance(undefined);
            continue;
          }
          throw undecodable('the file ends before the image does');
        }
        case 'pass':
        case 'drop': {
          if (this.remaining < 0) this.remaining = request.bytes;
          while (this.remaining > 0 && this.queued > 0) {
            const head = this.queue[0]!;
            const part = head.length <= this.remaining ? head : head.subarray(0, this.remaining);
            if (request.kind === 'pass') this.out.push(part);
            else if (request.zero === true) this.emitZeros(part.length);
            this.drop(part.length);
            this.remaining -= part.length;
          }
          if (this.remaining > 0) {
            if (this.ended) throw undecodable('the file ends before the image does');
            return;
          }
          this.advance(undefined);
          continue;
        }
        case 'emit': {
          if (request.bytes.length > 0) this.out.push(request.bytes);
          this.advance(undefined);
          continue;
        }
        case 'passToEnd': {
          this.out.push(...this.queue);
          this.queue.length = 0;
          this.queued = 0;
          if (!this.ended) return;
          this.advance(undefined);
          continue;
        }
        case 'passEntropy': {
          if (!this.passEntropy()) {
            if (this.ended) throw undecodable('the JPEG scan data is cut off');
            return;
          }
          this.advance(undefined);
          continue;
        }
        case 'end': {
          if (this.queued > 0) throw undecodable('there are bytes after the end of the image');
          this.advance(undefined);
          continue;
        }
      }
    }
  }

  /**
   * Puts out scan data up to a real marker, which is left first in the queue. The scan passes
   * as it arrives; only a 0xFF on a chunk boundary waits for the byte that tells what it is.
   */
  private passEntropy(): boolean {
    while (this.queued > 0) {
      if (this.pendingFf) {
        // Held back from the previous chunk: put it back so the pair is seen together.
        this.queue[0] = Buffer.concat([Buffer.of(0xff), this.queue[0]!]);
        this.queued += 1;
        this.pendingFf = false;
      }
      const head = this.queue[0]!;
      let index = 0;
      for (;;) {
        const ff = head.indexOf(0xff, index);
        if (ff < 0) {
          this.out.push(head);
          this.drop(head.length);
          break;
        }
        if (ff === head.length - 1) {
          if (ff > 0) this.out.push(head.subarray(0, ff));
          this.drop(head.length);
          this.pendingFf = true;
          break;
        }
        const byte = head[ff + 1]!;
        if (byte === 0xff) {
          index = ff + 1; // a fill byte; the next 0xFF may start the marker
        } else if (byte === 0x00 || (byte >= 0xd0 && byte <= 0xd7)) {
          index = ff + 2; // stuffed zero or restart marker: still inside the scan
        } else {
          if (ff > 0) this.out.push(head.subarray(0, ff));
          this.drop(ff);
          return true;
        }
      }
    }
    return false;
  }

  private emitZeros(bytes: number): void {
    // Fresh buffers, not one shared block: the caller owns what it is handed.
    for (let left = bytes; left > 0; left -= zeroBlock) {
      this.out.push(Buffer.alloc(Math.min(left, zeroBlock)));
    }
  }

  private take(bytes: number): Buffer {
    const head = this.queue[0]!;
    if (head.length >= bytes) {
      const part = Buffer.from(head.subarray(0, bytes));
      this.drop(bytes);
      return part;
    }
    const joined = Buffer.concat(this.queue, this.queued);
    const part = joined.subarray(0, bytes);
    this.queue.length = 0;
    this.queued = joined.length - bytes;
    if (this.queued > 0) this.queue.push(joined.subarray(bytes));
    return part;
  }

  private drop(bytes: number): void {
    let left = bytes;
    while (left > 0) {
      const head = this.queue[0]!;
      if (head.length <= left) {
        this.queue.shift();
        left -= head.length;
      } else {
        this.queue[0] = head.subarray(left);
        left = 0;
      }
    }
    this.queued -= bytes;
  }
}
