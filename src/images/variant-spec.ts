/**
 * What a variant is: the resized copies of an uploaded image the service can make, the formats
 * they are written in, and the grammar of IMAGE_VARIANTS. Config reads the settings and names
 * the variable; the parsing and the facts live here, beside the images code that uses them.
 */

import { extensionOf, type ImageMimeType } from './image-types.js';

/**
 * How an image meets its box. Whatever the fit, an image is never enlarged:
 * - `inside` (the default): scaled down to fit within W x H, keeping its aspect ratio.
 * - `cover`: scaled down and centre-cropped to exactly W x H. An image smaller than the box is
 *   cropped, unscaled, to the largest rectangle of the box's aspect ratio it holds.
 * - `contain`: scaled down to fit within W x H and padded (transparent; white in JPEG) to
 *   exactly W x H. An image smaller than the box is padded, unscaled, to the smallest
 *   rectangle of the box's aspect ratio that holds it.
 */
export const variantFits = ['inside', 'cover', 'contain'] as const;
export type VariantFit = (typeof variantFits)[number];

export interface VariantSpec {
  /** Names the variant's object and the key of its record: `[a-z][a-z0-9_-]{0,31}`. */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly fit: VariantFit;
}

/**
 * The output formats. Only WebP keeps an animation's frames; AVIF (as sharp writes it) and
 * JPEG hold one picture, so a variant of an animation in those is its first frame.
 */
export const variantFormats = {
  webp: { contentType: 'image/webp', keepsFrames: true, defaultQuality: 80 },
  avif: { contentType: 'image/avif', keepsFrames: false, defaultQuality: 50 },
  jpeg: { contentType: 'image/jpeg', keepsFrames: false, defaultQuality: 80 },
} as const satisfies Record<
  string,
  { contentType: ImageMimeType; keepsFrames: boolean; defaultQuality: number }
>;
export type VariantFormat = keyof typeof variantFormats;

export function isVariantFormat(value: string): value is VariantFormat {
  return Object.hasOwn(variantFormats, value);
}

export function variantContentType(format: VariantFormat): ImageMimeType {
  return variantFormats[format].contentType;
}

export function variantExtension(format: VariantFormat): string {
  return extensionOf(variantFormats[format].contentType);
}

/** What happens to an original's metadata (EXIF, XMP, ICC) when it is stored. */
export const metadataModes = ['strip', 'keep'] as const;
export type MetadataMode = (typeof metadataModes)[number];

export function isMetadataMode(value: string): value is MetadataMode {
  return (metadataModes as readonly string[]).includes(value);
}

/** Each variant is one more encode per upload: a handful is what a page needs. */
export const maxVariants = 8;
/** Larger than any screen needs, and inside WebP's own limit of 16383 per side. */
export const maxVariantSide = 8192;

const namePattern = /^[a-z][a-z0-9_-]{0,31}$/;
const sizePattern = /^(\d{1,9})(?:x(\d{1,9}))?$/;

/** A problem with the text of IMAGE_VARIANTS; config turns it into a ConfigError naming it. */
export class VariantSpecError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'VariantSpecError';
  }
}

/**
 * Parses IMAGE_VARIANTS: comma-separated entries `name:size[:fit]`, where size is `W` (a box
 * of W x W) or `WxH`, and fit is `inside` (the default), `cover` or `contain`. For example
 * `thumbnail:320x320:cover,small:640,large:1600x1200`. Empty text means no variants.
 * Throws VariantSpecError saying which entry is wrong and why.
 */
export function parseVariantSpecs(text: string): VariantSpec[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length > maxVariants) {
    throw new VariantSpecError(`lists ${entries.length} variants; at most ${maxVariants} allowed`);
  }
  const specs: VariantSpec[] = [];
  for (const entry of entries) {
    const spec = parseEntry(entry);
    if (specs.some((other) => other.name === spec.name)) {
      throw new VariantSpecError(`names the variant "${spec.name}" more than once`);
    }
    specs.push(spec);
  }
  return specs;
}

function parseEntry(entry: string): VariantSpec {
  const parts = entry.split(':').map((part) => part.trim());
  const [name = '', size = '', fit = 'inside'] = parts;
  const shape = `"${entry}" (expected name:W, name:WxH or name:WxH:fit)`;
  if (parts.length < 2 || parts.length > 3) throw new VariantSpecError(`holds ${shape}`);
  if (!namePattern.test(name)) {
    throw new VariantSpecError(
      `holds "${entry}", whose name must be a lower-case letter then up to 31 of a-z, 0-9, _ or -`,
    );
  }
  const match = sizePattern.exec(size.toLowerCase());
  if (match === null) throw new VariantSpecError(`holds ${shape}`);
  const width = Number(match[1]);
  const height = match[2] === undefined ? width : Number(match[2]);
  for (const side of [width, height]) {
    if (side < 1 || side > maxVariantSide) {
      throw new VariantSpecError(
        `holds "${entry}", whose sides must be between 1 and ${maxVariantSide} pixels`,
      );
    }
  }
  if (!(variantFits as readonly string[]).includes(fit)) {
    throw new VariantSpecError(
      `holds "${entry}", whose fit must be one of ${variantFits.join(', ')}, got "${fit}"`,
    );
  }
  return { name, width, height, fit: fit as VariantFit };
}
