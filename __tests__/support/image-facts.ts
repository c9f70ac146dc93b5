import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { fileTypeFromBuffer } from 'file-type';
import type { ImageMimeType } from '../../src/images/image-types.js';
import { stripImage } from '../../src/images/formats/index.js';
import type { ImageFacts } from '../../src/images/formats/index.js';

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
 * pixel equality: __tests__/images/formats/strip.test.ts); HTTP tests compare what was stored with this.
 */
export async function storedFormOf(image: Buffer): Promise<Buffer> {
  const type = (await fileTypeFromBuffer(image))?.mime as ImageMimeType | undefined;
  // MAX_IMAGE_PIXELS' default: the service's own budget.
  return type === undefined ? image : stripImage(image, type, 100_000_000);
}

const run = promisify(execFile);

/** exiftool's reading of the file, every group and duplicate, as flat "Group:Tag" keys. */
export async function exiftool(image: Buffer, extension: string): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'exiftool-'));
  try {
    const file = path.join(dir, `image.${extension}`);
    await writeFile(file, image);
    const { stdout } = await run('exiftool', ['-j', '-a', '-G', '-n', file]);
    return (JSON.parse(stdout) as Record<string, unknown>[])[0]!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Tags that say where a photo was taken, with what, or by whom. */
export const identifyingTag =
  /GPS|SerialNumber|OwnerName|Artist|Make|Model|Creator|By-line|City|Country|Copyright|Author|Comment|Software|DateTimeOriginal/i;

/** Every pixel of every frame, as stored (no orientation applied). */
export async function pixels(image: Buffer): Promise<Buffer> {
  const { data } = await sharp(image, { pages: -1, autoOrient: false })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data;
}

/**
 * A PNG whose first IDAT's compressed data is overwritten and its CRC fixed to match: a valid
 * container whose pixels do not decode, which only a full decode can catch.
 */
export function withBrokenPixelData(png: Buffer): Buffer {
  const image = Buffer.from(png);
  const idat = image.indexOf('IDAT', 0, 'latin1');
  const length = image.readUInt32BE(idat - 4);
  for (let at = idat + 6; at < idat + 4 + length; at += 3) image[at] = 0xff;
  image.writeUInt32BE(crc32(image.subarray(idat, idat + 4 + length)), idat + 4 + length);
  return image;
}
