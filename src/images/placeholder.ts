import { encode as encodeBlurhash } from 'blurhash';
import type { Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import type { ImageMimeType } from './image-types.js';
import { imageError, openImage, sharedImageJobLimit } from './open-image.js';
import type { ConcurrencyLimit } from './semaphore.js';

/** What a page shows while the image loads; all three come from the same small raster. */
export interface Placeholder {
  /** ThumbHash, base64: keeps the aspect ratio and alpha. */
  readonly thumbhash: string;
  /** BlurHash, 4 x 3 components for a landscape image, 3 x 4 for a portrait one. */
  readonly blurhash: string;
  /** The average colour, each pixel weighted by its alpha, as `#rrggbb`. */
  readonly color: string;
}

/** 8-bit RGBA pixels, row by row, upright. */
export interface RgbaRaster {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** ThumbHash takes at most 100 pixels on a side. */
export const placeholderMaxSide = 100;

/** The box the placeholder's raster is made to fit. */
export const placeholderBox = {
  width: placeholderMaxSide,
  height: placeholderMaxSide,
  fit: 'inside',
} as const;

/**
 * The placeholder of a small upright RGBA raster (at most 100 pixels on a side): pure, no
 * decoding. makePlaceholder and makeVariantsAndPlaceholder make that raster from an image.
 */
export function placeholderFromRgba(raster: RgbaRaster): Placeholder {
  const { width, height, data } = raster;
  if (width < 1 || height < 1 || width > placeholderMaxSide || height > placeholderMaxSide) {
    throw new RangeError(`a placeholder needs 1 to 100 pixels a side, got ${width} x ${height}`);
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(
      `an RGBA raster of ${width} x ${height} holds ${width * height * 4} bytes`,
    );
  }
  const pixels = new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
  const landscape = width >= height;
  return {
    thumbhash: Buffer.from(rgbaToThumbHash(width, height, data)).toString('base64'),
    blurhash: encodeBlurhash(pixels, width, height, landscape ? 4 : 3, landscape ? 3 : 4),
    color: averageColour(data),
  };
}

function averageColour(data: Uint8Array): string {
  let red = 0;
  let green = 0;
  let blue = 0;
  let weight = 0;
  for (let i = 0; i < data.length; i += 4) {
    const alpha = data[i + 3]!;
    red += data[i]! * alpha;
    green += data[i + 1]! * alpha;
    blue += data[i + 2]! * alpha;
    weight += alpha;
  }
  if (weight === 0) return '#000000'; // wholly transparent: no colour to show
  const hex = (sum: number): string =>
    Math.round(sum / weight)
      .toString(16)
      .padStart(2, '0');
  return `#${hex(red)}${hex(green)}${hex(blue)}`;
}

/**
 * Runs one more pipeline of an opened image down to the placeholder's raster: at most 100 pixels
 * on a side, sRGB, 8-bit RGBA. For an animation opened with every frame, the frames are all
 * shrunk (cheap at this size) and the first one is kept.
 */
export async function placeholderRaster(
  base: Sharp,
  frames: number,
  timeoutSeconds: number,
): Promise<RgbaRaster> {
  const { data, info } = await base
    .resize({ ...placeholderBox, withoutEnlargement: true })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .timeout({ seconds: timeoutSeconds })
    .toBuffer({ resolveWithObject: true });
  const height = frames > 1 ? (info.pageHeight ?? info.height) : info.height;
  const frameBytes = info.width * height * 4;
  return { width: info.width, height, data: data.subarray(0, frameBytes) };
}

export interface PlaceholderOptions {
  readonly maxPixels: number;
  readonly timeoutSeconds: number;
  /** Shared with makeVariants; by default the process-wide one. */
  readonly limit?: ConcurrencyLimit;
  /** Gives up waiting for a place in the limit (the upload was abandoned). */
  readonly signal?: AbortSignal;
}

/**
 * The placeholder of an image (bytes, or the path of a file), from its first frame: decodes
 * it once, shrunk to at most 100 pixels a side. Rejects with AppErrors (undecodable_image,
 * too_many_pixels). To make variants too, use makeVariantsAndPlaceholder: one job, one open.
 */
export async function makePlaceholder(
  input: Buffer | string,
  type: ImageMimeType,
  options: PlaceholderOptions,
): Promise<Placeholder> {
  const limit = options.limit ?? sharedImageJobLimit;
  return limit.run(async () => {
    const image = await openImage(input, type, {
      maxPixels: options.maxPixels,
      allFrames: false,
      timeoutSeconds: options.timeoutSeconds,
    });
    try {
      return placeholderFromRgba(
        await placeholderRaster(image.pipeline(), image.frames, options.timeoutSeconds),
      );
    } catch (error) {
      throw imageError(error, type);
    }
  }, options.signal);
}
