/**
 * The bytes of an image that have arrived and are not consumed yet, kept as the chunks came:
 * the driver of the format grammars (src/images/formats/walker.ts) reads through one, so that
 * reading a header across chunk boundaries, passing bulk data as it arrives and finding the end
 * of JPEG scan data are written once.
 */
export class ByteQueue {
  private readonly chunks: Buffer[] = [];
  private total = 0;
  /**
   * A 0xFF that ended a chunk while scanning JPEG entropy-coded data: consumed, but what it
   * starts is known only with the next byte, so the next scan puts it back in front.
   */
  private pendingFf = false;

  /** Whether a 0xFF that ended a scanned chunk is held back (consumed, not passed yet). */
  get holdsFf(): boolean {
    return this.pendingFf;
  }

  /** Bytes queued (a held-back 0xFF not counted). */
  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The first `bytes` bytes, consumed, in a buffer of their own; there must be that many. */
  take(bytes: number): Buffer {
    const head = this.chunks[0]!;
    if (head.length >= bytes) {
      const part = Buffer.from(head.subarray(0, bytes));
      this.drop(bytes);
      return part;
    }
    const joined = Buffer.concat(this.chunks, this.total);
    this.chunks.length = 0;
    this.total = joined.length - bytes;
    if (this.total > 0) this.chunks.push(joined.subarray(bytes));
    return joined.subarray(0, bytes);
  }

  /**
   * Consumes up to `max` bytes from the front, handing each part to `see` as it goes (the
   * parts share memory with the queued chunks); answers how many were consumed.
   */
  consume(max: number, see?: (part: Buffer) => void): number {
    let consumed = 0;
    while (consumed < max && this.total > 0) {
      const head = this.chunks[0]!;
      const part = head.length <= max - consumed ? head : head.subarray(0, max - consumed);
      see?.(part);
      this.drop(part.length);
      consumed += part.length;
    }
    return consumed;
  }

  /** Consumes everything queued; answers the chunks. */
  takeAll(): Buffer[] {
    const all = this.chunks.splice(0);
    this.total = 0;
    return all;
  }

  /**
   * Consumes JPEG entropy-coded data up to the next marker that is not a restart or a stuffed
   * zero, handing what it passes to `see`; true once that marker is first in the queue (its
   * 0xFF left in place), false when more bytes are needed. memchr finds each 0xFF.
   */
  skipEntropy(see?: (part: Buffer) => void): boolean {
    while (this.total > 0) {
      if (this.pendingFf) {
        this.chunks[0] = Buffer.concat([Buffer.of(0xff), this.chunks[0]!]);
        this.total += 1;
        this.pendingFf = false;
      }
      const head = this.chunks[0]!;
      let index = 0;
      for (;;) {
        const ff = head.indexOf(0xff, index);
        if (ff < 0) {
          see?.(head);
          this.drop(head.length);
          break;
        }
        if (ff === head.length - 1) {
          if (ff > 0) see?.(head.subarray(0, ff));
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
          if (ff > 0) see?.(head.subarray(0, ff));
          this.drop(ff);
          return true;
        }
      }
    }
    return false;
  }

  /** Forgets everything, when what it held no longer matters (after a failure). */
  clear(): void {
    this.chunks.length = 0;
    this.total = 0;
  }

  private drop(bytes: number): void {
    let left = bytes;
    while (left > 0) {
      const head = this.chunks[0]!;
      if (head.length <= left) {
        this.chunks.shift();
        left -= head.length;
      } else {
        this.chunks[0] = head.subarray(left);
        left = 0;
      }
    }
    this.total -= bytes;
  }
}
