import {
  losslesslyStrippableTypes,
  structureCheckedTypes,
  type ImageMimeType,
} from '../image-types.js';
import { ContainerWalker, type WalkOptions } from './walker.js';

/**
 * One grammar per image format (jpeg.ts, png.ts, gif.ts, webp.ts, isobmff.ts for AVIF and
 * HEIC), run by one driver (walker.ts). Checking the structure, reading the facts and
 * stripping location and personal metadata are one walk over the bytes.
 */
export { ContainerWalker, type WalkOptions } from './walker.js';
export { tooManyPixels, undecodable, type ImageDimensions, type ImageFacts } from './grammar.js';
export { isobmffImageType } from './isobmff.js';

/**
 * The walk of one image of `type`, or undefined when no grammar describes its container (see
 * `structureCheckedTypes`): only decoding can check it. `strip` asks for the image without
 * what can identify a person or a place (GPS, camera make, model and serial numbers, owner
 * and artist names: EXIF, XMP, IPTC, comments), where the type has a lossless route; the pixel
 * data passes byte for byte, and what changes how the image displays stays (the ICC profile,
 * the EXIF orientation written back alone when it is not 1). Every walk is made here: the
 * upload's body, a validator of bytes held in memory, and the stripper below.
 */
export function createImageWalk(
  type: ImageMimeType,
  maxPixels: number,
  options: WalkOptions = {},
): ContainerWalker | undefined {
  if (!structureCheckedTypes.includes(type)) return undefined;
  return new ContainerWalker(type, maxPixels, {
    strip: options.strip === true && canStripLosslessly(type),
  });
}

/**
 * A walk of one image of `type` that answers it stripped, or undefined when there is no
 * lossless route for the type (see `losslesslyStrippableTypes`). It throws AppErrors
 * (undecodable_image; too_many_pixels past `maxPixels`), and after a throw every later call
 * throws it again. The buffers it hands back may share memory with the chunks written to it.
 */
export function createMetadataStripper(
  type: ImageMimeType,
  maxPixels: number,
): ContainerWalker | undefined {
  if (!canStripLosslessly(type)) return undefined;
  return createImageWalk(type, maxPixels, { strip: true });
}

/**
 * An image held whole, stripped: the bytes the service stores for it; as is without a route.
 * `maxPixels` is the service's MAX_IMAGE_PIXELS: a walk always has a budget.
 */
export function stripImage(image: Buffer, type: ImageMimeType, maxPixels: number): Buffer {
  const stripper = createMetadataStripper(type, maxPixels);
  return stripper === undefined
    ? image
    : Buffer.concat([...stripper.write(image), ...stripper.end()]);
}

export function canStripLosslessly(type: ImageMimeType): boolean {
  return losslesslyStrippableTypes.includes(type);
}
