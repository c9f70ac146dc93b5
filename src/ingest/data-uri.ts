import { AppError } from '../errors.js';
import { Base64Decoder, maxDecodedLength } from './base64.js';

/** The URL parser drops tabs and newlines anywhere, and C0 controls and spaces at the start. */
function stripUrlWhitespace(text: string): string {
  let start = 0;
  while (start < text.length && text.charCodeAt(start) <= 0x20) start += 1;
  return text.slice(start).replace(/[\t\n\r]/g, '');
}

/**
 * Data URIs as RFC 2397 defines them and the WHATWG "data: URL processor" reads them: the
 * scheme and the media type are case-insensitive, parameters such as ";charset=" or
 * ";name=" may come before ";base64", and the media type is only the client's claim.
 */

export interface DataUriHeader {
  /** The declared media type, lower-cased, without parameters; undefined when absent. */
  readonly declaredType: string | undefined;
}

/** Longest header ("data:<type>;<params>;base64,") we read before giving up on finding ",". */
export const maxDataUriHeaderBytes = 1024;

const mediaTypePattern = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

function invalidDataUri(detail: string): AppError {
  return new AppError('invalid_data_uri', {
    message: `The "data" field is not a base64 data URI: ${detail}.`,
  });
}

/** Parses everything before the first "," of a data URI (the "," itself excluded). */
export function parseDataUriHeader(header: string): DataUriHeader {
  const text = stripUrlWhitespace(header);
  if (text.slice(0, 5).toLowerCase() !== 'data:') {
    throw invalidDataUri('it must start with "data:"');
  }
  const mediaType = text.slice(5).trim();
  const base64Marker = /;\s*base64$/i.exec(mediaType);
  if (base64Marker === null) {
    throw invalidDataUri('only base64-encoded data URIs (";base64,") are accepted');
  }
  const essence = mediaType.slice(0, base64Marker.index).split(';', 1)[0]!.trim().toLowerCase();
  return { declaredType: mediaTypePattern.test(essence) ? essence : undefined };
}

/**
 * Consumes the characters of a data URI in chunks and returns the decoded bytes as they
 * become available. The header is read first and bounded; the rest goes to Base64Decoder.
 */
export class DataUriDecoder {
  private headerBytes: Buffer[] = [];
  private headerLength = 0;
  private base64: Base64Decoder | undefined;
  private parsedHeader: DataUriHeader | undefined;

  /** The parsed header, once the "," has been seen. */
  get header(): DataUriHeader | undefined {
    return this.parsedHeader;
  }

  write(chunk: Uint8Array): Buffer {
    const output = Buffer.allocUnsafe(maxDecodedLength(chunk.length));
    return output.subarray(0, this.writeInto(chunk, output, 0));
  }

  /**
   * Decodes into `target` from `offset`, which must leave room for
   * `maxDecodedLength(chunk.length)` bytes; returns how many bytes it wrote.
   */
  writeInto(chunk: Uint8Array, target: Buffer, offset: number): number {
    if (this.base64 !== undefined) return this.base64.writeInto(chunk, target, offset);

    const comma = chunk.indexOf(0x2c);
    const headerPart = comma === -1 ? chunk : chunk.subarray(0, comma);
    this.headerBytes.push(Buffer.from(headerPart));
    this.headerLength += headerPart.length;
    if (this.headerLength > maxDataUriHeaderBytes) {
      throw invalidDataUri(`no "," within the first ${maxDataUriHeaderBytes} characters`);
    }
    if (this.headerLength >= 5 || comma !== -1) this.checkScheme();
    if (comma === -1) return 0;

    this.parsedHeader = parseDataUriHeader(Buffer.concat(this.headerBytes).toString('utf8'));
    this.headerBytes = [];
    this.base64 = new Base64Decoder();
    return this.base64.writeInto(chunk.subarray(comma + 1), target, offset);
  }

  /**
   * True once the header has been read: from then on every character goes to the base64
   * decoder, which refuses all control characters except the whitespace TAB, LF, FF and CR.
   * The JSON scanner then only needs to look for those four itself (see JsonDataScanner).
   */
  get refusesControlCharacters(): boolean {
    return this.base64 !== undefined;
  }

  end(): Buffer {
    if (this.base64 === undefined) {
      this.checkScheme();
      throw invalidDataUri('there is no "," between the header and the payload');
    }
    return this.base64.end();
  }

  /** Fails fast on text that is not a data URI at all, instead of waiting for a ",". */
  private checkScheme(): void {
    const start = stripUrlWhitespace(Buffer.concat(this.headerBytes).toString('utf8'));
    if (!'data:'.startsWith(start.slice(0, 5).toLowerCase())) {
      throw invalidDataUri('it must start with "data:"');
    }
  }
}

/** Decodes a whole data URI string; used where the string is already in memory. */
export function decodeDataUri(uri: string): { header: DataUriHeader; bytes: Buffer } {
  const decoder = new DataUriDecoder();
  const head = decoder.write(Buffer.from(uri, 'utf8'));
  const tail = decoder.end();
  return { header: decoder.header!, bytes: tail.length === 0 ? head : Buffer.concat([head, tail]) };
}
