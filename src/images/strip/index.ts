import { losslesslyStrippableTypes, type ImageMimeType } from '../image-types.js';
import { stripIsobmff } from './avif.js';
import { StripDriver, type StripWalk } from './driver.js';
import { stripGif } from './gif.js';
import { stripJpeg } from './jpeg.js';
import { stripPng } from './png.js';
import { stripWebp } from './webp.js';

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
 * A stripper for one image of `type`, or undefined when there is no lossless route for the
 * type (see `losslesslyStrippableTypes`). It only ever throws AppError('undecodable_image'),
 * and after a throw every later call throws it again. The buffers it hands back may share
 * memory with the chunks written to it.
 */
export function createMetadataStripper(type: ImageMimeType): MetadataStripper | undefined {
  const walk = walkFor(type);
  return walk === undefined ? undefined : new StripDriver(walk);
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

function walkFor(type: ImageMimeType): StripWalk | undefined {
  if (!canStripLosslessly(type)) return undefined;
  switch (type) {
    case 'image/jpeg':
      return stripJpeg();
    case 'image/png':
      return stripPng();
    case 'image/webp':
      return stripWebp();
    case 'image/gif':
      return stripGif();
    case 'image/avif':
    case 'image/heic':
    case 'image/heif':
      return stripIsobmff();
    default:
      return undefined;
  }
}
