import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import { maxDecodedLength } from './base64.js';
import { DataUriDecoder } from './data-uri.js';
import { JsonDataScanner } from './json-body.js';
import type { HeldImageBuffers } from './held-image-buffers.js';

export interface JsonImageLimits {
  readonly maxImageBytes: number;
  readonly maxJsonOverheadBytes: number;
}

/** Room for the first chunks of a body of unknown length; the buffer doubles as needed. */
const defaultInitialCapacity = 64 * 1024;

/**
 * Decodes the image of a JSON body {"data": "<data URI>"} as the body's chunks are written to
 * it, in one of two modes:
 *
 * - holding (the start): every decoded byte goes into one contiguous buffer, sized from the
 *   declared body length when there is one. An image that fits in memory is then ready to
 *   store as it is, without a buffer per chunk or a final concatenation;
 * - streaming (after `stopHolding`): each chunk's bytes go into a buffer of their own, which
 *   `takeChunks` hands out, so nothing accumulates.
 *
 * The image size limit is checked as the bytes are decoded, before they are kept.
 */
export class JsonImageDecoder {
  private readonly scanner: JsonDataScanner;
  private readonly dataUri = new DataUriDecoder();
  private held: Buffer;
  private heldBytes = 0;
  private holding = true;
  private streamed: Buffer[] = [];
  private decodedBytes = 0;

  /** The buffer the held bytes went into, kept after stopHolding until dispose gives it back. */
  private handedOut: Buffer | undefined;

  constructor(
    private readonly limits: JsonImageLimits,
    private readonly buffers: HeldImageBuffers,
    initialCapacity = defaultInitialCapacity,
  ) {
    this.held = buffers.acquire(initialCapacity);
    const dataUri = this.dataUri;
    this.scanner = new JsonDataScanner(
      {
        data: (chunk) => this.decode(chunk),
        dataEnd: () => this.keep(dataUri.end()),
        get refusesControlCharacters() {
          return dataUri.refusesControlCharacters;
        },
      },
      limits.maxJsonOverheadBytes,
    );
  }

  /**
   * The buffer to hold an image sent in a body of `declaredBodyBytes`: base64 carries three
   * bytes in four characters, so the image cannot be larger (the few bytes more are the slack
   * `Base64Decoder.writeInto` asks for a group cut between chunks).
   */
  static capacityFor(declaredBodyBytes: number): number {
    return Math.ceil((declaredBodyBytes * 3) / 4) + 8;
  }

  /** Image bytes decoded so far. */
  get bytes(): number {
    return this.decodedBytes;
  }

  write(chunk: Buffer): void {
    this.scanner.write(chunk);
  }

  /** The body has ended: checks the rest of the JSON and the end of the base64 text. */
  end(): void {
    this.scanner.end();
  }

  /** Everything decoded so far, while holding. */
  heldImage(): Buffer {
    return this.held.subarray(0, this.heldBytes);
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

  /**
   * Gives the held buffer back for reuse, once nothing reads it any more: after the store's
   * write (tell whether it failed), or when the upload ended before one.
   */
  dispose(afterFailedWrite: boolean): void {
    this.buffers.release(this.handedOut ?? this.held, afterFailedWrite);
    this.handedOut = undefined;
    this.held = Buffer.alloc(0);
    this.heldBytes = 0;
  }

  /** While streaming: the bytes decoded since the last call, in order. */
  takeChunks(): Buffer[] {
    const chunks = this.streamed;
    this.streamed = [];
    return chunks;
  }

  private decode(chunk: Buffer): void {
    if (this.holding) {
      this.reserve(maxDecodedLength(chunk.length));
      this.count(this.dataUri.writeInto(chunk, this.held, this.heldBytes));
    } else {
      const output = this.dataUri.write(chunk);
      this.count(output.length);
      if (output.length > 0) this.streamed.push(output);
    }
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.holding) {
      this.reserve(bytes.length);
      bytes.copy(this.held, this.heldBytes);
    } else {
      this.streamed.push(bytes);
    }
    this.count(bytes.length);
  }

  /** Accounts for `written` new bytes (already in place), refusing an image over the limit. */
  private count(written: number): void {
    this.decodedBytes += written;
    if (this.holding) this.heldBytes += written;
    if (this.decodedBytes > this.limits.maxImageBytes) {
      throw new AppError('payload_too_large', {
        message: `The image is larger than the allowed maximum of ${this.limits.maxImageBytes} bytes.`,
      });
    }
  }

  private reserve(room: number): void {
    const needed = this.heldBytes + room;
    if (needed <= this.held.length) return;
    const grown = this.buffers.acquire(Math.max(needed, this.held.length * 2));
    this.held.copy(grown, 0, 0, this.heldBytes);
    this.buffers.release(this.held);
    this.held = grown;
  }
}

export interface ImageFingerprint {
  readonly bytes: number;
  readonly sha256: string;
  /** Base64 MD5, computed only when asked for (it serves idempotent replays alone). */
  readonly md5: string | undefined;
}

/** The fingerprint of an image held whole; sha256 off the event loop where it can be. */
export async function fingerprintOf(
  image: Buffer,
  withMd5: boolean,
  buffers: HeldImageBuffers,
): Promise<ImageFingerprint> {
  return {
    bytes: image.length,
    sha256: await buffers.sha256(image),
    md5: withMd5 ? createHash('md5').update(image).digest('base64') : undefined,
  };
}

/** The fingerprint of an image that passes in chunks. */
export class StreamingFingerprint {
  private readonly sha256 = createHash('sha256');
  private readonly md5: ReturnType<typeof createHash> | undefined;
  private bytes = 0;
  private result: ImageFingerprint | undefined;

  constructor(withMd5: boolean) {
    this.md5 = withMd5 ? createHash('md5') : undefined;
  }

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.sha256.update(chunk);
    this.md5?.update(chunk);
  }

  /** The fingerprint of everything passed so far; no more updates after it. */
  digest(): ImageFingerprint {
    this.result ??= {
      bytes: this.bytes,
      sha256: this.sha256.digest('hex'),
      md5: this.md5?.digest('base64'),
    };
    return this.result;
  }
}
