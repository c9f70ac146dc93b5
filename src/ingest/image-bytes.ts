import { AppError } from '../errors.js';
import type { HeldImageBuffers } from './held-image-buffers.js';

/** Room for the first chunks of a body of unknown length; the buffer doubles as needed. */
const defaultInitialCapacity = 64 * 1024;

/**
 * The image's bytes as a body adapter produces them, in one of two modes:
 *
 * - holding (the start): every byte goes into one contiguous buffer, sized from what the body
 *   declared when it did. An image that fits in memory is then ready to store as it is, with
 *   no buffer per chunk and no final concatenation. A decoder may write into it in place
 *   (`reserve` + `commit`), as the base64 decoder does;
 * - streaming (after `stopHolding`): bytes are queued as they come, and `takeChunks` hands them
 *   out, so nothing accumulates.
 *
 * The image size limit is checked as bytes arrive, before they are kept. Whatever the input
 * style, this is where an image's size is bounded.
 */
export class ImageBytes {
  private held: Buffer;
  private heldBytes = 0;
  private holding = true;
  private queued: Buffer[] = [];
  private total = 0;
  /** The buffer the held bytes went into, kept after stopHolding until dispose gives it back. */
  private handedOut: Buffer | undefined;

  constructor(
    private readonly maxImageBytes: number,
    private readonly buffers: HeldImageBuffers,
    initialCapacity = defaultInitialCapacity,
  ) {
    this.held = buffers.acquire(initialCapacity);
  }

  /** Image bytes received so far. */
  get bytes(): number {
    return this.total;
  }

  get isHolding(): boolean {
    return this.holding;
  }

  /**
   * While holding: makes room for `room` more bytes and returns the buffer to write them into,
   * at offset `heldLength`; `commit` then counts what was written.
   */
  reserve(room: number): Buffer {
    const needed = this.heldBytes + room;
    if (needed > this.held.length) {
      const grown = this.buffers.acquire(Math.max(needed, this.held.length * 2));
      this.held.copy(grown, 0, 0, this.heldBytes);
      this.buffers.release(this.held);
      this.held = grown;
    }
    return this.held;
  }

  /** Where the next held byte goes. */
  get heldLength(): number {
    return this.heldBytes;
  }

  /** Accounts for `written` bytes put in place after `reserve`. */
  commit(written: number): void {
    this.heldBytes += written;
    this.count(written);
  }

  /** Adds bytes: copied into the held buffer while holding, queued as they are after that. */
  append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.holding) {
      bytes.copy(this.reserve(bytes.length), this.heldBytes);
      this.heldBytes += bytes.length;
    } else {
      this.queued.push(bytes);
    }
    this.count(bytes.length);
  }

  /** Everything received so far, while holding. */
  heldImage(): Buffer {
    return this.held.subarray(0, this.heldBytes);
  }

  /**
   * While holding, once the body has ended: replaces the held image by `parts` (what is to be
   * stored instead, e.g. the image less its metadata), copied into a buffer of the pool so it
   * is still hashed in place. The parts may point into the old buffer: they are copied first.
   */
  replaceHeld(parts: readonly Buffer[]): void {
    if (this.isHeldUnchanged(parts)) return;
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    const replacement = this.buffers.acquire(length);
    let at = 0;
    for (const part of parts) at += part.copy(replacement, at);
    this.buffers.release(this.held);
    this.held = replacement;
    this.heldBytes = length;
  }

  /** Whether `parts` are the held bytes themselves, in order (an image with nothing to strip). */
  private isHeldUnchanged(parts: readonly Buffer[]): boolean {
    let at = this.held.byteOffset;
    for (const part of parts) {
      if (part.buffer !== this.held.buffer || part.byteOffset !== at) return false;
      at += part.length;
    }
    return at === this.held.byteOffset + this.heldBytes;
  }

  /** Switches to streaming; returns the bytes held until now (never written to again). */
  stopHolding(): Buffer {
    const image = this.heldImage();
    this.handedOut = this.held;
    this.holding = false;
    this.held = Buffer.alloc(0);
    this.heldBytes = 0;
    return image;
  }

  /** While streaming: the bytes received since the last call, in order. */
  takeChunks(): Buffer[] {
    const chunks = this.queued;
    this.queued = [];
    return chunks;
  }

  /**
   * Gives the held buffer back for reuse, once nothing reads it any more: after the store's
   * write (tell whether it failed: the store may still be reading it for a moment), or when
   * the upload ended before one.
   */
  dispose(afterFailedWrite: boolean): void {
    this.buffers.release(this.handedOut ?? this.held, afterFailedWrite);
    this.handedOut = undefined;
    this.held = Buffer.alloc(0);
    this.heldBytes = 0;
    this.queued = [];
  }

  private count(added: number): void {
    this.total += added;
    if (this.total > this.maxImageBytes) {
      throw new AppError('payload_too_large', {
        message: `The image is larger than the allowed maximum of ${this.maxImageBytes} bytes.`,
      });
    }
  }
}
