import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import {
  decodeOnce,
  maxSharedRasterBytes,
  release,
  scaleNeeded,
} from '../../src/images/decode-once.js';
import type { ImageMimeType } from '../../src/images/image-types.js';
import { openImage } from '../../src/images/open-image.js';
import { makePlaceholder } from '../../src/images/placeholder.js';
import { parseVariantSpecs, type VariantSpec } from '../../src/images/variant-spec.js';
import { boxFor, makeDerivatives } from '../../src/images/variants.js';
import { fixturesDirectory } from '../support/requests.js';

const fixture = (name: string): Promise<Buffer> => readFile(path.join(fixturesDirectory, name));
const limits = { maxPixels: 100_000_000, timeoutSeconds: 10 };
const open = (input: Buffer, type: ImageMimeType, allFrames = false) =>
  openImage(input, type, { ...limits, allFrames });

/** 8-bit RGBA pixels of an encoded image, with its size. */
async function rgbaOf(bytes: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute difference per channel, 0 to 255, of two rasters of one size. */
function meanDifference(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/**
 * What each output was before decode-once, and what a reader would write by hand: one sharp
 * pipeline per variant over the original (upright, resized, converted to sRGB by sharp).
 */
function referenceVariant(input: Buffer, spec: VariantSpec, width: number, height: number) {
  const box = boxFor(spec, width, height);
  return sharp(input)
    .autoOrient()
    .resize({
      width: box.width,
      height: box.height,
      fit: spec.fit,
      position: 'centre',
      withoutEnlargement: true,
      background: { r: 255, g: 255, b: 255, alpha: 0 },
      // libwebp's own scaler, which a WebP's shrink-on-load uses, is cruder than the resize
      // that a shared raster gets (3.7 levels apart on phone.webp's 50 px variant).
      fastShrinkOnLoad: false,
    })
    .webp({ quality: 80 })
    .toBuffer();
}

// Two lossy WebP encodes of the same picture differ by about 2 levels; a mirrored picture or a
// wrong colour conversion by 8 (a thin strip) to 55 (the phone fixture).
const tolerance = 3;
const specs = parseVariantSpecs(
  'thumbnail:320x320:cover,small:640,wide:400x100:contain,large:1200,tiny:50',
);

describe('decode-once variants against one pipeline per variant', () => {
  const cases: [string, () => Promise<Buffer>, ImageMimeType][] = [
    ['large.jpg', () => fixture('large.jpg'), 'image/jpeg'],
    [
      'large.jpg in Display P3 (converted after the reduction)',
      async () =>
        sharp(await fixture('large.jpg'))
          .withIccProfile('p3')
          .jpeg()
          .toBuffer(),
      'image/jpeg',
    ],
    [
      'large.jpg with an sRGB profile and EXIF orientation 6',
      async () =>
        sharp(await fixture('large.jpg'))
          .withIccProfile('srgb')
          .withMetadata({ orientation: 6 })
          .jpeg()
          .toBuffer(),
      'image/jpeg',
    ],
    [
      'large.jpg as a half-transparent PNG',
      async () =>
        sharp(await fixture('large.jpg'))
          .ensureAlpha(0.5)
          .png()
          .toBuffer(),
      'image/png',
    ],
    [
      'large.jpg in grey',
      async () =>
        sharp(await fixture('large.jpg'))
          .greyscale()
          .jpeg()
          .toBuffer(),
      'image/jpeg',
    ],
    ['phone-o8.jpg (sRGB profile, orientation 8)', () => fixture('phone-o8.jpg'), 'image/jpeg'],
    ['phone.png (iCCP, eXIf orientation 6)', () => fixture('phone.png'), 'image/png'],
    ['phone.webp (ICCP, orientation 6)', () => fixture('phone.webp'), 'image/webp'],
    ['phone.avif (colr ICC)', () => fixture('phone.avif'), 'image/avif'],
    [
      'large.jpg as a GIF (palette, first frame)',
      async () =>
        sharp(await fixture('large.jpg'))
          .resize(400)
          .gif()
          .toBuffer(),
      'image/gif',
    ],
  ];

  it.each(cases)('%s: same sizes, pixels close', async (_name, load, type) => {
    const input = await load();
    const image = await open(input, type);
    expect(image.pixels).toBeDefined();
    const made = await makeDerivatives(input, type, specs, {
      ...limits,
      format: 'webp',
      placeholder: true,
    });
    for (const [index, variant] of made.variants.entries()) {
      const spec = specs[index]!;
      const ours = await rgbaOf(variant.bytes);
      const reference = await rgbaOf(
        await referenceVariant(input, spec, image.width, image.height),
      );
      expect([spec.name, ours.width, ours.height]).toEqual([
        spec.name,
        reference.width,
        reference.height,
      ]);
      expect([variant.width, variant.height]).toEqual([ours.width, ours.height]);
      expect(meanDifference(ours.data, reference.data)).toBeLessThan(tolerance);
      // The measure sees a wrong orientation: the same reference mirrored is far off.
      const mirrored = await sharp(reference.data, {
        raw: { width: reference.width, height: reference.height, channels: 4 },
      })
        .flop()
        .raw()
        .toBuffer();
      expect(meanDifference(ours.data, mirrored)).toBeGreaterThan(2 * tolerance);
    }
    // The placeholder from the shared raster: the colour of the one made from the original
    // (3 levels apart for the half-transparent PNG: two 8-bit resizes of translucent pixels).
    const alone = await makePlaceholder(input, type, limits);
    const channels = (hex: string) => [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16));
    const ours = channels(made.placeholder!.color);
    for (const [at, value] of channels(alone.color).entries()) {
      expect(Math.abs(ours[at]! - value)).toBeLessThanOrEqual(3);
    }
  });
});

describe('the display rendition from the shared raster', () => {
  it('is the full-size upright image, beside the variants, close to its own pipeline', async () => {
    // A TIFF, which browsers cannot show, with an orientation and a Display P3 profile.
    const input = await sharp(await fixture('large.jpg'))
      .resize(800)
      .withIccProfile('p3')
      .withMetadata({ orientation: 8 })
      .tiff()
      .toBuffer();
    const made = await makeDerivatives(input, 'image/tiff', parseVariantSpecs('small:320'), {
      ...limits,
      format: 'webp',
      placeholder: true,
      display: true,
    });
    expect(made.display).toMatchObject({ width: 600, height: 800, contentType: 'image/jpeg' });
    expect(made.variants.map(({ width, height }) => [width, height])).toEqual([[240, 320]]);
    const reference = await sharp(input)
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 85 })
      .toBuffer();
    const ours = await rgbaOf(made.display!.bytes);
    const theirs = await rgbaOf(reference);
    expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
    expect(meanDifference(ours.data, theirs.data)).toBeLessThan(tolerance);
    expect((await sharp(made.display!.bytes).metadata()).icc).toBeUndefined();
  });
});

describe('decodeOnce', () => {
  it('decodes at the largest scale an output needs, upright, 8-bit sRGB', async () => {
    const input = await sharp(await fixture('large.jpg'))
      .withIccProfile('p3')
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const image = await open(input, 'image/jpeg');
    expect([image.width, image.height, image.pixels?.hasProfile]).toEqual([1200, 1600, true]);
    // 640 inside of 1200 x 1600 needs 0.4; a 320 x 320 cover needs 320 / 1200.
    const scale = Math.max(
      scaleNeeded({ width: 640, height: 640, fit: 'inside' }, 1200, 1600),
      scaleNeeded({ width: 320, height: 320, fit: 'cover' }, 1200, 1600),
    );
    expect(scale).toBeCloseTo(0.4, 10);
    const raster = await decodeOnce(image, scale, () => 10);
    expect(raster).toMatchObject({ width: 480, height: 640, channels: 3 });
    expect(raster!.data).toHaveLength(480 * 640 * 3);
    const reference = await sharp(input)
      .autoOrient()
      .resize({ width: 480, height: 640, fit: 'fill' })
      .raw()
      .toBuffer();
    expect(meanDifference(raster!.data, reference)).toBeLessThan(1.5);
  });

  it('leaves CMYK, animations and rasters past its memory bound to one pipeline per output', async () => {
    const png = await fixture('photo.png');
    const cmyk = await sharp(png).toColourspace('cmyk').jpeg().toBuffer();
    expect(await decodeOnce(await open(cmyk, 'image/jpeg'), 1, () => 10)).toBeUndefined();
    const animation = await open(await fixture('anim.gif'), 'image/gif', true);
    expect(animation.frames).toBeGreaterThan(1);
    expect(await decodeOnce(animation, 1, () => 10)).toBeUndefined();
    // 4000 x 3000 RGB is 36 MB, past the bound; at 0.5 it is 9 MB.
    const big = await sharp({
      create: { width: 4000, height: 3000, channels: 3, background: '#336699' },
    })
      .jpeg()
      .toBuffer();
    expect(4000 * 3000 * 3).toBeGreaterThan(maxSharedRasterBytes);
    const bigImage = await open(big, 'image/jpeg');
    expect(await decodeOnce(bigImage, 1, () => 10)).toBeUndefined();
    expect(await decodeOnce(bigImage, 0.5, () => 10)).toMatchObject({ width: 2000, height: 1500 });
  });

  it('needs no more than the image: never a scale above 1', () => {
    expect(scaleNeeded({ width: 5000, height: 5000, fit: 'cover' }, 64, 48)).toBe(1);
    expect(scaleNeeded({ width: 32, height: 32, fit: 'cover' }, 64, 48)).toBeCloseTo(32 / 48);
    expect(scaleNeeded({ width: 32, height: 32, fit: 'contain' }, 64, 48)).toBeCloseTo(0.5);
  });
});

describe('release', () => {
  it("frees a raster sharp made at once, and leaves a view into Node's pool alone", async () => {
    const raster = await decodeOnce(
      await open(await fixture('large.jpg'), 'image/jpeg'),
      0.1,
      () => 10,
    );
    expect(raster!.data).toHaveLength(160 * 120 * 3);
    release(raster!.data);
    expect(raster!.data).toHaveLength(0);
    expect((raster!.data.buffer as ArrayBuffer).detached).toBe(true);
    const pooled = Buffer.from('a small buffer, cut from a shared slab');
    expect(pooled.byteLength).toBeLessThan(pooled.buffer.byteLength);
    release(pooled);
    expect(pooled.toString()).toBe('a small buffer, cut from a shared slab');
  });
});
