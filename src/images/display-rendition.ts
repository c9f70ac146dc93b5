import { browserDisplayableTypes, type ImageMimeType } from './image-types.js';
import type { VariantFormat } from './variant-spec.js';

/**
 * What every browser is shown of an image it cannot display itself (HEIC, HEIF, TIFF): one
 * rendition, made at upload beside the variants and stored as `<id>.display.jpg`. Full size,
 * upright, sRGB (a Display P3 photo converted through its profile), no metadata: JPEG, which
 * every browser, mail client and image viewer opens. Described as a name, a format and a
 * quality, as a signed on-demand rendition is, so that it can become one of those.
 */
export const displayRendition = {
  name: 'display',
  format: 'jpeg',
  quality: 85,
} as const satisfies { name: string; format: VariantFormat; quality: number };

/** Whether an image of `type` gets a display rendition; otherwise its original is shown. */
export function needsDisplayRendition(type: ImageMimeType): boolean {
  return !browserDisplayableTypes.includes(type);
}
