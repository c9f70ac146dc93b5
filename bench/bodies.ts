import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { multipartFile, rawBody } from '../__tests__/support/requests.ts';

/** The ways POST /v1/images takes an image. */
export type InputStyle = 'json' | 'multipart' | 'raw';

/** What one scenario sends: the same body on every request, and what must end up stored. */
export interface RequestBody {
  readonly style: InputStyle;
  /** The image inside the body; every stored object must be exactly these bytes. */
  readonly image: Buffer;
  readonly sha256: string;
  readonly contentType: string;
  /**
   * `{"data":"data:image/jpeg;base64,..."}`, a multipart form with the image as its `file`
   * part, or the image itself.
   */
  readonly payload: Buffer;
}

const fixtures = path.resolve(import.meta.dirname, '../__tests__/fixtures');

export function readFixture(name: string): Buffer {
  return readFileSync(path.join(fixtures, name));
}

const maxComPayload = 65533; // a segment's 16-bit length counts itself (2 bytes) plus the payload
const comSegmentOverhead = 4; // FF FE and the two length bytes

/**
 * Makes a real JPEG exactly `targetBytes` long by adding COM (comment, 0xFFFE) segments, so
 * the result is still a well-formed JPEG that a strict marker walker or a decoder accepts
 * (trailing bytes after EOI would be rejected by validation). The comments go after the
 * leading APPn segments (JFIF APP0 must stay first), before the tables and the scan.
 */
export function padJpeg(jpeg: Buffer, targetBytes: number): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG (no SOI)');
  const extra = targetBytes - jpeg.length;
  if (extra === 0) return jpeg;
  if (extra < comSegmentOverhead) {
    throw new Error(
      `cannot pad a ${jpeg.length}-byte JPEG to ${targetBytes} bytes: a comment needs 4 bytes`,
    );
  }

  let insertAt = 2;
  while (jpeg[insertAt] === 0xff && jpeg[insertAt + 1]! >= 0xe0 && jpeg[insertAt + 1]! <= 0xef) {
    insertAt += 2 + jpeg.readUInt16BE(insertAt + 2);
  }

  // Spread the extra bytes evenly over as few segments as possible; each is 4..65537 bytes.
  const segmentCount = Math.ceil(extra / (maxComPayload + comSegmentOverhead));
  const base = Math.floor(extra / segmentCount);
  const remainder = extra % segmentCount;
  const segments: Buffer[] = [];
  const filler = Buffer.from('image-ingest benchmark padding. ');
  for (let i = 0; i < segmentCount; i++) {
    const size = base + (i < remainder ? 1 : 0);
    const segment = Buffer.alloc(size);
    segment[0] = 0xff;
    segment[1] = 0xfe;
    segment.writeUInt16BE(size - 2, 2);
    for (let at = comSegmentOverhead; at < size; at += filler.length) {
      filler.copy(segment, at, 0, Math.min(filler.length, size - at));
    }
    segments.push(segment);
  }
  return Buffer.concat([jpeg.subarray(0, insertAt), ...segments, jpeg.subarray(insertAt)]);
}

/**
 * A real JPEG of about `targetBytes`: large.jpg (~1 MiB, a real 1600x1200 photo-like image)
 * for sizes at or above it, photo.jpg below, padded up with comments. `0` means large.jpg as is.
 */
export function jpegOfSize(targetBytes: number): Buffer {
  const large = readFixture('large.jpg');
  if (targetBytes === 0 || targetBytes === large.length) return large;
  const base = targetBytes >= large.length ? large : readFixture('photo.jpg');
  return padJpeg(base, targetBytes);
}

/**
 * `jpeg` as a phone would send it: the APPn and COM segments of phone-o6.jpg (EXIF with GPS,
 * make, model and serial numbers, XMP, IPTC, an ICC profile) put in after its SOI, so that the
 * metadata stripper has real work: segments to drop, an orientation to write back.
 */
export function withPhoneMetadata(jpeg: Buffer): Buffer {
  const phone = readFixture('phone-o6.jpg');
  let end = 2;
  while (
    phone[end] === 0xff &&
    ((phone[end + 1]! >= 0xe0 && phone[end + 1]! <= 0xef) || phone[end + 1] === 0xfe)
  ) {
    end += 2 + phone.readUInt16BE(end + 2);
  }
  return Buffer.concat([jpeg.subarray(0, 2), phone.subarray(2, end), jpeg.subarray(2)]);
}

/** A camera's picture, made by sharp: its size, the JPEG quality, and how grainy it is. */
export interface CameraPicture {
  readonly width: number;
  readonly height: number;
  /** 1 to 100: a phone writes 85 to 90. */
  readonly quality: number;
  /** Amplitude of the noise over the smooth pattern, 0 to 127; more noise, more bytes. */
  readonly noise: number;
}

const cameraPictures = new Map<string, Promise<Buffer>>();

/**
 * A real JPEG of a camera's size (every byte entropy-coded pixels, nothing padded): smooth
 * colour waves plus seeded noise, the same bytes on every run. Made once per run for each
 * picture asked for (4000 x 3000 at q88 takes about 2 s; about 3.7 MiB), then handed out again.
 */
export function cameraJpeg(picture: CameraPicture): Promise<Buffer> {
  const key = JSON.stringify(picture);
  let made = cameraPictures.get(key);
  if (made === undefined) {
    made = makeCameraJpeg(picture);
    cameraPictures.set(key, made);
  }
  return made;
}

async function makeCameraJpeg({ width, height, quality, noise }: CameraPicture): Promise<Buffer> {
  const channels = 3;
  // Waves along x and along y, multiplied per channel: smooth areas and gradients, as in a photo.
  const along = (length: number, period: number) =>
    Array.from({ length: channels }, (_, c) =>
      Float64Array.from({ length }, (_, i) => Math.sin(i / (period + 97 * c) + c)),
    );
  const xs = along(width, 397);
  const ys = along(height, 251);
  const pixels = Buffer.alloc(width * height * channels);
  const random = mulberry32();
  let at = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const grain = random() / 2 ** 32 - 0.5;
        const value = 128 + 90 * xs[c]![x]! * ys[c]![y]! + 2 * noise * grain;
        pixels[at++] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  return sharp(pixels, { raw: { width, height, channels } }).jpeg({ quality }).toBuffer();
}

/** mulberry32: deterministic, fast, good enough for grain; one unsigned 32-bit value a call. */
function mulberry32(seed = 0x9e3779b9): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Bytes per pixel of uniform RGB noise as a q100 4:4:4 baseline JPEG (measured: 2.92). */
const noiseJpegBytesPerPixel = 2.9;
const noiseJpegs = new Map<number, Promise<Buffer>>();

/**
 * A real JPEG of at least about `targetBytes` that is all entropy-coded pixels: a square of
 * seeded uniform RGB noise at quality 100 without chroma subsampling, which compresses least
 * (about 2.9 bytes a pixel, so 100 MiB is a 6000 x 6000 picture, 36 MP, within the default
 * MAX_IMAGE_PIXELS). Nothing for a metadata stripper to drop: what it stores is what was sent.
 * The same bytes on every run; made once per run for each size (100 MiB: a few seconds).
 */
export function noiseJpeg(targetBytes: number): Promise<Buffer> {
  let made = noiseJpegs.get(targetBytes);
  if (made === undefined) {
    const side = Math.ceil(Math.sqrt(targetBytes / noiseJpegBytesPerPixel));
    const pixels = Buffer.alloc(side * side * 3);
    const random = mulberry32();
    for (let at = 0; at < pixels.length; at++) pixels[at] = random() >>> 24;
    made = sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toBuffer();
    noiseJpegs.set(targetBytes, made);
  }
  return made;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export function jsonImageBody(image: Buffer, mimeType = 'image/jpeg'): RequestBody {
  const json = Buffer.from(
    JSON.stringify({ data: `data:${mimeType};base64,${image.toString('base64')}` }),
  );
  return {
    style: 'json',
    image,
    sha256: sha256(image),
    contentType: 'application/json',
    payload: json,
  };
}

/**
 * As a browser's FormData (or `curl -F file=@photo.jpg`) sends it: one part named `file`,
 * `filename="photo.jpg"`, `Content-Type: image/jpeg`, CRLF line ends, a random boundary. Built
 * by the tests' own builder, so the bench sends what the tests send.
 */
export function multipartImageBody(image: Buffer): RequestBody {
  const { contentType, body } = multipartFile(image, 'image/jpeg', 'photo.jpg');
  return { style: 'multipart', image, sha256: sha256(image), contentType, payload: body };
}

/** The image as it is, `Content-Type: image/jpeg`. */
export function rawImageBody(image: Buffer, mimeType = 'image/jpeg'): RequestBody {
  const { contentType, body } = rawBody(image, mimeType);
  return { style: 'raw', image, sha256: sha256(image), contentType, payload: body };
}

export function imageBody(style: InputStyle, image: Buffer): RequestBody {
  if (style === 'multipart') return multipartImageBody(image);
  if (style === 'raw') return rawImageBody(image);
  return jsonImageBody(image);
}
