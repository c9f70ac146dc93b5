import { crc32 } from 'node:zlib';
import { AppError } from '../errors.js';
import { ByteQueue } from '../images/byte-queue.js';
import { exifOrientation } from '../images/exif.js';
import { structureCheckedTypes, type ImageMimeType } from '../images/image-types.js';

/**
 * Walks an image container as its bytes arrive, without decoding pixels: every PNG chunk and
 * its CRC up to IEND, JPEG markers up to EOI, GIF blocks up to the trailer, the WebP RIFF
 * sizes, the ISOBMFF boxes of AVIF. Nothing may follow the end. Memory stays bounded: bulk
 * data is skipped as it passes, only headers are held.
 *
 * Each format is a generator that asks the driver for bytes (`read`), to let bytes pass
 * (`skip`), or to confirm the end (`end`); the driver answers as data becomes available.
 */

type Request =
  | { readonly kind: 'read'; readonly bytes: number }
  /** Reads `bytes`, or answers undefined if the input ended cleanly right here. */
  | { readonly kind: 'readOrEnd'; readonly bytes: number }
  | { readonly kind: 'skip'; readonly bytes: number; readonly see?: (chunk: Buffer) => void }
  /** Skips JPEG entropy-coded data up to the next marker that is not a restart or stuffing. */
  | { readonly kind: 'entropy' }
  /** Skips everything up to the end of the input (an ISOBMFF box of size 0). */
  | { readonly kind: 'skipToEnd' }
  /** The container is complete: the input must end here. */
  | { readonly kind: 'end' };

type Walk = Generator<Request, void, Buffer | undefined>;

export interface ImageDimensions {
  readonly width: number;
  readonly height: number;
}

/** What a walk learns about the image on its way, besides whether it is valid. */
export interface ImageFacts {
  /** As the image is displayed: EXIF orientations 5 to 8 (or an AVIF quarter turn) swap the axes. */
  readonly width: number;
  readonly height: number;
  /** Frames of an animation (more than one); undefined for a still image. */
  readonly frames: number | undefined;
  /** The EXIF orientation (1 to 8), 1 when the image carries none. */
  readonly orientation: number;
}

/** Filled in by a format's walker as it goes. */
interface FactsSeen {
  width?: number;
  height?: number;
  frames?: number;
  orientation?: number;
  /** AVIF/HEIF `irot` of 90 or 270 degrees: the displayed axes are swapped. */
  quarterTurn?: boolean;
}

/** EXIF orientations that turn the image by a quarter, so its displayed axes are swapped. */
function swapsAxes(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/** Raised by a walker; the ingest pipeline turns it into the matching API error. */
export function undecodable(detail: string): AppError {
  return new AppError('undecodable_image', {
    message: `The image is not valid: ${detail}.`,
  });
}

export function tooManyPixels(width: number, height: number, maxPixels: number): AppError {
  return new AppError('too_many_pixels', {
    message:
      `The image declares ${width} x ${height} pixels; ` +
      `at most ${maxPixels} pixels are accepted.`,
  });
}

export function tooManyFramePixels(
  frames: number,
  width: number,
  height: number,
  maxPixels: number,
): AppError {
  return new AppError('too_many_pixels', {
    message:
      `The animation declares ${frames} frames of ${width} x ${height} pixels; ` +
      `at most ${maxPixels} pixels are accepted for all frames together.`,
  });
}

export class ContainerWalker {
  private readonly walk: Walk;
  private request: Request | undefined;
  private readonly queue = new ByteQueue();
  private ended = false;
  private done = false;
  private skipRemaining = -1;
  private readonly seen: FactsSeen = {};

  constructor(type: ImageMimeType, maxPixels: number) {
    const check = (width: number, height: number): void => {
      if (width === 0 || height === 0) throw undecodable('it declares a zero width or height');
      if (width * height > maxPixels) throw tooManyPixels(width, height, maxPixels);
    };
    // A decoder of every frame allocates the canvas once per frame: an animation's budget is
    // all of its frames together, or a GIF of 10,000 full-size frames would pass.
    const checkFrames = (frames: number): void => {
      const { width = 0, height = 0 } = this.seen;
      if (frames * width * height > maxPixels) {
        throw tooManyFramePixels(frames, width, height, maxPixels);
      }
    };
    this.walk = walkerFor(type, check, checkFrames, this.seen);
    this.advance(undefined);
  }

  /** What the walk learnt; complete once `end` has succeeded. */
  facts(): ImageFacts {
    const { width = 0, height = 0, frames, orientation = 1, quarterTurn = false } = this.seen;
    const swap = swapsAxes(orientation) !== quarterTurn;
    return {
      width: swap ? height : width,
      height: swap ? width : height,
      frames: frames !== undefined && frames > 1 ? frames : undefined,
      orientation,
    };
  }

  /** Feeds the next bytes; throws an AppError as soon as they prove the image bad. */
  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.done) throw undecodable('there are bytes after the end of the image');
    this.queue.push(chunk);
    this.pump();
  }

  /** Declares the input complete; throws if the container is truncated. */
  end(): void {
    this.ended = true;
    this.pump();
    if (!this.done) throw undecodable('the file ends before the image does');
  }

  private advance(answer: Buffer | undefined): void {
    const next = this.walk.next(answer);
    if (next.done === true) {
      this.done = true;
      this.request = undefined;
    } else {
      this.request = next.value;
      this.skipRemaining = -1;
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
        case 'skip': {
          if (this.skipRemaining < 0) this.skipRemaining = request.bytes;
          this.skipRemaining -= this.queue.consume(this.skipRemaining, request.see);
          if (this.skipRemaining > 0) {
            if (this.ended) throw undecodable('the file ends before the image does');
            return;
          }
          this.advance(undefined);
          continue;
        }
        case 'skipToEnd': {
          this.queue.clear();
          if (!this.ended) return;
          this.advance(undefined);
          continue;
        }
        case 'entropy': {
          if (!this.queue.skipEntropy()) {
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
}

/** Types whose container this module can walk; others can only be checked by decoding. */
export const walkableTypes = structureCheckedTypes;

type CheckPixels = (width: number, height: number) => void;
/** Called with the frame count so far (or declared) of an animation. */
type CheckFrames = (frames: number) => void;

function walkerFor(
  type: ImageMimeType,
  check: CheckPixels,
  checkFrames: CheckFrames,
  seen: FactsSeen,
): Walk {
  switch (type) {
    case 'image/png':
      return walkPng(check, checkFrames, seen);
    case 'image/jpeg':
      return walkJpeg(check, seen);
    case 'image/gif':
      return walkGif(check, checkFrames, seen);
    case 'image/webp':
      return walkWebp(check, checkFrames, seen);
    case 'image/avif':
    case 'image/heic':
    case 'image/heif':
      return walkIsobmff(check, seen);
    default:
      return walkUnsupported(type);
  }
}

// eslint-disable-next-line require-yield
function* walkUnsupported(type: string): Walk {
  throw undecodable(`${type} cannot be checked without decoding; use IMAGE_VALIDATION=decode`);
}

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Metadata chunks read whole to find the orientation; a larger one is only skipped. */
const maxExifBytes = 64 * 1024;

function* walkPng(check: CheckPixels, checkFrames: CheckFrames, seen: FactsSeen): Walk {
  const signature = (yield { kind: 'read', bytes: 8 })!;
  if (!signature.equals(pngSignature)) throw undecodable('the PNG signature is wrong');
  let first = true;
  for (;;) {
    const header = (yield { kind: 'read', bytes: 8 })!;
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (length > 0x7fffffff) throw undecodable(`PNG chunk ${type} has an impossible length`);
    if (!/^[A-Za-z]{4}$/.test(type)) throw undecodable('a PNG chunk has an invalid type');
    if (first !== (type === 'IHDR')) throw undecodable('the PNG does not start with IHDR');
    let crc = crc32(header.subarray(4, 8));
    if (type === 'IHDR') {
      if (length !== 13) throw undecodable('the PNG IHDR chunk has the wrong length');
      const data = (yield { kind: 'read', bytes: 13 })!;
      crc = crc32(data, crc);
      check(data.readUInt32BE(0), data.readUInt32BE(4));
      seen.width = data.readUInt32BE(0);
      seen.height = data.readUInt32BE(4);
    } else if ((type === 'eXIf' && length <= maxExifBytes) || (type === 'acTL' && length === 8)) {
      const data = (yield { kind: 'read', bytes: length })!;
      crc = crc32(data, crc);
      if (type === 'eXIf') {
        seen.orientation ??= exifOrientation(data);
      } else {
        // APNG's acTL declares the frame count up front: a flood is refused from its header.
        seen.frames = data.readUInt32BE(0);
        checkFrames(seen.frames);
      }
    } else {
      yield { kind: 'skip', bytes: length, see: (part) => (crc = crc32(part, crc)) };
    }
    const stored = (yield { kind: 'read', bytes: 4 })!.readUInt32BE(0);
    if (stored !== crc) throw undecodable(`the CRC of PNG chunk ${type} does not match`);
    first = false;
    if (type === 'IEND') {
      if (length !== 0) throw undecodable('the PNG IEND chunk is not empty');
      yield { kind: 'end' };
      return;
    }
  }
}

function* walkJpeg(check: CheckPixels, seen: FactsSeen): Walk {
  const soi = (yield { kind: 'read', bytes: 2 })!;
  if (soi[0] !== 0xff || soi[1] !== 0xd8) throw undecodable('the JPEG does not start with SOI');
  let sawFrame = false;
  let sawScan = false;
  for (;;) {
    let marker = (yield { kind: 'read', bytes: 2 })!;
    if (marker[0] !== 0xff) throw undecodable('a JPEG segment does not start with a marker');
    // Fill bytes (0xFF) may precede a marker.
    while (marker[1] === 0xff) marker = Buffer.of(0xff, (yield { kind: 'read', bytes: 1 })![0]!);
    const code = marker[1]!;
    if (code === 0xd9) {
      if (!sawFrame || !sawScan) throw undecodable('the JPEG ends before any image data');
      yield { kind: 'end' };
      return;
    }
    if (code === 0xd8 || code === 0x00 || (code >= 0xd0 && code <= 0xd7) || code === 0x01) {
      throw undecodable('the JPEG has a marker out of place');
    }
    const length = (yield { kind: 'read', bytes: 2 })!.readUInt16BE(0);
    if (length < 2) throw undecodable('a JPEG segment has an impossible length');
    const isFrame = code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc;
    if (isFrame) {
      if (length < 8) throw undecodable('the JPEG frame header is too short');
      const frame = (yield { kind: 'read', bytes: length - 2 })!;
      check(frame.readUInt16BE(3), frame.readUInt16BE(1));
      if (!sawFrame) {
        seen.width = frame.readUInt16BE(3);
        seen.height = frame.readUInt16BE(1);
      }
      sawFrame = true;
    } else if (code === 0xe1 && seen.orientation === undefined) {
      // APP1: the first Exif segment carries the orientation (a segment is at most 64 KiB).
      const app1 = (yield { kind: 'read', bytes: length - 2 })!;
      if (app1.toString('latin1', 0, 6) === 'Exif\0\0') {
        seen.orientation = exifOrientation(app1.subarray(6));
      }
    } else {
      yield { kind: 'skip', bytes: length - 2 };
    }
    if (code === 0xda) {
      if (!sawFrame) throw undecodable('the JPEG has scan data before a frame header');
      sawScan = true;
      yield { kind: 'entropy' };
    }
  }
}

function* walkGif(check: CheckPixels, checkFrames: CheckFrames, seen: FactsSeen): Walk {
  const header = (yield { kind: 'read', bytes: 13 })!;
  const signature = header.toString('latin1', 0, 6);
  if (signature !== 'GIF87a' && signature !== 'GIF89a') throw undecodable('bad GIF signature');
  const screenWidth = header.readUInt16LE(6);
  const screenHeight = header.readUInt16LE(8);
  check(screenWidth, screenHeight);
  seen.width = screenWidth;
  seen.height = screenHeight;
  const flags = header[10]!;
  if ((flags & 0x80) !== 0) yield { kind: 'skip', bytes: 3 * 2 ** ((flags & 0x07) + 1) };
  let frames = 0;
  for (;;) {
    const introducer = (yield { kind: 'read', bytes: 1 })![0]!;
    if (introducer === 0x3b) {
      if (frames === 0) throw undecodable('the GIF has no image');
      yield { kind: 'end' };
      return;
    }
    if (introducer === 0x21) {
      yield { kind: 'read', bytes: 1 }; // extension label
      yield* gifSubBlocks();
    } else if (introducer === 0x2c) {
      const descriptor = (yield { kind: 'read', bytes: 9 })!;
      const left = descriptor.readUInt16LE(0);
      const top = descriptor.readUInt16LE(2);
      const width = descriptor.readUInt16LE(4);
      const height = descriptor.readUInt16LE(6);
      check(width, height);
      if (left + width > screenWidth || top + height > screenHeight) {
        // Decoders differ on frames outside the canvas; some grow the canvas to fit them.
        check(Math.max(screenWidth, left + width), Math.max(screenHeight, top + height));
      }
      const local = descriptor[8]!;
      if ((local & 0x80) !== 0) yield { kind: 'skip', bytes: 3 * 2 ** ((local & 0x07) + 1) };
      const minCodeSize = (yield { kind: 'read', bytes: 1 })![0]!;
      if (minCodeSize < 2 || minCodeSize > 11)
        throw undecodable('a GIF frame has a bad LZW code size');
      yield* gifSubBlocks();
      frames += 1;
      seen.frames = frames;
      checkFrames(frames);
    } else {
      throw undecodable('the GIF has an unknown block');
    }
  }
}

function* gifSubBlocks(): Walk {
  for (;;) {
    const size = (yield { kind: 'read', bytes: 1 })![0]!;
    if (size === 0) return;
    yield { kind: 'skip', bytes: size };
  }
}

function* walkWebp(check: CheckPixels, checkFrames: CheckFrames, seen: FactsSeen): Walk {
  const header = (yield { kind: 'read', bytes: 12 })!;
  if (header.toString('latin1', 0, 4) !== 'RIFF' || header.toString('latin1', 8, 12) !== 'WEBP') {
    throw undecodable('the WebP RIFF header is wrong');
  }
  let remaining = header.readUInt32LE(4) - 4;
  if (remaining < 8) throw undecodable('the WebP RIFF size is too small');
  let sawImage = false;
  while (remaining > 0) {
    if (remaining < 8) throw undecodable('a WebP chunk overruns the RIFF size');
    const chunk = (yield { kind: 'read', bytes: 8 })!;
    const fourcc = chunk.toString('latin1', 0, 4);
    const size = chunk.readUInt32LE(4);
    const padded = size + (size & 1);
    remaining -= 8;
    if (padded > remaining) throw undecodable(`WebP chunk ${fourcc} overruns the RIFF size`);
    if (fourcc === 'VP8X' || fourcc === 'VP8 ' || fourcc === 'VP8L') {
      const need = fourcc === 'VP8X' ? 10 : fourcc === 'VP8 ' ? 10 : 5;
      if (size < need) throw undecodable(`WebP chunk ${fourcc} is too short`);
      const head = (yield { kind: 'read', bytes: need })!;
      // The canvas (VP8X) is what is displayed; without one, the single frame's size.
      const canvas = (width: number, height: number): void => {
        check(width, height);
        if (seen.width !== undefined) return;
        seen.width = width;
        seen.height = height;
      };
      if (fourcc === 'VP8X') {
        canvas(head.readUIntLE(4, 3) + 1, head.readUIntLE(7, 3) + 1);
      } else if (fourcc === 'VP8 ') {
        if (head[3] !== 0x9d || head[4] !== 0x01 || head[5] !== 0x2a) {
          throw undecodable('the VP8 frame start code is wrong');
        }
        canvas(head.readUInt16LE(6) & 0x3fff, head.readUInt16LE(8) & 0x3fff);
        sawImage = true;
      } else {
        if (head[0] !== 0x2f) throw undecodable('the VP8L signature is wrong');
        const bits = head.readUInt32LE(1);
        canvas((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
        sawImage = true;
      }
      yield { kind: 'skip', bytes: padded - need };
    } else if (fourcc === 'EXIF' && size <= maxExifBytes && seen.orientation === undefined) {
      const exif = (yield { kind: 'read', bytes: padded })!.subarray(0, size);
      // Some writers keep JPEG's "Exif\0\0" prefix in front of the TIFF header.
      const tiff = exif.toString('latin1', 0, 6) === 'Exif\0\0' ? exif.subarray(6) : exif;
      seen.orientation = exifOrientation(tiff);
    } else {
      if (fourcc === 'ANMF') {
        sawImage = true;
        seen.frames = (seen.frames ?? 0) + 1;
        checkFrames(seen.frames);
      }
      yield { kind: 'skip', bytes: padded };
    }
    remaining -= padded;
  }
  if (!sawImage) throw undecodable('the WebP holds no image');
  yield { kind: 'end' };
}

/** Boxes held in memory to find the image size; everything else is skipped. */
const maxMetaBoxBytes = 1024 * 1024;

function* walkIsobmff(check: CheckPixels, seen: FactsSeen): Walk {
  let first = true;
  let sawMeta = false;
  for (;;) {
    const header = yield { kind: first ? 'read' : 'readOrEnd', bytes: 8 };
    if (header === undefined) break;
    const type = header.toString('latin1', 4, 8);
    if (first && type !== 'ftyp') throw undecodable('the file does not start with an ftyp box');
    first = false;
    let size = header.readUInt32BE(0);
    let headerBytes = 8;
    if (size === 1) {
      const large = (yield { kind: 'read', bytes: 8 })!.readBigUInt64BE(0);
      if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw undecodable(`box ${type} is too large`);
      size = Number(large);
      headerBytes = 16;
    }
    if (size === 0) {
      if (type === 'meta') throw undecodable('the meta box has no size');
      yield { kind: 'skipToEnd' };
      break;
    }
    if (size < headerBytes) throw undecodable(`box ${type} has an impossible size`);
    const body = size - headerBytes;
    if (type === 'meta') {
      if (body > maxMetaBoxBytes) throw undecodable('the meta box is too large');
      const meta = (yield { kind: 'read', bytes: body })!;
      const extent = findImageExtent(meta);
      if (extent === undefined) throw undecodable('the image has no size (ispe) property');
      check(extent.width, extent.height);
      seen.width = extent.width;
      seen.height = extent.height;
      seen.quarterTurn = hasQuarterTurn(meta);
      sawMeta = true;
    } else {
      yield { kind: 'skip', bytes: body };
    }
  }
  if (!sawMeta) throw undecodable('the file has no meta box');
}

/** The largest ispe (image spatial extents) property in a meta box's property container. */
function findImageExtent(meta: Buffer): ImageDimensions | undefined {
  // meta is a FullBox: 4 bytes of version and flags before its children.
  const iprp = childBox(meta, 4, 'iprp');
  const ipco = iprp === undefined ? undefined : childBox(iprp, 0, 'ipco');
  if (ipco === undefined) return undefined;
  let largest: ImageDimensions | undefined;
  for (const box of boxes(ipco, 0)) {
    if (box.type !== 'ispe' || box.body.length < 12) continue;
    const width = box.body.readUInt32BE(4);
    const height = box.body.readUInt32BE(8);
    if (largest === undefined || width * height > largest.width * largest.height) {
      largest = { width, height };
    }
  }
  return largest;
}

/** Whether an `irot` property turns the image by 90 or 270 degrees (HEIF applies it on display). */
function hasQuarterTurn(meta: Buffer): boolean {
  const iprp = childBox(meta, 4, 'iprp');
  const ipco = iprp === undefined ? undefined : childBox(iprp, 0, 'ipco');
  if (ipco === undefined) return false;
  for (const box of boxes(ipco, 0)) {
    if (box.type === 'irot' && box.body.length >= 1) return (box.body[0]! & 0x03) % 2 === 1;
  }
  return false;
}

function childBox(parent: Buffer, offset: number, type: string): Buffer | undefined {
  for (const box of boxes(parent, offset)) if (box.type === type) return box.body;
  return undefined;
}

function* boxes(parent: Buffer, offset: number): Generator<{ type: string; body: Buffer }> {
  let at = offset;
  while (at + 8 <= parent.length) {
    const size = parent.readUInt32BE(at);
    const type = parent.toString('latin1', at + 4, at + 8);
    const end = size === 0 ? parent.length : at + size;
    if (size !== 0 && size < 8) throw undecodable(`box ${type} has an impossible size`);
    if (end > parent.length) throw undecodable(`box ${type} overruns its parent`);
    yield { type, body: parent.subarray(at + 8, end) };
    at = end;
  }
  if (at !== parent.length) throw undecodable('a box is cut off');
}
