import sharp from 'sharp';
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
