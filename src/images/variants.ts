import type { FitEnum, OutputInfo, Sharp } from 'sharp';
import type { HeifDecoder } from './codecs/heif/index.js';
import {
  decodeOnce,
  rasterPipeline,
  release,
  scaleNeeded,
  type SharedRaster,
} from './decode-once.js';
import { displayRendition } from './display-rendition.js';
import type { ImageMimeType } from './image-types.js';
import { imageError, openImage, sharedImageJobLimit } from './open-image.js';
import {
  placeholderBox,
  placeholderFromRgba,
  placeholderRaster,
  type Placeholder,
} from './placeholder.js';
import type { ConcurrencyLimit } from './semaphore.js';
import {
  variantContentType,
  variantExtension,
  variantFormats,
  type VariantFormat,
  type VariantSpec,
} from './variant-spec.js';

export { canMakeVariants } from './open-image.js';

export interface Variant {
  readonly name: string;
  /** Size of one frame. */
  readonly width: number;
  readonly height: number;
  /** More than 1 only for an animation written as animated WebP. */
  readonly frames: number;
  readonly bytes: Buffer;
  readonly contentType: ImageMimeType;
  readonly extension: string;
}

export interface VariantOptions {
  /** MAX_IMAGE_PIXELS: every frame of an animation counted together. */
  readonly maxPixels: number;
  /** Sharp gives up on one pipeline after this long (DECODE_TIMEOUT_SECONDS). */
  readonly timeoutSeconds: number;
  readonly format: VariantFormat;
  /** 1 to 100; by default the format's own (80 for WebP and JPEG, 50 for AVIF). */
  readonly quality?: number;
  /**
   * What a variant of an animation (GIF, animated WebP) is. `keep` (the default): every frame,
   * with the original's delays and loop count, when the format holds frames (WebP); the first
   * frame in AVIF and JPEG, which do not. `first-frame`: always the first frame, a still image.
   */
  readonly animation?: 'keep' | 'first-frame';
  /**
   * How many originals are processed at once; by default the process-wide limit (one per CPU).
   * Waiting for a place is where a burst of uploads queues instead of decoding all at once.
   */
  readonly limit?: ConcurrencyLimit;
  /** Gives up waiting for a place in the limit (the upload was abandoned). */
  readonly signal?: AbortSignal;
  /** Make the display rendition too (src/images/display-rendition.ts), from the same decode. */
  readonly display?: boolean;
  /** HEIC/HEIF's decoder (HEIC_DECODER); by default the process-wide WebAssembly one. */
  readonly heifDecoder?: HeifDecoder | undefined;
}

/** What one job makes from an original. */
export interface Derivatives {
  readonly variants: Variant[];
  readonly placeholder: Placeholder | undefined;
  /** Only when asked for (`display`). */
  readonly display: Variant | undefined;
}

/**
 * Makes one variant per spec of an image (its bytes, or the path of a file): upright (EXIF
 * orientation applied), never enlarged, sRGB with no embedded profile, no metadata at all,
 * in the configured format. Rejects with AppErrors (undecodable_image, too_many_pixels).
 */
export async function makeVariants(
  input: Buffer | string,
  type: ImageMimeType,
  specs: readonly VariantSpec[],
  options: VariantOptions,
): Promise<Variant[]> {
  return (await runDerivatives(input, type, specs, options, false)).variants;
}

/** As makeVariants, and the image's placeholder from one more tiny pipeline of the same job. */
export async function makeVariantsAndPlaceholder(
  input: Buffer | string,
  type: ImageMimeType,
  specs: readonly VariantSpec[],
  options: VariantOptions,
): Promise<{ variants: Variant[]; placeholder: Placeholder }> {
  const { variants, placeholder } = await runDerivatives(input, type, specs, options, true);
  return { variants, placeholder: placeholder! };
}

/** Everything one upload makes from its original, in one job and from one decode. */
export function makeDerivatives(
  input: Buffer | string,
  type: ImageMimeType,
  specs: readonly VariantSpec[],
  options: VariantOptions & { readonly placeholder: boolean },
): Promise<Derivatives> {
  return runDerivatives(input, type, specs, options, options.placeholder);
}

/**
 * One job per original, holding one place in the limit: the header is read once, then the
 * original is decoded once, at the largest scale any output needs, into a raster that every
 * output reads (src/images/decode-once.ts), the outputs running in parallel on libuv's thread
 * pool. Where a shared raster is not the better way (one output only, an animation, HEIF,
 * CMYK or 16-bit pixels, a raster past its memory bound), each output opens the input itself
 * (`image.pipeline()`), so that a JPEG still shrinks on load to suit that output's size.
 */
async function runDerivatives(
  input: Buffer | string,
  type: ImageMimeType,
  specs: readonly VariantSpec[],
  options: VariantOptions,
  withPlaceholder: boolean,
): Promise<Derivatives> {
  const { format } = options;
  const quality = options.quality ?? variantFormats[format].defaultQuality;
  const allFrames = (options.animation ?? 'keep') === 'keep' && variantFormats[format].keepsFrames;
  const limit = options.limit ?? sharedImageJobLimit;
  return limit.run(async () => {
    // One time limit for the whole job, however many passes it takes.
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    const secondsLeft = (): number => Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const image = await openImage(input, type, {
      maxPixels: options.maxPixels,
      allFrames,
      timeoutSeconds: options.timeoutSeconds,
      heifDecoder: options.heifDecoder,
    });
    const boxes = specs.map((spec) => ({
      ...boxFor(spec, image.width, image.height),
      fit: spec.fit,
    }));
    const display = options.display === true;
    const needs = [
      ...boxes,
      ...(withPlaceholder ? [placeholderBox] : []),
      ...(display ? [{ width: image.width, height: image.height, fit: 'inside' as const }] : []),
    ];
    let raster: SharedRaster | undefined;
    if (needs.length > 1) {
      const scale = Math.max(...needs.map((box) => scaleNeeded(box, image.width, image.height)));
      try {
        raster = await decodeOnce(image, scale, secondsLeft);
      } catch (error) {
        throw imageError(error, type);
      }
    }
    const source = (): Sharp => (raster === undefined ? image.pipeline() : rasterPipeline(raster));
    const variantJobs = specs.map(async (spec, index): Promise<Variant> => {
      const box = boxes[index]!;
      const pipeline = resizeToBox(source(), box, spec.fit);
      const { data, info } = await encode(pipeline, format, quality)
        .timeout({ seconds: secondsLeft() })
        .toBuffer({ resolveWithObject: true });
      const frames = info.pages ?? 1;
      return {
        name: spec.name,
        width: info.width,
        height: frameHeight(info),
        frames,
        bytes: data,
        contentType: variantContentType(format),
        extension: variantExtension(format),
      };
    });
    const displayJob = display
      ? encode(source(), displayRendition.format, displayRendition.quality, 'fast')
          .timeout({ seconds: secondsLeft() })
          .toBuffer({ resolveWithObject: true })
          .then(({ data, info }): Variant => ({
            name: displayRendition.name,
            width: info.width,
            height: info.height,
            frames: 1,
            bytes: data,
            contentType: variantContentType(displayRendition.format),
            extension: variantExtension(displayRendition.format),
          }))
      : Promise.resolve(undefined);
    const placeholderJob = withPlaceholder
      ? placeholderRaster(source(), image.frames, secondsLeft()).then(placeholderFromRgba)
      : Promise.resolve(undefined);
    // Every pipeline must have ended before the place is given back: one that failed early
    // must not let the next image start while its siblings still hold their memory.
    const [displayMade, placeholder, ...variants] = await Promise.allSettled([
      displayJob,
      placeholderJob,
      ...variantJobs,
    ]);
    // Every pipeline over the raster has settled: nothing reads it any more.
    if (raster !== undefined) release(raster.data);
    const failed = [displayMade, placeholder, ...variants].find(
      (result) => result.status === 'rejected',
    );
    if (failed !== undefined) throw imageError(failed.reason, type);
    return {
      variants: variants.map((result) => (result as PromiseFulfilledResult<Variant>).value),
      placeholder: (placeholder as PromiseFulfilledResult<Placeholder | undefined>).value,
      display: (displayMade as PromiseFulfilledResult<Variant | undefined>).value,
    };
  }, options.signal);
}

/**
 * The box handed to sharp, so that `cover` and `contain` keep the spec's aspect ratio without
 * enlarging an image smaller than the box (sharp's withoutEnlargement alone would leave it
 * uncropped, or pad it out to the full box). `inside` needs no help.
 */
export function boxFor(
  spec: { readonly width: number; readonly height: number; readonly fit: string },
  width: number,
  height: number,
): { width: number; height: number } {
  if (spec.fit !== 'cover' && spec.fit !== 'contain') return spec;
  const ratios = [width / spec.width, height / spec.height];
  // cover: the largest box of the spec's shape inside the image; contain: the smallest around it.
  const scale = Math.min(1, spec.fit === 'cover' ? Math.min(...ratios) : Math.max(...ratios));
  return {
    width: Math.max(1, Math.round(spec.width * scale)),
    height: Math.max(1, Math.round(spec.height * scale)),
  };
}

/**
 * sRGB always: sharp's output is sRGB by default, converted through the input's embedded
 * profile (Display P3, a CMYK JPEG's or its own CMYK default), and no profile is written, which
 * browsers read as sRGB. No explicit toColourspace('srgb'): it gives the same pixels and cost
 * a 12 MP JPEG's 640 px rendition a third more time (117 against 155 ms, measured in one
 * process). No metadata is kept: sharp drops EXIF, XMP, ICC and orientation unless told to
 * keep them, and it is not.
 */
export function encode(
  pipeline: Sharp,
  format: VariantFormat,
  quality: number,
  effort: 'small' | 'fast' = 'small',
): Sharp {
  switch (format) {
    case 'webp':
      return pipeline.webp({ quality });
    case 'avif':
      return pipeline.avif({ quality });
    case 'jpeg':
      // JPEG has no alpha: flatten onto white rather than let transparent pixels turn black.
      // mozjpeg's trellis search saves a tenth of the bytes for three times the time: worth it
      // for the small variants a page loads often, not for a full-size display rendition.
      return pipeline
        .flatten({ background: '#ffffff' })
        .jpeg({ quality, mozjpeg: effort === 'small' });
  }
}

/** Resized into `box`, never enlarged; `contain` pads transparent (white once JPEG drops it). */
export function resizeToBox(
  pipeline: Sharp,
  box: { readonly width: number; readonly height: number },
  fit: keyof FitEnum,
  position: string | number = 'centre',
): Sharp {
  return pipeline.resize({
    width: box.width,
    height: box.height,
    fit,
    position,
    withoutEnlargement: true,
    background: { r: 255, g: 255, b: 255, alpha: 0 },
  });
}

/** An encoded image's height: one frame's, for an animation. */
export function frameHeight(info: OutputInfo): number {
  return (info.pages ?? 1) > 1 ? (info.pageHeight ?? info.height) : info.height;
}
