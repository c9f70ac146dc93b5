import sharp, { type Sharp } from 'sharp';
import { AppError } from '../errors.js';
import type { ImageMimeType } from './image-types.js';
import type { HeifDecoder } from './codecs/heif/index.js';
import { imageError, openImage, sharedImageJobLimit } from './open-image.js';
import type { ConcurrencyLimit } from './semaphore.js';
import { boxFor, encode, frameHeight, resizeToBox } from './variants.js';

/** One rendition, every choice made (src/renditions/rendition-params.ts decides them). */
export interface RenderSpec {
  /** The box in output pixels; an undefined side follows the aspect ratio. */
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly fit: 'cover' | 'contain' | 'inside' | 'fill';
  readonly format: 'avif' | 'webp' | 'jpeg' | 'png';
  /** Undefined for PNG. */
  readonly quality: number | undefined;
  readonly gravity: 'centre' | 'focus' | 'attention' | 'entropy';
  /** The image's focal point (0..1 from the left and the top), for gravity=focus. */
  readonly focus?: { readonly x: number; readonly y: number } | undefined;
}

export interface RenderOptions {
  /** MAX_IMAGE_PIXELS: the original's pixels, every frame counted, before anything is decoded. */
  readonly maxInputPixels: number;
  /** RENDER_MAX_PIXELS: the output's pixels (one frame). */
  readonly maxOutputPixels: number;
  /** DECODE_TIMEOUT_SECONDS: sharp gives up on the pipeline after this long. */
  readonly timeoutSeconds: number;
  /** The app's image job limit (IMAGE_VARIANT_CONCURRENCY), shared with uploads' variants. */
  readonly limit?: ConcurrencyLimit | undefined;
  /** HEIC/HEIF's decoder (HEIC_DECODER); by default the process-wide WebAssembly one. */
  readonly heifDecoder?: HeifDecoder | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface Rendered {
  readonly bytes: Buffer;
  readonly width: number;
  readonly height: number;
  readonly contentType: ImageMimeType;
}

export const contentTypes = {
  avif: 'image/avif',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
} as const satisfies Record<RenderSpec['format'], ImageMimeType>;

/**
 * Renders one image from its original (`load` reads its bytes, or names its file, which sharp
 * then reads itself, holding no copy in JavaScript): the header is read first (refused past
 * MAX_IMAGE_PIXELS, and the output past RENDER_MAX_PIXELS, before a pixel is decoded), then
 * one sharp pipeline decodes with shrink-on-load (JPEG, WebP) straight to the box's scale,
 * upright, converted to sRGB, with no metadata, never enlarged. Animations as variants treat
 * them: every frame in WebP, the first in the other formats.
 */
export async function renderImage(
  load: () => Promise<Buffer | string>,
  type: ImageMimeType,
  spec: RenderSpec,
  options: RenderOptions,
): Promise<Rendered> {
  const limit = options.limit ?? sharedImageJobLimit;
  return limit.run(async () => {
    // Read only once a place is held: renders waiting their turn hold no original's bytes.
    const input = await load();
    const image = await openImage(input, type, {
      maxPixels: options.maxInputPixels,
      allFrames: spec.format === 'webp',
      timeoutSeconds: options.timeoutSeconds,
      heifDecoder: options.heifDecoder,
    });
    const out = outputSize(spec, image.width, image.height);
    if (out.width * out.height > options.maxOutputPixels) {
      throw new AppError('invalid_render_parameter', {
        message:
          `The rendition parameter "${spec.width === undefined ? 'h' : 'w'}" makes ` +
          `${out.width} x ${out.height} pixels of this image; at most ` +
          `${options.maxOutputPixels} (RENDER_MAX_PIXELS).`,
      });
    }
    const pipeline = resized(image.pipeline(), spec, image.width, image.height);
    try {
      const { data, info } = await encodeAs(pipeline, spec)
        .timeout({ seconds: options.timeoutSeconds })
        .toBuffer({ resolveWithObject: true });
      return {
        bytes: data,
        width: info.width,
        height: frameHeight(info),
        contentType: contentTypes[spec.format],
      };
    } catch (error) {
      throw imageError(error, type);
    }
  }, options.signal);
}

/** The size a spec gives an upright image of width x height (never larger than it). */
function outputSize(
  spec: RenderSpec,
  width: number,
  height: number,
): { width: number; height: number } {
  const { width: boxWidth, height: boxHeight } = spec;
  if (boxWidth === undefined || boxHeight === undefined) {
    const scale = Math.min(
      1,
      boxWidth === undefined ? Infinity : boxWidth / width,
      boxHeight === undefined ? Infinity : boxHeight / height,
    );
    return {
      width: Math.max(1, Math.round(width * scale)),
      height: Math.max(1, Math.round(height * scale)),
    };
  }
  if (spec.fit === 'fill') {
    return { width: Math.min(boxWidth, width), height: Math.min(boxHeight, height) };
  }
  const box = boxFor({ width: boxWidth, height: boxHeight, fit: spec.fit }, width, height);
  if (spec.fit !== 'inside') return box;
  const scale = Math.min(1, box.width / width, box.height / height);
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

function resized(pipeline: Sharp, spec: RenderSpec, width: number, height: number): Sharp {
  if (spec.width === undefined || spec.height === undefined) {
    return pipeline.resize({
      ...(spec.width === undefined ? {} : { width: spec.width }),
      ...(spec.height === undefined ? {} : { height: spec.height }),
      fit: 'inside',
      withoutEnlargement: true,
    });
  }
  if (spec.fit === 'fill') {
    // Each side on its own: never enlarged, though the aspect ratio is not kept.
    return pipeline.resize({
      width: Math.min(spec.width, width),
      height: Math.min(spec.height, height),
      fit: 'fill',
    });
  }
  const box = boxFor({ width: spec.width, height: spec.height, fit: spec.fit }, width, height);
  if (spec.fit === 'cover' && spec.gravity === 'focus' && spec.focus !== undefined) {
    return aroundFocus(pipeline, box, width, height, spec.focus);
  }
  return resizeToBox(pipeline, box, spec.fit, positionOf(spec.gravity));
}

/**
 * `cover` around a focal point: scaled so the box is covered, then the box cut out with the
 * point as near its centre as the image's edges allow (Mastodon's and Directus' focus).
 */
function aroundFocus(
  pipeline: Sharp,
  box: { width: number; height: number },
  width: number,
  height: number,
  focus: { x: number; y: number },
): Sharp {
  const scale = Math.max(box.width / width, box.height / height);
  const scaledWidth = Math.max(box.width, Math.round(width * scale));
  const scaledHeight = Math.max(box.height, Math.round(height * scale));
  const clamp = (value: number, max: number): number => Math.min(Math.max(0, value), max);
  const left = clamp(Math.round(focus.x * scaledWidth - box.width / 2), scaledWidth - box.width);
  const top = clamp(Math.round(focus.y * scaledHeight - box.height / 2), scaledHeight - box.height);
  return pipeline
    .resize({ width: scaledWidth, height: scaledHeight, fit: 'fill' })
    .extract({ left, top, width: box.width, height: box.height });
}

function positionOf(gravity: RenderSpec['gravity']): string | number {
  switch (gravity) {
    case 'attention':
      return sharp.strategy.attention;
    case 'entropy':
      return sharp.strategy.entropy;
    default:
      // `focus` without a focal point recorded crops around the centre.
      return 'centre';
  }
}

function encodeAs(pipeline: Sharp, spec: RenderSpec): Sharp {
  if (spec.format === 'png') return pipeline.png({ compressionLevel: 6 });
  return encode(pipeline, spec.format, spec.quality ?? 80);
}
