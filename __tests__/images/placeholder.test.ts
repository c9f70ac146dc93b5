import { describe, expect, it } from '@jest/globals';
import { decode as decodeBlurhash, isBlurhashValid } from 'blurhash';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio, thumbHashToRGBA } from 'thumbhash';
import type { ImageMimeType } from '../../src/images/image-types.js';
import {
  makePlaceholder,
  placeholderFromRgba,
  type Placeholder,
} from '../../src/images/placeholder.js';
import { expectAppError } from '../ingest/helpers.js';
import { fixturesDirectory } from '../support/requests.js';

const fixture = (name: string): string => path.join(fixturesDirectory, name);
const options = { maxPixels: 100_000_000, timeoutSeconds: 10 };

function thumbhashBytes(placeholder: Placeholder): Uint8Array {
  return Buffer.from(placeholder.thumbhash, 'base64');
}

function expectWellFormed(placeholder: Placeholder): void {
  expect(placeholder.color).toMatch(/^#[0-9a-f]{6}$/);
  expect(isBlurhashValid(placeholder.blurhash)).toEqual({ result: true });
  const pixels = decodeBlurhash(placeholder.blurhash, 8, 6);
  expect(pixels).toHaveLength(8 * 6 * 4);
  const { w, h, rgba } = thumbHashToRGBA(thumbhashBytes(placeholder));
  expect(rgba).toHaveLength(w * h * 4);
}

describe('makePlaceholder', () => {
  it.each<[string, ImageMimeType, number]>([
    ['photo.jpg', 'image/jpeg', 48 / 64], // stored 64x48 with EXIF orientation 6: upright
    ['large.jpg', 'image/jpeg', 1600 / 1200],
    ['photo.png', 'image/png', 64 / 48],
    ['photo.webp', 'image/webp', 64 / 48],
    ['photo.avif', 'image/avif', 64 / 48],
    ['anim.gif', 'image/gif', 64 / 48],
  ])('of %s keeps its upright aspect ratio', async (name, type, ratio) => {
    const placeholder = await makePlaceholder(fixture(name), type, options);
    expectWellFormed(placeholder);
    // ThumbHash stores the ratio in a few bits: within 10 %.
    const approximate = thumbHashToApproximateAspectRatio(thumbhashBytes(placeholder));
    expect(Math.abs(approximate - ratio) / ratio).toBeLessThan(0.1);
  });

  it('shapes the BlurHash by the aspect ratio: 4 x 3 components landscape, 3 x 4 portrait', async () => {
    // The first character holds (x - 1) + (y - 1) * 9 in base 83.
    const landscape = await makePlaceholder(fixture('photo.png'), 'image/png', options);
    const portrait = await makePlaceholder(fixture('photo.jpg'), 'image/jpeg', options);
    expect(landscape.blurhash[0]).toBe('L'); // 3 + 2 * 9 = 21
    expect(portrait.blurhash[0]).toBe('T'); // 2 + 3 * 9 = 29
  });

  it('keeps alpha: a transparent PNG has a ThumbHash with transparent pixels', async () => {
    // Left half opaque red, right half fully transparent.
    const half = Buffer.alloc(40 * 20 * 4);
    for (let y = 0; y < 20; y += 1) {
      for (let x = 0; x < 20; x += 1) half.set([255, 0, 0, 255], (y * 40 + x) * 4);
    }
    const png = await sharp(half, { raw: { width: 40, height: 20, channels: 4 } })
      .png()
      .toBuffer();
    const placeholder = await makePlaceholder(png, 'image/png', options);
    const { rgba } = thumbHashToRGBA(thumbhashBytes(placeholder));
    const alphas = rgba.filter((_, i) => i % 4 === 3);
    expect(Math.min(...alphas)).toBeLessThan(128);
    expect(Math.max(...alphas)).toBeGreaterThan(200);
    // The colour is that of the opaque pixels; the transparent ones weigh nothing.
    expect(placeholder.color).toBe('#ff0000');
  });

  it('refuses a truncated image and a pixel flood with their codes', async () => {
    await makePlaceholder(fixture('truncated.png'), 'image/png', options).then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => expectAppError(error, 'undecodable_image'),
    );
    const flood = await readFile(fixture('pixel-flood.png'));
    await makePlaceholder(flood, 'image/png', options).then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => expectAppError(error, 'too_many_pixels'),
    );
  });
});

describe('placeholderFromRgba', () => {
  it('computes the placeholder of a raster held in memory', () => {
    const data = new Uint8Array(10 * 5 * 4).fill(255); // opaque white
    for (let i = 0; i < data.length; i += 8) data.set([0, 0, 255, 255], i); // every other pixel blue
    const placeholder = placeholderFromRgba({ width: 10, height: 5, data });
    expectWellFormed(placeholder);
    expect(placeholder.color).toBe('#8080ff');
    const ratio = thumbHashToApproximateAspectRatio(thumbhashBytes(placeholder));
    expect(ratio).toBeCloseTo(2, 0);
  });

  it('refuses a raster larger than 100 pixels a side, or of the wrong length', () => {
    expect(() =>
      placeholderFromRgba({ width: 101, height: 1, data: new Uint8Array(101 * 4) }),
    ).toThrow(RangeError);
    expect(() => placeholderFromRgba({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(
      RangeError,
    );
  });
});
