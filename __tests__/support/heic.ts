import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

const run = promisify(execFile);

/** The camera files of __tests__/fixtures/heic (see the fixtures README for where each came from). */
export const cameraHeics = {
  /** iPhone 13 Pro, 4032 x 3024 `grid` of HEVC tiles, Display P3, GPS, depth map. */
  iphone: 'heic/iphone13pro-gps.heic',
  /** iPhone 8 Plus, stored 4032 x 3024 and turned by `irot` (Rotate 90 CW): shown 3024 x 4032. */
  rotated: 'heic/iphone8plus-rotated.heic',
  /** Xiaomi (Android), 2592 x 1944, sRGB, GPS, a 188 KiB Exif. */
  android: 'heic/xiaomi-gps.heic',
} as const;

/** Samsung Galaxy S24 Ultra, 12240 x 16320 (200 MP, 822 items): over the default pixel limit. */
export const twoHundredMegapixelHeic = 'heic/galaxy-s24-ultra-200mp.heic';

/**
 * The HEIC with the start of its `mdat` (the first tile's HEVC NAL units) overwritten: the
 * container is intact, only its compressed pixels are broken, which only a decode can see.
 */
export function withBrokenHevcData(heic: Buffer): Buffer {
  const image = Buffer.from(heic);
  let at = 0;
  while (at + 16 <= image.length) {
    // Size 1: a 64-bit size follows the type; size 0: the box runs to the end of the file.
    const small = image.readUInt32BE(at);
    const header = small === 1 ? 16 : 8;
    const size = small === 1 ? Number(image.readBigUInt64BE(at + 8)) : small || image.length - at;
    if (image.toString('latin1', at + 4, at + 8) === 'mdat') {
      image.fill(0xff, at + header, Math.min(at + header + 4096, at + size));
      return image;
    }
    if (size < header) break;
    at += size;
  }
  throw new Error('no mdat box at the top level');
}

/**
 * libheif's own decode of a HEIC (Debian's heif-convert, which applies `irot`, `imir` and
 * `clap`), converted to sRGB through its profile and shrunk to 32 x 32: the reference the
 * service's display rendition is held against.
 */
export async function decodedByHeifConvert(
  heic: Buffer,
): Promise<{ width: number; height: number; thumbnail: Buffer }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'heif-convert-'));
  try {
    await writeFile(path.join(dir, 'in.heic'), heic);
    await run('heif-convert', ['--quiet', path.join(dir, 'in.heic'), path.join(dir, 'out.png')]);
    const png = await readFile(path.join(dir, 'out.png'));
    const { width = 0, height = 0 } = await sharp(png).metadata();
    return { width, height, thumbnail: await thumbnailOf(png) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An image as sRGB RGB, squeezed to 32 x 32, for comparing two decodes of one photo. */
export async function thumbnailOf(image: Buffer): Promise<Buffer> {
  return sharp(image)
    .toColourspace('srgb')
    .resize(32, 32, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** Mean absolute difference of two equally long sample buffers, 0 to 255. */
export function meanDifference(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) throw new Error(`${a.length} samples against ${b.length}`);
  let sum = 0;
  for (let at = 0; at < a.length; at += 1) sum += Math.abs(a[at]! - b[at]!);
  return sum / a.length;
}
