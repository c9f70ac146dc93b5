import { maxDecodedLength } from '../base64.js';
import { DataUriDecoder } from '../data-uri.js';
import type { ImageBytes } from '../image-bytes.js';
import { focusFromJson } from '../focal-point.js';
import type { ExpectedImageBytes, ImageSource } from '../image-source.js';
import type { FocalPoint } from '../image-record.js';
import { JsonDataScanner } from '../json-body.js';

/** base64 carries three bytes in four characters; "\r\n" escaped in JSON adds 4 per 76. */
const base64LineOverhead = 4 / 76;

/**
 * The JSON door: a body {"data": "<data URI>"} decoded into image bytes as it arrives. The data
 * string is unescaped by the scanner and base64-decoded straight into the held buffer while
 * the image is held, or into a buffer per chunk once it streams.
 */
export class JsonDataUriDecoder {
  private readonly scanner: JsonDataScanner;
  private readonly dataUri = new DataUriDecoder();

  constructor(
    private readonly image: ImageBytes,
    maxJsonOverheadBytes: number,
  ) {
    const dataUri = this.dataUri;
    this.scanner = new JsonDataScanner(
      {
        data: (chunk) => this.decode(chunk),
        dataEnd: () => image.append(dataUri.end()),
        get refusesControlCharacters() {
          return dataUri.refusesControlCharacters;
        },
      },
      maxJsonOverheadBytes,
    );
  }

  /**
   * The most image bytes a body of `declaredBodyBytes` can carry (plus the few bytes of slack
   * `Base64Decoder.writeInto` asks for a group cut between chunks).
   */
  static capacityFor(declaredBodyBytes: number): number {
    return Math.ceil((declaredBodyBytes * 3) / 4) + 8;
  }

  /** The type the data URI was labelled with, once its header has been read. */
  get declaredType(): string | undefined {
    return this.dataUri.header?.declaredType;
  }

  write(chunk: Buffer): void {
    this.scanner.write(chunk);
  }

  /**
   * The body has ended: checks the rest of the JSON and the end of the base64 text, and
   * returns the members other than "data".
   */
  end(): Record<string, unknown> {
    return this.scanner.end();
  }

  private decode(chunk: Buffer): void {
    const image = this.image;
    if (image.isHolding) {
      const target = image.reserve(maxDecodedLength(chunk.length));
      image.commit(this.dataUri.writeInto(chunk, target, image.heldLength));
    } else {
      image.append(this.dataUri.write(chunk));
    }
  }
}

/**
 * Bounds on the image inside a JSON body of `declaredBodyBytes`. The lower one assumes the
 * usual line breaks and a full allowance of other JSON: whitespace could make it too low, at
 * the price of a stream where a buffer would have done; never the other way round.
 */
export function expectedJsonImageBytes(
  declaredBodyBytes: number | undefined,
  maxJsonOverheadBytes: number,
): ExpectedImageBytes {
  if (declaredBodyBytes === undefined) return {};
  const base64Bytes = (declaredBodyBytes - maxJsonOverheadBytes) / (1 + base64LineOverhead);
  return {
    atMost: JsonDataUriDecoder.capacityFor(declaredBodyBytes),
    atLeast: Math.max(0, Math.floor((base64Bytes * 3) / 4) - 3),
  };
}

export interface JsonSourceOptions {
  readonly declaredBodyBytes: number | undefined;
  readonly maxJsonOverheadBytes: number;
}

/** The JSON body adapter: `body` is the request's chunks, already bounded in total size. */
export function jsonDataUriSource(
  body: AsyncIterable<Buffer>,
  { declaredBodyBytes, maxJsonOverheadBytes }: JsonSourceOptions,
): ImageSource {
  const iterator = body[Symbol.asyncIterator]();
  let decoder: JsonDataUriDecoder | undefined;
  const hints: { declaredType?: string | undefined; focus?: FocalPoint | undefined } = {};
  return {
    hints,
    expectedBytes: expectedJsonImageBytes(declaredBodyBytes, maxJsonOverheadBytes),
    async readMore(image: ImageBytes): Promise<boolean> {
      decoder ??= new JsonDataUriDecoder(image, maxJsonOverheadBytes);
      const next = await iterator.next();
      if (next.done === true) {
        const members = decoder.end();
        if (members.focus !== undefined) {
          hints.focus = focusFromJson(members.focus, 'the JSON member "focus"');
        }
        return false;
      }
      decoder.write(next.value);
      hints.declaredType ??= decoder.declaredType;
      return true;
    },
  };
}
