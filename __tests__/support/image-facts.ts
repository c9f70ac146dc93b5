import sharp from 'sharp';
import { fileTypeFromBuffer } from 'file-type';
import type { ImageMimeType } from '../../src/images/image-types.js';
import { createMetadataStripper } from '../../src/images/strip/index.js';
import type { ImageFacts } from '../../src/ingest/container-walker.js';

/**
 * What libvips reports of an image, independently of the service's own walker: the size as
 * displayed (EXIF orientation applied), the frames of an animation, the EXIF orientation.
 */
export async function factsBySharp(image: Buffer): Promise<ImageFacts> {
  const metadata = await sharp(image, { pages: -1 }).metadata();
  return {
    width: metadata.autoOrient.width,
    // Every frame of an animation is read, stacked: one frame is pageHeight high.
    height: metadata.pageHeight ?? metadata.autoOrient.height,
    frames: (metadata.pages ?? 1) > 1 ? metadata.pages : undefined,
    orientation: metadata.orientation ?? 1,
  };
}

/**
 * The bytes the service stores for `image` by default (IMAGE_METADATA=strip): the image less
 * its location and personal metadata. The stripper itself is proven on its own (exiftool,
 * pixel equality: __tests__/images/strip); HTTP tests compare what was stored with this.
 */
export async function storedFormOf(image: Buffer): Promise<Buffer> {
  const type = (await fileTypeFromBuffer(image))?.mime as ImageMimeType | undefined;
  const stripper = type === undefined ? undefined : createMetadataStripper(type);
  if (stripper === undefined) return image;
  return Buffer.concat([...stripper.write(image), ...stripper.end()]);
}
