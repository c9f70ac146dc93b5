import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { ImageMimeType, ImageValidationMode } from '../../src/config.js';
import { ContainerWalker } from '../../src/ingest/container-walker.js';
import { validateImage } from '../../src/ingest/validate-image.js';

const fixture = (name: string): Buffer => readFileSync(`__tests__/fixtures/${name}`);
const modes: ImageValidationMode[] = ['structure', 'decode'];
const options = (mode: ImageValidationMode, maxPixels = 100_000_000) => ({
  mode,
  maxPixels,
  decodeTimeoutSeconds: 10,
});

const valid: [string, ImageMimeType][] = [
  ['photo.jpg', 'image/jpeg'],
  ['large.jpg', 'image/jpeg'],
  ['photo.png', 'image/png'],
  ['anim.gif', 'image/gif'],
  ['photo.webp', 'image/webp'],
  ['photo.avif', 'image/avif'],
];

const hostile: [string, ImageMimeType, string][] = [
  ['polyglot.png', 'image/png', 'undecodable_image'],
  // "GIF89a=1;" declares a 12605 x 12091 screen: refused from the header before anything else.
  ['script.gif', 'image/gif', 'too_many_pixels'],
  ['truncated.png', 'image/png', 'undecodable_image'],
  ['pixel-flood.png', 'image/png', 'too_many_pixels'],
];

/** Feeds the walker in pieces of `size` bytes, as the ingest stream would. */
function walkInPieces(image: Buffer, type: ImageMimeType, size: number): void {
  const walker = new ContainerWalker(type, 100_000_000);
  for (let at = 0; at < image.length; at += size) walker.write(image.subarray(at, at + size));
  walker.end();
}

describe('validateImage', () => {
  for (const mode of modes) {
    it.each(valid)(`accepts the real image %s in ${mode} mode`, async (name, type) => {
      await expect(validateImage(fixture(name), type, options(mode))).resolves.toBeUndefined();
    });

    it.each(hostile)(`rejects %s in ${mode} mode`, async (name, type, code) => {
      await expect(validateImage(fixture(name), type, options(mode))).rejects.toMatchObject({
        code,
      });
    });

    it(`rejects the script GIF as undecodable in ${mode} mode when its size is allowed`, async () => {
      await expect(
        validateImage(fixture('script.gif'), 'image/gif', options(mode, 2 ** 32)),
      ).rejects.toMatchObject({ code: 'undecodable_image' });
    });

    it(`refuses an image over MAX_IMAGE_PIXELS from its header in ${mode} mode`, async () => {
      // photo.png is 64 x 48 = 3072 pixels.
      await expect(
        validateImage(fixture('photo.png'), 'image/png', options(mode, 3071)),
      ).rejects.toMatchObject({ code: 'too_many_pixels' });
      await expect(
        validateImage(fixture('photo.png'), 'image/png', options(mode, 3072)),
      ).resolves.toBeUndefined();
    });
  }

  it.each([['photo.tiff', 'image/tiff']] as [string, ImageMimeType][])(
    'checks %s, which has no walker, by decoding it',
    async (name, type) => {
      await expect(validateImage(fixture(name), type, options('decode'))).resolves.toBeUndefined();
      await expect(
        validateImage(fixture(name), type, options('decode', 3071)),
      ).rejects.toMatchObject({
        code: 'too_many_pixels',
      });
      const truncated = fixture(name).subarray(0, fixture(name).length >> 1);
      await expect(validateImage(truncated, type, options('decode'))).rejects.toMatchObject({
        code: 'undecodable_image',
      });
      await expect(validateImage(fixture(name), type, options('structure'))).rejects.toMatchObject({
        code: 'undecodable_image',
      });
    },
  );

  it.each(valid)('walks %s the same whatever the chunk boundaries', (name, type) => {
    const image = fixture(name);
    for (const size of [1, 2, 3, 7, 64, 4096]) {
      expect(() => walkInPieces(image, type, size)).not.toThrow();
    }
  });

  it.each(valid)('rejects %s with one byte more or one byte less', (name, type) => {
    const image = fixture(name);
    expect(() => walkInPieces(Buffer.concat([image, Buffer.of(0)]), type, 1000)).toThrow();
    expect(() => walkInPieces(image.subarray(0, image.length - 1), type, 1000)).toThrow();
  });

  it('rejects a PNG whose pixel data was altered (CRC mismatch) in structure mode', async () => {
    const image = Buffer.from(fixture('photo.png'));
    const idat = image.indexOf('IDAT', 0, 'latin1');
    image[idat + 10] = image[idat + 10]! ^ 0xff;
    await expect(validateImage(image, 'image/png', options('structure'))).rejects.toMatchObject({
      code: 'undecodable_image',
    });
  });

  it('never throws anything but an AppError on mutated images', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...valid.filter(([name]) => name !== 'large.jpg')),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        fc.constantFrom(...modes),
        async ([name, type], flips, cut, mode) => {
          const image = Buffer.from(fixture(name));
          for (const [at, value] of flips) image[at % image.length] = value;
          const mutated = image.subarray(0, image.length - (cut % 16));
          try {
            await validateImage(mutated, type, options(mode));
          } catch (error) {
            expect(error).toMatchObject({
              code: expect.stringMatching(/^(undecodable_image|too_many_pixels)$/),
            });
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
