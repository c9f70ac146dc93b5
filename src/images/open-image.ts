import os from 'node:os';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { AppError, isAppError } from '../errors.js';
import { heifImageTypes, sharedHeifDecoder, type HeifDecoder } from './codecs/heif/index.js';
import { decodeCheckedTypes, isKnownImageType, type ImageMimeType } from './image-types.js';
import { Semaphore, type ConcurrencyLimit } from './semaphore.js';

// As in src/ingest/validate-image.ts: every original is decoded once per job, so libvips'
// cache would only keep deleted spool files mapped and their pages in this process's RSS.
sharp.cache(false);

/**
 * How many images have variants or placeholders made at once, process-wide, when the caller
 * hands in no limit of its own (IMAGE_VARIANT_CONCURRENCY builds one of that size). One place
 * is one original, with every pipeline made from it.
 *
 * What bounds memory: each clone is one sharp pipeline, and sharp runs a pipeline whole on one
 * of libuv's threads (UV_THREADPOOL_SIZE, 4 by default), so at most that many are decoding at
 * any moment; a queued pipeline holds nothing but its JS object. A running one streams rows
 * (sequential read) and holds a band of them: measured as libvips' tracked high-water mark, a
 * 6000x4000 PNG costs about 30 MiB a pipeline, EXIF-rotated or not (sharp rotates after the
 * resize), and a 6000x4000 JPEG about 20 MiB for all four of three variants and a
 * placeholder, thanks to shrink-on-load. What this limit adds is that a burst of uploads
 * queues here, a few images at a time, instead of putting (variants + 1) pipelines per upload
 * on the thread pool ahead of the spool writes and hashing that every upload also needs, and
 * that each job's finished outputs are held only while it runs. A job whose outputs share one
 * decode (src/images/decode-once.ts) also holds that raster while it runs: at most
 * maxSharedRasterBytes. The originals themselves are the caller's: a Buffer stays in memory
 * until the job ends; a file path costs nothing.
 */
export const sharedImageJobLimit: ConcurrencyLimit = new Semaphore(os.availableParallelism());

/**
 * Types whose variants and placeholders can be made: those sharp's libvips decodes, and HEIC
 * and HEIF, which a codec of ours decodes into pixels that sharp takes over.
 */
export function canMakeVariants(type: ImageMimeType): boolean {
  return decodeCheckedTypes.includes(type);
}

/** A stored object's type (any string) that renditions can be made of. */
export function canRender(type: string): type is ImageMimeType {
  return isKnownImageType(type) && canMakeVariants(type);
}

export interface OpenImageOptions {
  /** Width x height at most, every frame of an animation counted (MAX_IMAGE_PIXELS). */
  readonly maxPixels: number;
  /** Decode every frame of an animation (GIF, WebP); otherwise only the first. */
  readonly allFrames: boolean;
  /** DECODE_TIMEOUT_SECONDS, for the decode a codec of ours does before sharp's work. */
  readonly timeoutSeconds: number;
  /** HEIC/HEIF's decoder (HEIC_DECODER); by default the process-wide WebAssembly one. */
  readonly heifDecoder?: HeifDecoder | undefined;
}

export interface OpenedImage {
  /**
   * A new upright pipeline over the original, not yet run: one per output. Each is its own
   * libvips pipeline with its own shrink-on-load, sharing the input Buffer. (sharp's clone()
   * would structuredClone its options, the input Buffer among them: a copy of the whole
   * original per output, and garbage for the collector.)
   */
  pipeline(): Sharp;
  /** Upright size of one frame. */
  readonly width: number;
  readonly height: number;
  /** Frames decoded: 1 unless allFrames and the image is an animation. */
  readonly frames: number;
  /**
   * What the header says of the pixels, for a decode shared by every output
   * (src/images/decode-once.ts). Undefined for HEIF, decoded once already by its codec.
   */
  readonly pixels?: {
    readonly space: string;
    readonly depth: string;
    readonly channels: number;
    readonly hasProfile: boolean;
  };
}

/**
 * Opens an original for processing: reads its header (nothing is decoded yet) and refuses it
 * if its pixels, every frame counted, exceed the limit, so the decodes that follow cannot be
 * bombs. Each `pipeline()` carries the strict decode options for untrusted input and opens
 * `input` again (a Buffer is shared, not copied).
 */
export async function openImage(
  input: Buffer | string,
  type: ImageMimeType,
  options: OpenImageOptions,
): Promise<OpenedImage> {
  if (!canMakeVariants(type)) {
    // The pipeline asks canMakeVariants first; landing here is a wiring mistake, not the client's.
    throw new Error(`sharp cannot decode ${type}; check canMakeVariants(type) first`);
  }
  if (heifImageTypes.includes(type)) return openHeif(input, options);
  const animatable = type === 'image/gif' || type === 'image/webp';
  const pages = options.allFrames && animatable ? -1 : 1;
  const pipeline = (): Sharp =>
    sharp(input, { failOn: 'warning', limitInputPixels: options.maxPixels, pages }).autoOrient();
  let header: Metadata;
  try {
    // Read apart from the pipelines, without sharp's limit, whose error would not say the size.
    header = await sharp(input, { pages, limitInputPixels: false }).metadata();
  } catch (error) {
    throw imageError(error, type);
  }
  const frames = pages === -1 ? (header.pages ?? 1) : 1;
  // With pages: -1 the height is that of every frame stacked; animations carry no orientation.
  const width = header.autoOrient.width;
  const height = frames > 1 ? (header.pageHeight ?? header.height) : header.autoOrient.height;
  if (width === 0 || height === 0) {
    throw new AppError('undecodable_image', {
      message: 'The image is not valid: it declares a zero width or height.',
    });
  }
  if (frames * width * height > options.maxPixels) {
    throw new AppError('too_many_pixels', {
      message:
        `The image declares ${width} x ${height} pixels` +
        (frames > 1 ? ` in each of ${frames} frames` : '') +
        `; at most ${options.maxPixels} pixels are accepted.`,
    });
  }
  const pixels = {
    space: header.space,
    depth: header.depth,
    channels: header.channels,
    hasProfile: header.hasProfile === true,
  };
  return { pipeline, width, height, frames, pixels };
}

/**
 * A HEIC/HEIF, decoded whole by the HEIF codec (which checks the pixel limit from the headers
 * first, and runs under the time limit) into an uncompressed image with its ICC profile, so
 * that every pipeline made from it only reads it: the HEVC decode happens once per image, not once
 * per output. The pixels are already upright: libheif applies `irot`, `imir` and `clap`.
 * Called inside the image's place in the job limit, so decodes share sharp's concurrency.
 */
async function openHeif(input: Buffer | string, options: OpenImageOptions): Promise<OpenedImage> {
  let icc: Buffer | undefined;
  try {
    // libvips' libheif reads the header (and the `colr` profile) without an HEVC decoder.
    icc = (await sharp(input, { limitInputPixels: false }).metadata()).icc;
  } catch {
    // It refuses some valid files (over 256 items): the decoder says whether this one is.
  }
  const decoder = options.heifDecoder ?? sharedHeifDecoder();
  const decoded = await decoder.decode(input, {
    maxPixels: options.maxPixels,
    timeoutMs: options.timeoutSeconds * 1000,
    icc,
  });
  // A fresh pipeline over the same decoded Buffer per output: sharp shares an input Buffer,
  // while clone() would copy it (48 MB for a 12 MP photo) on the event loop.
  const pipeline = (): Sharp => {
    const image = sharp(decoded.image, { failOn: 'warning', limitInputPixels: options.maxPixels });
    // libheif hands over RGBA always; an opaque photo need not carry the alpha further.
    return decoded.hasAlpha ? image : image.removeAlpha();
  };
  return { pipeline, width: decoded.width, height: decoded.height, frames: 1 };
}

/** Maps a sharp failure to the catalogue, so that no raw libvips message reaches a client. */
export function imageError(error: unknown, type: ImageMimeType): AppError {
  if (isAppError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) return new AppError('too_many_pixels', { cause: error });
  return new AppError('undecodable_image', {
    message: /timeout/i.test(message)
      ? `The image is not valid: it took too long to decode as ${type}.`
      : `The image is not valid: it does not decode as ${type}.`,
    cause: error,
  });
}
