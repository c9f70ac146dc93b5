import { AppError, isAppError } from '../../errors.js';
import { ByteQueue } from '../byte-queue.js';

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
  private readonly queue = new ByteQueue();
  private out: Buffer[] = [];
  private ended = false;
  private done = false;
  private failure: AppError | undefined;
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
      this.queue.clear();
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
        if (this.queue.length > 0) throw undecodable('there are bytes after the end of the image');
        return;
      }
      switch (request.kind) {
        case 'read':
        case 'readOrEnd': {
          if (this.queue.length >= request.bytes) {
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
          const see =
            request.kind === 'pass'
              ? (part: Buffer) => this.out.push(part)
              : request.zero === true
                ? (part: Buffer) => this.emitZeros(part.length)
                : undefined;
          this.remaining -= this.queue.consume(this.remaining, see);
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
          this.out.push(...this.queue.takeAll());
          if (!this.ended) return;
          this.advance(undefined);
          continue;
        }
        case 'passEntropy': {
          // The scan passes as it arrives; only a 0xFF on a chunk boundary waits for the byte
          // that tells what it is.
          if (!this.queue.skipEntropy((part) => this.out.push(part))) {
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

  private emitZeros(bytes: number): void {
    // Fresh buffers, not one shared block: the caller owns what it is handed.
    for (let left = bytes; left > 0; left -= zeroBlock) {
      this.out.push(Buffer.alloc(Math.min(left, zeroBlock)));
    }
  }
}
