import { AppError } from '../errors.js';

/**
 * Reads a JSON request body as it arrives and hands the characters of the top-level "data"
 * string to a sink, unescaped, without ever holding the whole body or the whole string.
 *
 * Everything outside that string (the braces, the other members, the "data" key itself) is
 * kept as a small "skeleton" in which the data string is replaced by "". At the end the
 * skeleton goes through JSON.parse, so the grammar, trailing garbage and the other members
 * are judged by the platform's own parser rather than by a second grammar of ours.
 */

export interface DataStringSink {
  /** Unescaped bytes of the data string. Valid only during the call. */
  data(chunk: Buffer): void;
  /** The closing quote of the data string has been read. */
  dataEnd(): void;
  /**
   * True while the sink itself refuses every control character except the whitespace TAB,
   * LF, FF and CR (a strict base64 decoder does). The scanner then looks only for those four,
   * with memchr, instead of testing every byte: the check dominated the profile otherwise.
   */
  readonly refusesControlCharacters?: boolean;
}

const quote = 0x22;
const backslash = 0x5c;

const simpleEscapes = new Map<number, number>([
  [quote, quote],
  [backslash, backslash],
  [0x2f, 0x2f], // "\/" from PHP's json_encode and some Java encoders
  [0x62, 0x08],
  [0x66, 0x0c],
  [0x6e, 0x0a],
  [0x72, 0x0d],
  [0x74, 0x09],
]);

/** Stands in for an escaped non-ASCII character: never valid in a data URI payload. */
const nonAsciiPlaceholder = 0x80;

function invalidJson(detail: string): AppError {
  return new AppError('invalid_json', {
    message: `The request body is not valid JSON: ${detail}.`,
  });
}

type Mode = 'structure' | 'string' | 'data';

const unescapedControlCharacter = (): AppError =>
  invalidJson('a control character appears unescaped in a string');

/** Whether chunk[from, to) holds a TAB, LF, FF or CR: four memchr passes. */
function hasWhitespaceControl(chunk: Buffer, from: number, to: number): boolean {
  const range = chunk.subarray(from, to);
  return (
    range.indexOf(0x0a) !== -1 ||
    range.indexOf(0x0d) !== -1 ||
    range.indexOf(0x09) !== -1 ||
    range.indexOf(0x0c) !== -1
  );
}

/**
 * Position of the first byte below 0x20 in chunk[from, to), or -1. JSON forbids raw control
 * characters in strings; this looks at four bytes a step (a byte x < 0x20 makes
 * (x - 0x20) & ~x & 0x80 non-zero), which keeps the check off the profile.
 */
function firstControlCharacter(chunk: Buffer, from: number, to: number): number {
  let index = from;
  while (index < to && (chunk.byteOffset + index) % 4 !== 0) {
    if (chunk[index]! < 0x20) return index;
    index += 1;
  }
  if (index >= to) return -1;
  const words = new Uint32Array(chunk.buffer, chunk.byteOffset + index, (to - index) >>> 2);
  for (let word = 0; word < words.length; word += 1) {
    const value = words[word]!;
    if (((value - 0x20202020) & ~value & 0x80808080) !== 0) {
      for (let byte = index + word * 4; byte < index + word * 4 + 4; byte += 1) {
        if (chunk[byte]! < 0x20) return byte;
      }
    }
  }
  for (index += words.length * 4; index < to; index += 1) {
    if (chunk[index]! < 0x20) return index;
  }
  return -1;
}

export class JsonDataScanner {
  private mode: Mode = 'structure';
  private depth = 0;
  private rootIsObject = false;
  /** In the root object: the next string is a member name. */
  private expectingKey = false;
  /** In the root object: a ":" has been read and the member's value has not started. */
  private expectingValue = false;
  private currentKey = '';
  private stringIsKey = false;
  private stringEscaped = false;
  private keyBytes: number[] = [];
  private dataMemberSeen = false;
  /** Bytes after a backslash in the data string, when a chunk boundary cut the escape. */
  private pendingEscape: number[] | undefined;
  private skeleton: Buffer[] = [];
  private skeletonLength = 0;

  constructor(
    private readonly sink: DataStringSink,
    private readonly maxSkeletonBytes: number,
  ) {}

  write(chunk: Buffer): void {
    let index = 0;
    while (index < chunk.length) {
      index = this.mode === 'data' ? this.scanData(chunk, index) : this.scanStructure(chunk, index);
    }
  }

  /** Checks the whole body and returns its members other than "data". */
  end(): Record<string, unknown> {
    if (this.mode !== 'structure') throw invalidJson('it ends inside a string');
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(this.skeleton).toString('utf8'));
    } catch {
      throw invalidJson('it could not be parsed');
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      Array.isArray(parsed) ||
      !this.dataMemberSeen ||
      typeof (parsed as Record<string, unknown>).data !== 'string'
    ) {
      throw new AppError('missing_data');
    }
    const { data: _data, ...others } = parsed as Record<string, unknown>;
    return others;
  }

  private keep(bytes: Buffer): void {
    this.skeletonLength += bytes.length;
    if (this.skeletonLength > this.maxSkeletonBytes) {
      throw new AppError('payload_too_large', {
        message: `The JSON outside the "data" field is larger than ${this.maxSkeletonBytes} bytes.`,
      });
    }
    this.skeleton.push(Buffer.from(bytes));
  }

  private scanStructure(chunk: Buffer, start: number): number {
    let index = start;
    while (index < chunk.length) {
      const byte = chunk[index]!;
      if (this.mode === 'string') {
        if (this.stringEscaped) {
          this.stringEscaped = false;
        } else if (byte === backslash) {
          this.stringEscaped = true;
        } else if (byte === quote) {
          this.mode = 'structure';
          if (this.stringIsKey) this.finishKey();
          index += 1;
          continue;
        }
        if (this.stringIsKey) this.keyBytes.push(byte);
        index += 1;
        continue;
      }

      const inRootObject = this.depth === 1 && this.rootIsObject;
      if (byte === quote) {
        if (inRootObject && this.expectingValue && this.currentKey === 'data') {
          // The value of "data" begins: keep `""` in the skeleton, stream the rest.
          this.expectingValue = false;
          this.keep(chunk.subarray(start, index + 1));
          this.mode = 'data';
          return index + 1;
        }
        this.mode = 'string';
        this.stringIsKey = inRootObject && this.expectingKey;
        this.keyBytes = [];
      } else if (byte === 0x7b || byte === 0x5b) {
        this.depth += 1;
        if (this.depth === 1) {
          this.rootIsObject = byte === 0x7b;
          this.expectingKey = this.rootIsObject;
        }
        this.expectingValue = false;
      } else if (byte === 0x7d || byte === 0x5d) {
        this.depth -= 1;
      } else if (inRootObject && byte === 0x2c) {
        this.expectingKey = true;
        this.expectingValue = false;
      } else if (inRootObject && byte === 0x3a) {
        this.expectingValue = true;
      } else if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) {
        this.expectingValue = false;
      }
      index += 1;
    }
    this.keep(chunk.subarray(start, index));
    return index;
  }

  private finishKey(): void {
    this.expectingKey = false;
    const raw = Buffer.from(this.keyBytes).toString('utf8');
    if (raw.includes('\\')) {
      try {
        this.currentKey = JSON.parse(`"${raw}"`) as string;
      } catch {
        throw invalidJson('a member name has a bad escape');
      }
    } else {
      this.currentKey = raw;
    }
    if (this.currentKey === 'data') {
      if (this.dataMemberSeen) throw invalidJson('the member "data" appears more than once');
      this.dataMemberSeen = true;
    }
  }

  /**
   * The hot loop: quotes and backslashes are found with Buffer#indexOf (memchr), and the runs between them are handed on without copying while
   * the string has no escapes, which is the common case. With escapes (a "\n" every 76
   * characters from Android, "\/" from PHP) the runs are gathered into one buffer a chunk.
   */
  private scanData(chunk: Buffer, start: number): number {
    let output: Buffer | undefined;
    let outputLength = 0;
    // While output is undefined, the data seen so far in this chunk is chunk[start, runEnd).
    let runEnd = start;
    let index = start;
    let closed = false;
    let nextQuote = chunk.indexOf(quote, start);
    let checkedUpTo = start;
    // Set when part of this chunk was checked only for whitespace controls (see the sink).
    let lightlyCheckedFrom: number | undefined;

    while (index < chunk.length) {
      if (this.pendingEscape !== undefined) {
        const escaped = this.continueEscape(chunk[index]!);
        index += 1;
        if (escaped !== undefined) {
          if (output === undefined) {
            output = this.startOutput(chunk, start, runEnd);
            outputLength = runEnd - start;
          }
          output[outputLength] = escaped;
          outputLength += 1;
        }
        continue;
      }
      if (nextQuote !== -1 && nextQuote < index) nextQuote = chunk.indexOf(quote, index);
      const nextBackslash = chunk.indexOf(backslash, index);
      let end = chunk.length;
      if (nextQuote !== -1) end = nextQuote;
      if (nextBackslash !== -1 && nextBackslash < end) end = nextBackslash;
      if (end > checkedUpTo) {
        // One pass up to the next quote covers every run before it, escapes or not.
        const checkTo = nextQuote === -1 ? chunk.length : Math.max(nextQuote, end);
        if (this.sink.refusesControlCharacters === true) {
          if (hasWhitespaceControl(chunk, checkedUpTo, checkTo)) throw unescapedControlCharacter();
          lightlyCheckedFrom ??= checkedUpTo;
        } else if (firstControlCharacter(chunk, checkedUpTo, checkTo) !== -1) {
          throw unescapedControlCharacter();
        }
        checkedUpTo = checkTo;
      }

      if (output === undefined) {
        runEnd = end;
      } else {
        outputLength += chunk.copy(output, outputLength, index, end);
      }
      index = end;
      if (index === chunk.length) break;
      index += 1;
      if (chunk[end] === quote) {
        closed = true;
        break;
      }
      if (output === undefined) {
        output = this.startOutput(chunk, start, runEnd);
        outputLength = runEnd - start;
      }
      this.pendingEscape = [];
    }

    const data =
      output === undefined ? chunk.subarray(start, runEnd) : output.subarray(0, outputLength);
    try {
      if (data.length > 0) this.sink.data(data);
      if (closed) this.sink.dataEnd();
    } catch (error) {
      // The sink refused a character. If it was a raw control character, the body is not
      // JSON, and that is the error to report, as a full check would have found it first.
      if (
        lightlyCheckedFrom !== undefined &&
        firstControlCharacter(chunk, lightlyCheckedFrom, checkedUpTo) !== -1
      ) {
        throw unescapedControlCharacter();
      }
      throw error;
    }
    if (closed) {
      this.mode = 'structure';
      // A stray second ":" (`{"data":"a":"b"}`) must not open the value of "data" again: the
      // sink has already been told the string ended.
      this.currentKey = '';
      this.keep(Buffer.from('"'));
    }
    return index;
  }

  /** A buffer for the unescaped text of this chunk, holding the run read before the escape. */
  private startOutput(chunk: Buffer, start: number, runEnd: number): Buffer {
    const output = Buffer.allocUnsafe(chunk.length - start);
    chunk.copy(output, 0, start, runEnd);
    return output;
  }

  /** Feeds one byte of an escape sequence; returns the byte it stands for once complete. */
  private continueEscape(byte: number): number | undefined {
    const pending = this.pendingEscape!;
    if (pending.length === 0) {
      if (byte === 0x75) {
        pending.push(byte);
        return undefined;
      }
      const unescaped = simpleEscapes.get(byte);
      if (unescaped === undefined) throw invalidJson('a string has an unknown escape');
      this.pendingEscape = undefined;
      return unescaped;
    }
    const isHex =
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x46) ||
      (byte >= 0x61 && byte <= 0x66);
    if (!isHex) throw invalidJson('a string has a bad \\u escape');
    pending.push(byte);
    if (pending.length < 5) return undefined;
    this.pendingEscape = undefined;
    const codeUnit = Number.parseInt(Buffer.from(pending.slice(1)).toString('latin1'), 16);
    return codeUnit < 0x80 ? codeUnit : nonAsciiPlaceholder;
  }
}
