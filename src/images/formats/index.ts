import { losslesslyStrippableTypes, type ImageMimeType } from '../image-types.js';
import { ContainerWalker } from './walker.js';

/**
 * One grammar per image format (jpeg.ts, png.ts, gif.ts, webp.ts, isobmff.ts for AVIF and
 * HEIC), run by one driver (walker.ts). Checking the structure, reading the facts and
 * stripping location and personal metadata are one walk over the bytes.
 */
export { ContainerWalker, walkableTypes, type WalkOptions } from './walker.js';
export { tooManyPixels, undecodable, type ImageDimensions, type ImageFacts } from './grammar.js';
export { isobmffImageType } from './isobmff.js';

/**
 * Removes what can identify a person or a place from an image (GPS, camera make, model and
 * serial numbers, owner and artist names: EXIF, XMP, IPTC, comments) as its bytes stream past,
 * without decoding: the pixel data passes byte for byte. What changes how the image displays
 * stays: the ICC profile, and the EXIF orientation, written back as an EXIF block holding only
 * that tag when it is not 1.
 */
export interface MetadataStripper {
  /** Bytes in; the stripped bytes that can already be emitted, in order. */
  write(chunk: Buffer): Buffer[];
  /** The input ended; the remaining output. Throws if the container is cut off. */
  end(): Buffer[];
}

/**
 * A walk of one image of `type` that answers it stripped, or undefined when there is no
 * lossless route for the type (see `losslesslyStrippableTypes`). It throws AppErrors
 * (undecodable_image; too_many_pixels past `maxPixels`), and after a throw every later call
 * throws it again. The buffers it hands back may share memory with the chunks written to it.
 */
export function createMetadataStripper(
  type: ImageMimeType,
  maxPixels = Number.POSITIVE_INFINITY,
): ContainerWalker | undefined {
  if (!canStripLosslessly(type)) return undefined;
  return new ContainerWalker(type, maxPixels, { strip: true });
}

/** An image held whole, stripped: the bytes the service stores for it; as is without a route. */
export function stripImage(image: Buffer, type: ImageMimeType): Buffer {
  const stripper = createMetadataStripper(type);
  return stripper === undefined
    ? image
    : Buffer.concat([...stripper.write(image), ...stripper.end()]);
}

export function canStripLosslessly(type: ImageMimeType): boolean {
  return losslesslyStrippableTypes.includes(type);
}
