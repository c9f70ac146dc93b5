import sharp, { type Sharp } from 'sharp';
import type { OpenedImage } from './open-image.js';
import type { VariantFit } from './variant-spec.js';

/**
 * Decode once: one job's outputs (variants, placeholder, display rendition) made from one
 * decode of the original, at the largest scale any of them needs, instead of one decode per
 * output. Measured on the `v` bench picture (12 MP phone JPEG, EXIF-rotated, with an ICC
 * profile; three WebP variants up to 1600 px and the placeholder), one pipeline per output
 * costs about 520 ms of CPU: the 1600 px variant's own pipeline decodes at full size (sharp
 * skips the 1/2 shrink-on-load when the reduction is below 3) and converts all 12 MP through
 * the profile before resizing, and each smaller output decodes the file again.
 *
 * What is shared is an 8-bit, upright, sRGB raster of that largest scale, held in memory while
 * the job runs; every output is a pipeline over it (`sharp(raster, { raw })`), which reads it
 * without a copy. When the original has an ICC profile, the colour conversion is done once,
 * after the reduction to that scale: the first pass keeps the profile and writes an
 * uncompressed TIFF carrying it, and a second pass converts that TIFF to sRGB. Measured with
 * bench/eager-stages.ts: the second pass (read the TIFF, convert 1.9 MP) costs 17 ms, where
 * converting before the reduction adds 85 ms to the decode (187 against 101 ms).
 */

/** 8-bit pixels, upright, sRGB (or grey), row by row. */
export interface SharedRaster {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

/**
 * The most memory one job's shared raster may take (the TIFF of the first pass is as large
 * and lives until the second pass has read it): past it, each output streams its own
 * pipeline as before, holding a band of rows rather than a whole raster. 32 MiB is a
 * 3264 x 2448 RGBA raster, or 3700 x 2800 RGB: every preset a page shows, not a 12 MP
 * display rendition.
 */
export const maxSharedRasterBytes = 32 * 1024 * 1024;

/** What an output asks of the image: a box and how the image meets it. */
export interface OutputBox {
  readonly width: number;
  readonly height: number;
  readonly fit: VariantFit;
}

/**
 * The scale (at most 1: nothing is enlarged) at which an upright image of width x height
 * holds every pixel an output of `box` needs: `cover` must cover the box, the others fit in it.
 */
export function scaleNeeded(box: OutputBox, width: number, height: number): number {
  const ratios = [box.width / width, box.height / height];
  const scale = box.fit === 'cover' ? Math.max(...ratios) : Math.min(...ratios);
  return Math.min(1, scale);
}

/** The pipeline that reads a shared raster: one per output. */
export function rasterPipeline(raster: SharedRaster): Sharp {
  const { width, height, channels } = raster;
  return sharp(raster.data, { raw: { width, height, channels } });
}

/**
 * Decodes an opened image once into a raster at `scale` (the largest any output needs), or
 * says undefined where a shared raster is not the better way, and each output should open the
 * original itself:
 * - animations (each output keeps or drops frames its own way) and HEIF (already decoded
 *   once by its codec, into a raster of its own);
 * - pixels other than 8-bit RGB or grey (CMYK, 16-bit, Lab), whose conversion sharp decides
 *   per pipeline;
 * - a raster over maxSharedRasterBytes.
 * `secondsLeft` is what remains of the job's time limit, asked for at the start of each pass;
 * the pixel limit was checked by openImage from the header, and the pipelines carry it.
 * Sharp's errors are the caller's to map.
 */
export async function decodeOnce(
  image: OpenedImage,
  scale: number,
  secondsLeft: () => number,
): Promise<SharedRaster | undefined> {
  const { pixels } = image;
  if (pixels === undefined || image.frames !== 1) return undefined;
  if (pixels.depth !== 'uchar' || (pixels.space !== 'srgb' && pixels.space !== 'b-w')) {
    return undefined;
  }
  // A hair under, so that 3000 x 0.4 (1200.0000000000002) stays 1200.
  const width = Math.max(1, Math.min(image.width, Math.ceil(image.width * scale - 1e-6)));
  const height = Math.max(1, Math.min(image.height, Math.ceil(image.height * scale - 1e-6)));
  if (width * height * Math.max(3, pixels.channels) > maxSharedRasterBytes) return undefined;

  let pipeline = image.pipeline();
  if (width !== image.width || height !== image.height) {
    pipeline = pipeline.resize({ width, height, fit: 'fill' });
  }
  if (pixels.hasProfile) {
    // Device pixels and their profile, reduced first; the conversion reads the small image.
    const carrier = await pipeline
      .keepIccProfile()
      .tiff({ compression: 'none' })
      .timeout({ seconds: secondsLeft() })
      .toBuffer();
    try {
      return await rasterOf(sharp(carrier, { failOn: 'warning' }), secondsLeft);
    } finally {
      release(carrier);
    }
  }
  return rasterOf(pipeline, secondsLeft);
}

async function rasterOf(pipeline: Sharp, secondsLeft: () => number): Promise<SharedRaster> {
  const { data, info } = await pipeline
    .raw({ depth: 'uchar' })
    .timeout({ seconds: secondsLeft() })
    .toBuffer({ resolveWithObject: true });
  return {
    data,
    width: info.width,
    height: info.height,
    channels: info.channels,
  };
}

/**
 * Gives the memory of a buffer sharp made back at once, once no pipeline reads it any more
 * (every one that did has settled): detached, it is freed now rather than at a later garbage
 * collection. Buffers this large, made per upload, are what would otherwise set V8's major
 * collections going (its limit on memory outside the heap): measured beside a 1.5 M-object
 * heap, 36 ms of GC pauses per job without this and 4 ms with it (1 ms before decode-once).
 */
export function release(buffer: Buffer): void {
  const memory: ArrayBufferLike = buffer.buffer;
  // By shape, not instanceof (which fails across jest's realms): a SharedArrayBuffer has no
  // transfer(). And only a buffer that owns its memory whole: a view into Node's pool must not
  // be detached.
  if (
    'transfer' in memory &&
    buffer.byteOffset === 0 &&
    buffer.byteLength === memory.byteLength &&
    !memory.detached
  ) {
    memory.transfer(0);
  }
}
