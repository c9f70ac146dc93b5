import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import type { ImageMimeType } from '../../src/images/image-types.js';
import { Semaphore, type ConcurrencyLimit } from '../../src/images/semaphore.js';
import { parseVariantSpecs, type VariantFormat } from '../../src/images/variant-spec.js';
import {
  makeVariants,
  makeVariantsAndPlaceholder,
  type VariantOptions,
} from '../../src/images/variants.js';
import { expectAppError } from '../ingest/helpers.js';
import { fixturesDirectory } from '../support/requests.js';

const fixture = (name: string): string => path.join(fixturesDirectory, name);
const options: VariantOptions = { maxPixels: 100_000_000, timeoutSeconds: 10, format: 'webp' };

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** What a decoder makes of a variant, read from its bytes alone. */
async function decoded(bytes: Buffer) {
  const metadata = await sharp(bytes, { pages: -1 }).metadata();
  return {
    format: metadata.format,
    width: metadata.width,
    height: metadata.pageHeight ?? metadata.height,
    pages: metadata.pages ?? 1,
    space: metadata.space,
    exif: metadata.exif,
    icc: metadata.icc,
    xmp: metadata.xmp,
    orientation: metadata.orientation,
  };
}

const stripped = { exif: undefined, icc: undefined, xmp: undefined, orientation: undefined };

describe('makeVariants', () => {
  // Small outputs: AVIF encodes slowly on two shared cores.
  const specs = parseVariantSpecs('thumbnail:160x160:cover,small:320,wide:200x50:contain');

  it.each<[VariantFormat, string, string]>([
    ['webp', 'webp', 'image/webp'],
    ['avif', 'heif', 'image/avif'],
    ['jpeg', 'jpeg', 'image/jpeg'],
  ])(
    'writes %s variants of the sizes asked for, stripped, in sRGB',
    async (format, decodedAs, type) => {
      const variants = await makeVariants(fixture('large.jpg'), 'image/jpeg', specs, {
        ...options,
        format,
      });
      expect(variants.map(({ name, width, height }) => [name, width, height])).toEqual([
        ['thumbnail', 160, 160],
        ['small', 320, 240],
        ['wide', 200, 50],
      ]);
      for (const variant of variants) {
        expect(variant.contentType).toBe(type);
        expect(variant.extension).toBe(format === 'jpeg' ? 'jpg' : format);
        expect(await decoded(variant.bytes)).toEqual({
          format: decodedAs,
          width: variant.width,
          height: variant.height,
          pages: 1,
          space: 'srgb',
          ...stripped,
        });
      }
    },
  );

  it('turns photo.jpg upright by its EXIF orientation and drops its EXIF', async () => {
    const input = await readFile(fixture('photo.jpg'));
    expect((await sharp(input).metadata()).orientation).toBe(6); // stored 64x48, shown 48x64
    const [thumbnail, small] = await makeVariants(
      input,
      'image/jpeg',
      parseVariantSpecs('thumbnail:32x32:cover,small:40'),
      options,
    );
    expect(await decoded(thumbnail!.bytes)).toMatchObject({ width: 32, height: 32, ...stripped });
    // Taller than wide, as shown: a 48x64 picture inside a 40x40 box is 30x40.
    expect(await decoded(small!.bytes)).toMatchObject({ width: 30, height: 40, ...stripped });
  });

  it('never enlarges: a smaller image keeps its size, cropped or padded to the box shape', async () => {
    const variants = await makeVariants(
      fixture('photo.jpg'),
      'image/jpeg',
      parseVariantSpecs('small:640,square:320:cover,padded:320:contain'),
      options,
    );
    expect(variants.map(({ name, width, height }) => [name, width, height])).toEqual([
      ['small', 48, 64], // upright, unscaled
      ['square', 48, 48], // the largest square inside 48x64, cropped, not scaled
      ['padded', 64, 64], // the smallest square around 48x64, padded, not scaled
    ]);
    for (const variant of variants) {
      const metadata = await decoded(variant.bytes);
      expect([metadata.width, metadata.height]).toEqual([variant.width, variant.height]);
    }
  });

  it('converts a Display P3 or CMYK original to sRGB with no embedded profile', async () => {
    const png = await readFile(fixture('photo.png'));
    const p3 = await sharp(png).withIccProfile('p3').jpeg().toBuffer();
    const cmyk = await sharp(png).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(p3).metadata()).icc).toBeDefined();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    for (const input of [p3, cmyk]) {
      const [variant] = await makeVariants(input, 'image/jpeg', parseVariantSpecs('s:32'), options);
      const metadata = await sharp(variant!.bytes).metadata();
      expect([metadata.space, metadata.channels, metadata.icc]).toEqual(['srgb', 3, undefined]);
    }
  });

  it.each<[string, ImageMimeType]>([
    ['photo.png', 'image/png'],
    ['photo.webp', 'image/webp'],
    ['photo.avif', 'image/avif'],
  ])('makes variants of %s, from its bytes', async (name, type) => {
    const [variant] = await makeVariants(
      await readFile(fixture(name)),
      type,
      parseVariantSpecs('s:32'),
      options,
    );
    expect(await decoded(variant!.bytes)).toMatchObject({ format: 'webp', width: 32, height: 24 });
  });

  it('keeps the shrink-on-load of a JPEG for a single output', async () => {
    // libvips decodes a JPEG at 1/2, 1/4 or 1/8 scale when the output is that much smaller
    // (VIPS_INFO=1 logs "residual reduce by 0.8" for 1600 -> 160: loaded at 200 px, 1/8).
    // One output shares no decode (src/images/decode-once.ts): its pixels equal those of a
    // single pipeline, which shrinks on load, and differ from a resize of the fully decoded
    // image, which cannot.
    const spec = { width: 160, height: 160, fit: 'inside' } as const;
    const [variant] = await makeVariants(
      fixture('large.jpg'),
      'image/jpeg',
      [{ name: 'tiny', ...spec }],
      { ...options, format: 'jpeg', quality: 90 },
    );
    const alone = await sharp(fixture('large.jpg'))
      .autoOrient()
      .resize(spec)
      .toColourspace('srgb')
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 90, mozjpeg: true })
      .toBuffer();
    const full = await sharp(fixture('large.jpg')).raw().toBuffer({ resolveWithObject: true });
    const withoutShrinkOnLoad = await sharp(full.data, { raw: full.info })
      .resize(spec)
      .jpeg({ quality: 90, mozjpeg: true })
      .toBuffer();
    expect(variant!.bytes.equals(alone)).toBe(true);
    expect(variant!.bytes.equals(withoutShrinkOnLoad)).toBe(false);
  });

  it('writes JPEG variants of a transparent image on white, not black', async () => {
    const clear = await sharp({
      create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const [variant] = await makeVariants(clear, 'image/png', parseVariantSpecs('s:8'), {
      ...options,
      format: 'jpeg',
    });
    const { dominant } = await sharp(variant!.bytes).stats();
    expect(dominant.r + dominant.g + dominant.b).toBeGreaterThan(3 * 240);
  });
});

describe('makeVariants of an animation', () => {
  const specs = parseVariantSpecs('square:32:cover,small:40');

  it('keeps every frame, delay and loop in WebP', async () => {
    const [square, small] = await makeVariants(fixture('anim.gif'), 'image/gif', specs, options);
    expect(square).toMatchObject({ width: 32, height: 32, frames: 3 });
    expect(small).toMatchObject({ width: 40, height: 30, frames: 3 });
    const metadata = await sharp(small!.bytes, { pages: -1 }).metadata();
    expect(metadata).toMatchObject({ format: 'webp', pages: 3, pageHeight: 30, loop: 0 });
    expect(metadata.delay).toEqual([200, 200, 200]);
    // An animated WebP is animated again, a still frame.
    const again = await makeVariants(small!.bytes, 'image/webp', specs.slice(1), options);
    expect(again[0]).toMatchObject({ width: 40, height: 30, frames: 3 });
  });

  it.each<VariantFormat>(['avif', 'jpeg'])('is its first frame in %s', async (format) => {
    const variants = await makeVariants(fixture('anim.gif'), 'image/gif', specs, {
      ...options,
      format,
    });
    const firstFrame = await sharp(fixture('anim.gif')).resize(40).raw().toBuffer();
    for (const variant of variants) {
      expect(variant.frames).toBe(1);
      expect(await decoded(variant.bytes)).toMatchObject({ pages: 1, width: variant.width });
    }
    // Close to the first frame: the other two are mirrored and negated.
    const small = await sharp(variants[1]!.bytes).raw().toBuffer();
    const error = small.reduce((sum, value, i) => sum + Math.abs(value - firstFrame[i]!), 0);
    expect(error / small.length).toBeLessThan(16);
  });

  it('is its first frame in WebP too when asked for still images', async () => {
    const [square] = await makeVariants(fixture('anim.gif'), 'image/gif', specs, {
      ...options,
      animation: 'first-frame',
    });
    expect(square).toMatchObject({ width: 32, height: 32, frames: 1 });
    expect((await decoded(square!.bytes)).pages).toBe(1);
  });

  it('counts every frame against the pixel limit', async () => {
    // 64x48 is 3072 pixels a frame, 9216 for three: a still first frame fits, all three do not.
    const tight = { ...options, maxPixels: 5000 };
    expectAppError(
      await rejectionOf(makeVariants(fixture('anim.gif'), 'image/gif', specs, tight)),
      'too_many_pixels',
    );
    const stills = await makeVariants(fixture('anim.gif'), 'image/gif', specs, {
      ...tight,
      format: 'jpeg',
    });
    expect(stills).toHaveLength(2);
  });
});

describe('makeVariants of a hostile or broken image', () => {
  const specs = parseVariantSpecs('small:64');

  it('refuses a truncated PNG as undecodable_image, from a path or from bytes', async () => {
    expectAppError(
      await rejectionOf(makeVariants(fixture('truncated.png'), 'image/png', specs, options)),
      'undecodable_image',
    );
    const bytes = await readFile(fixture('truncated.png'));
    expectAppError(
      await rejectionOf(makeVariants(bytes, 'image/png', specs, options)),
      'undecodable_image',
    );
  });

  it('refuses a pixel flood as too_many_pixels before decoding it', async () => {
    const error = await rejectionOf(
      makeVariants(fixture('pixel-flood.png'), 'image/png', specs, options),
    );
    expectAppError(error, 'too_many_pixels');
    expect((error as Error).message).toMatch(/30000 x 30000/);
  });

  it('refuses a GIF that is only a GIF signature, and bytes that are no image at all', async () => {
    for (const [name, type] of [
      ['script.gif', 'image/gif'],
      ['text.txt', 'image/png'],
    ] as const) {
      expectAppError(
        await rejectionOf(makeVariants(fixture(name), type, specs, options)),
        'undecodable_image',
      );
    }
  });

  it('refuses an image that is cut short after its header, when decoding its pixels', async () => {
    const whole = await readFile(fixture('large.jpg'));
    const cut = whole.subarray(0, whole.length / 2);
    expectAppError(
      await rejectionOf(makeVariants(cut, 'image/jpeg', specs, options)),
      'undecodable_image',
    );
  });

  it('throws a plain Error for a type sharp cannot decode: the caller asks canMakeVariants', async () => {
    const error = await rejectionOf(makeVariants(Buffer.alloc(8), 'image/jxl', specs, options));
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toHaveProperty('status');
  });
});

describe('the limit on images processed at once', () => {
  /** Counts the jobs holding a place in the limit, and the most that ever did at once. */
  function countingLimit(size: number): ConcurrencyLimit & { peak: number; ran: number } {
    const semaphore = new Semaphore(size);
    let inside = 0;
    const counter = {
      peak: 0,
      ran: 0,
      run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
        return semaphore.run(async () => {
          inside += 1;
          counter.ran += 1;
          counter.peak = Math.max(counter.peak, inside);
          try {
            return await task();
          } finally {
            inside -= 1;
          }
        }, signal);
      },
    };
    return counter;
  }

  it('lets no more than its size decode at once, however many images arrive', async () => {
    const limit = countingLimit(2);
    const input = await readFile(fixture('photo.jpg'));
    const specs = parseVariantSpecs('a:32,b:16:cover');
    const all = await Promise.all(
      Array.from({ length: 8 }, () =>
        makeVariantsAndPlaceholder(input, 'image/jpeg', specs, { ...options, limit }),
      ),
    );
    expect(all).toHaveLength(8);
    expect(limit.ran).toBe(8);
    expect(limit.peak).toBe(2);
  });

  it('gives the place back after a failure, once every pipeline of the job has ended', async () => {
    const limit = new Semaphore(1);
    const specs = parseVariantSpecs('a:320,b:640');
    await rejectionOf(
      makeVariants(fixture('truncated.png'), 'image/png', specs, { ...options, limit }),
    );
    expect(limit.running).toBe(0);
    await expect(
      makeVariants(fixture('photo.png'), 'image/png', specs, { ...options, limit }),
    ).resolves.toHaveLength(2);
  });

  it('runs queued tasks in order, one place at a time, and drops those whose signal aborted', async () => {
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    let release!: () => void;
    const first = semaphore.run(
      () =>
        new Promise<void>((resolve) => {
          order.push('first');
          release = resolve;
        }),
    );
    const note = (name: string) => (): Promise<void> => {
      order.push(name);
      return Promise.resolve();
    };
    const abandoned = new AbortController();
    const second = semaphore.run(note('second'), abandoned.signal);
    const third = semaphore.run(note('third'));
    expect([semaphore.running, semaphore.queued]).toEqual([1, 2]);
    abandoned.abort(new Error('gone'));
    await expect(second).rejects.toThrow('gone');
    expect(semaphore.queued).toBe(1);
    release();
    await Promise.all([first, third]);
    expect(order).toEqual(['first', 'third']);
    expect([semaphore.running, semaphore.queued]).toEqual([0, 0]);
  });
});

describe('makeVariantsAndPlaceholder', () => {
  it('makes the placeholder in the same job, with the upright aspect ratio', async () => {
    const { variants, placeholder } = await makeVariantsAndPlaceholder(
      fixture('photo.jpg'),
      'image/jpeg',
      parseVariantSpecs('small:40'),
      options,
    );
    expect(variants).toHaveLength(1);
    const ratio = thumbHashToApproximateAspectRatio(Buffer.from(placeholder.thumbhash, 'base64'));
    expect(Math.abs(ratio - 48 / 64) / (48 / 64)).toBeLessThan(0.1);
    expect(placeholder.color).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('makes a placeholder of an animation from its first frame, even with every frame kept', async () => {
    const { variants, placeholder } = await makeVariantsAndPlaceholder(
      fixture('anim.gif'),
      'image/gif',
      parseVariantSpecs('small:40'),
      options,
    );
    expect(variants[0]!.frames).toBe(3);
    const ratio = thumbHashToApproximateAspectRatio(Buffer.from(placeholder.thumbhash, 'base64'));
    // ThumbHash stores the ratio in a few bits: within 10 %.
    expect(Math.abs(ratio - 64 / 48) / (64 / 48)).toBeLessThan(0.1);
  });
});
