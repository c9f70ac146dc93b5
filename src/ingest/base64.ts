import { AppError } from '../errors.js';

/**
 * Incremental base64 decoding that follows the WHATWG "forgiving-base64 decode" used by
 * browsers for data: URLs: ASCII whitespace is skipped anywhere (Android's Base64.DEFAULT
 * breaks lines every 76 characters), padding may be missing, and "=" may only end the text.
 * Data URL bodies are percent-decoded first, so "%2B" stands for "+". Input may be cut
 * into chunks at any byte, including inside a percent escape or a four-character group.
 */

const invalid = -1;
const whitespace = -2;
const padding = -3;
const percent = -4;

const classOfByte = new Int8Array(256).fill(invalid);
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
for (let index = 0; index < alphabet.length; index += 1)
  classOfByte[alphabet.charCodeAt(index)] = index;
for (const byte of [0x09, 0x0a, 0x0c, 0x0d, 0x20]) classOfByte[byte] = whitespace;
classOfByte[0x3d] = padding;
classOfByte[0x25] = percent;

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function describeByte(byte: number): string {
  return `U+${byte.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The most bytes one write of `inputLength` characters can produce: up to three characters of
 * a group cut by the previous chunk complete with this one.
 */
export function maxDecodedLength(inputLength: number): number {
  return Math.ceil(((inputLength + 3) * 3) / 4);
}

export class Base64Decoder {
  /** Sextets of the current, unfinished four-character group, packed into one number. */
  private group = 0;
  private groupLength = 0;
  private paddingSeen = 0;
  /** Characters that count towards the length (everything but whitespace). */
  private significant = 0;
  /** Position in the payload, for error messages. */
  private position = 0;
  /** A percent escape cut by a chunk boundary: the bytes after "%" seen so far. */
  private pendingPercent: number[] | undefined;
  private ended = false;

  /** Decodes what it can of `input`; the bytes of an unfinished group wait for the next call. */
  write(input: Uint8Array): Buffer {
    const output = Buffer.allocUnsafe(maxDecodedLength(input.length));
    return output.subarray(0, this.writeInto(input, output, 0));
  }

  /**
   * Like `write`, but decodes into `target` from `offset` (which must leave room for
   * `maxDecodedLength(input.length)` bytes) and returns how many bytes it wrote: a caller that
   * keeps the whole image decodes it into one buffer instead of a new one per chunk.
   */
  writeInto(input: Uint8Array, target: Buffer, offset: number): number {
    if (this.ended) throw new Error('Base64Decoder.write after end');
    if (target.length - offset < maxDecodedLength(input.length)) {
      // Out-of-range writes to a Buffer are silently dropped: refuse rather than lose bytes.
      throw new RangeError('Base64Decoder.writeInto: the target has no room for this input');
    }
    let index = 0;
    let written = offset;
    if (!this.atGroupBoundary()) {
      [index, written] = this.decodeSlowly(input, index, target, written, true);
    }
    if (index < input.length && this.atGroupBoundary()) {
      [index, written] = this.decodeWholeGroupsNatively(input, index, target, written);
    }
    if (index < input.length) {
      written = this.decodeSlowly(input, index, target, written, false)[1];
    }
    return written - offset;
  }

  private atGroupBoundary(): boolean {
    return this.groupLength === 0 && this.paddingSeen === 0 && this.pendingPercent === undefined;
  }

  /**
   * The hot path: the platform's own decoder (Uint8Array.prototype.setFromBase64, which skips
   * the same ASCII whitespace) takes every whole group at native speed. It stops before a
   * partial last group, which the byte-wise path then holds for the next chunk; anything it
   * refuses (a percent escape, a bad character) is left to the byte-wise path, which decodes
   * it or explains precisely what is wrong.
   */
  private decodeWholeGroupsNatively(
    input: Uint8Array,
    from: number,
    output: Buffer,
    written: number,
  ): [number, number] {
    const text = Buffer.from(input.buffer, input.byteOffset + from, input.length - from).toString(
      'latin1',
    );
    let result: { read: number; written: number };
    try {
      result = output
        .subarray(written)
        .setFromBase64(text, { lastChunkHandling: 'stop-before-partial' });
    } catch {
      return [from, written];
    }
    let last = result.read - 1;
    while (last >= 0 && classOfByte[text.charCodeAt(last)] === whitespace) last -= 1;
    if (last >= 0 && text.charCodeAt(last) === 0x3d) {
      // A padded group ends the payload: what follows may only be whitespace.
      this.paddingSeen = text.charCodeAt(last - 1) === 0x3d ? 2 : 1;
    }
    this.position += result.read;
    return [from + result.read, written + result.written];
  }

  /**
   * Byte by byte, with percent-decoding and precise errors. With `untilGroupBoundary` it
   * stops as soon as a group cut by the previous chunk is complete.
   */
  private decodeSlowly(
    input: Uint8Array,
    from: number,
    output: Buffer,
    written: number,
    untilGroupBoundary: boolean,
  ): [number, number] {
    let group = this.group;
    let groupLength = this.groupLength;
    let index = from;

    for (; index < input.length; index += 1) {
      if (untilGroupBoundary && groupLength === 0 && this.atGroupBoundary()) break;
      let byte = input[index]!;
      let value = classOfByte[byte]!;
      this.position += 1;

      if (this.pendingPercent !== undefined || value === percent) {
        // Rare path: percent-decoding, possibly across a chunk boundary.
        if (this.pendingPercent === undefined) {
          this.pendingPercent = [];
          continue;
        }
        // The URL parser drops tabs and newlines before the body is percent-decoded, even
        // inside an escape: browsers read "%2\nB" as "+".
        if (byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
        // Refused as soon as it is seen, in the chunk that holds it: the JSON scanner relies
        // on this decoder refusing a control character in the very call it is passed in.
        if (hexValue(byte) < 0) throw this.invalidCharacter(0x25);
        this.pendingPercent.push(byte);
        if (this.pendingPercent.length < 2) continue;
        const [high, low] = this.pendingPercent.map(hexValue) as [number, number];
        this.pendingPercent = undefined;
        byte = (high << 4) | low;
        value = classOfByte[byte]!;
        if (value === percent) throw this.invalidCharacter(byte);
      }

      if (value >= 0) {
        if (this.paddingSeen > 0) throw this.invalidCharacter(byte, 'after padding');
        group = (group << 6) | value;
        groupLength += 1;
        this.significant += 1;
        if (groupLength === 4) {
          output[written] = group >>> 16;
          output[written + 1] = (group >>> 8) & 0xff;
          output[written + 2] = group & 0xff;
          written += 3;
          group = 0;
          groupLength = 0;
          this.groupLength = 0;
        }
      } else if (value === whitespace) {
        continue;
      } else if (value === padding) {
        this.paddingSeen += 1;
        this.significant += 1;
        if (this.paddingSeen > 2)
          throw this.invalidCharacter(byte, 'more than two padding characters');
      } else {
        throw this.invalidCharacter(byte);
      }
    }

    this.group = group;
    this.groupLength = groupLength;
    return [index, written];
  }

  /** Finishes the text: checks the padding and returns the last one or two bytes. */
  end(): Buffer {
    if (this.ended) throw new Error('Base64Decoder.end called twice');
    this.ended = true;
    if (this.pendingPercent !== undefined) throw this.invalidCharacter(0x25, 'at the end');
    if (this.paddingSeen > 0 && this.significant % 4 !== 0) {
      throw new AppError('invalid_base64', {
        message: 'The data URI payload is not valid base64: its padding is misplaced.',
      });
    }
    switch (this.groupLength) {
      case 0:
        return Buffer.alloc(0);
      case 2:
        return Buffer.from([(this.group >>> 4) & 0xff]);
      case 3:
        return Buffer.from([(this.group >>> 10) & 0xff, (this.group >>> 2) & 0xff]);
      default:
        throw new AppError('invalid_base64', {
          message: 'The data URI payload is not valid base64: it ends with a lone character.',
        });
    }
  }

  private invalidCharacter(byte: number, detail?: string): AppError {
    const what = detail === undefined ? '' : ` ${detail}`;
    return new AppError('invalid_base64', {
      message: `The data URI payload is not valid base64: unexpected character ${describeByte(byte)}${what} at position ${this.position}.`,
    });
  }
}

/** Decodes a whole base64 text at once, by the same rules as Base64Decoder. */
export function decodeBase64(text: string | Uint8Array): Buffer {
  const decoder = new Base64Decoder();
  const input = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const head = decoder.write(input);
  const tail = decoder.end();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}
