import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import sharp from 'sharp';
import type { ImageValidationMode } from '../../src/config.js';
import type { ImageMimeType } from '../../src/images/image-types.js';
import { ContainerWalker } from '../../src/images/formats/index.js';
import { ImageValidator, validateImage } from '../../src/ingest/validate-image.js';
import { factsBySharp } from '../support/image-facts.js';

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

/** A real animation of `frames` small frames, made by libvips: each frame alone is tiny. */
async function animation(format: 'gif' | 'webp', frames: number): Promise<Buffer> {
  const width = 40;
  const height = 30;
  const pixels = Buffer.alloc(width * height * frames * 3);
  for (let at = 0; at < pixels.length; at += 1) pixels[at] = (at * 7) % 251;
  const image = sharp(pixels, {
    raw: { width, height: height * frames, channels: 3, pageHeight: height },
  });
  return format === 'gif' ? image.gif().toBuffer() : image.webp({ lossless: true }).toBuffer();
}

describe('animations are budgeted for all their frames together', () => {
  const made = { gif: animation('gif', 500), webp: animation('webp', 500) };
  for (const format of ['gif', 'webp'] as const) {
    for (const mode of modes) {
      it(`refuses a ${format} of 500 frames past MAX_IMAGE_PIXELS in ${mode} mode`, async () => {
        const image = await made[format];
        const type: ImageMimeType = format === 'gif' ? 'image/gif' : 'image/webp';
        // 500 x 40 x 30 = 600,000 pixels in all; one frame is 1,200.
        await expect(validateImage(image, type, options(mode, 599_999))).rejects.toMatchObject({
          code: 'too_many_pixels',
          message: expect.stringMatching(/500 frames/),
        });
        await expect(validateImage(image, type, options(mode, 600_000))).resolves.toMatchObject({
          width: 40,
          height: 30,
          frames: 500,
        });
      });
    }
  }
});

describe('validateImage', () => {
  for (const mode of modes) {
    it.each(valid)(
      `accepts the real image %s in ${mode} mode, with the facts libvips reads`,
      async (name, type) => {
        const facts = await validateImage(fixture(name), type, options(mode));
        expect(facts).toEqual(await factsBySharp(fixture(name)));
      },
    );

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
      ).resolves.toMatchObject({ width: 64, height: 48 });
    });
  }

  it.each([['photo.tiff', 'image/tiff']] as [string, ImageMimeType][])(
    'checks %s, which has no walker, by decoding it',
    async (name, type) => {
      const facts = await validateImage(fixture(name), type, options('decode'));
      expect(facts).toEqual(await factsBySharp(fixture(name)));
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

describe('ImageValidator in decode mode with a spool', () => {
  let spoolDirectory: string;
  beforeEach(async () => {
    spoolDirectory = await mkdtemp(path.join(tmpdir(), 'validate-spool-'));
  });
  afterEach(async () => {
    await rm(spoolDirectory, { recursive: true, force: true });
  });

  const spooling = (maxPixels = 100_000_000) => ({
    ...options('decode', maxPixels),
    spoolDirectory,
  });

  /** Feeds `image` in 64 KiB chunks, as the ingest stream would, then finishes. */
  async function validateInChunks(validator: ImageValidator, image: Buffer): Promise<void> {
    for (let at = 0; at < image.length; at += 65_536) {
      await validator.write(image.subarray(at, at + 65_536));
    }
    await validator.finish();
  }

  it('spools the image to one file while it passes and deletes it once decoded', async () => {
    const image = fixture('large.jpg');
    const validator = new ImageValidator('image/jpeg', spooling());
    await validator.write(image.subarray(0, 65_536));
    expect(await readdir(spoolDirectory)).toEqual([expect.stringMatching(/\.spool$/)]);
    await validateInChunks(validator, image.subarray(65_536));
    expect(await readdir(spoolDirectory)).toEqual([]);
  });

  it('leaves no spool file open or mapped once decoded (libvips would cache it)', async () => {
    for (const name of ['large.jpg', 'photo.jpg']) {
      await validateInChunks(new ImageValidator('image/jpeg', spooling()), fixture(name));
    }
    const descriptors = await Promise.all(
      (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
    );
    const mappings = (await readFile('/proc/self/maps', 'utf8')).split('\n');
    expect([...descriptors, ...mappings].filter((entry) => entry.includes(spoolDirectory))).toEqual(
      [],
    );
  });

  it.each([
    ['a truncated JPEG', fixture('large.jpg').subarray(0, 600_000), 'undecodable_image'],
    [
      'a JPEG with a script after EOI',
      Buffer.concat([fixture('large.jpg'), Buffer.from('<script>alert(1)</script>')]),
      'undecodable_image',
    ],
  ])('rejects %s and deletes the spool file', async (_label, image, code) => {
    const validator = new ImageValidator('image/jpeg', spooling());
    await expect(validateInChunks(validator, image)).rejects.toMatchObject({ code });
    await validator.dispose();
    expect(await readdir(spoolDirectory)).toEqual([]);
  });

  it('refuses a pixel flood from its header, before anything is spooled', async () => {
    const validator = new ImageValidator('image/png', spooling());
    await expect(validator.write(fixture('pixel-flood.png'))).rejects.toMatchObject({
      code: 'too_many_pixels',
    });
    expect(await readdir(spoolDirectory)).toEqual([]);
  });

  it('deletes the spool file when the upload ends early, and spools nothing afterwards', async () => {
    const image = fixture('large.jpg');
    const validator = new ImageValidator('image/jpeg', spooling());
    await validator.write(image.subarray(0, 300_000));
    await validator.dispose();
    expect(await readdir(spoolDirectory)).toEqual([]);
    await expect(validator.write(image.subarray(300_000, 400_000))).rejects.toThrow();
    expect(await readdir(spoolDirectory)).toEqual([]);
  });

  it('decodes an image already held in memory from there, without spooling it', async () => {
    // A spool "folder" that is a file: any attempt to spool would fail.
    const notAFolder = path.join(spoolDirectory, 'file');
    await writeFile(notAFolder, '');
    const inMemory = { ...options('decode'), spoolDirectory: notAFolder };
    await expect(validateImage(fixture('large.jpg'), 'image/jpeg', inMemory)).resolves.toEqual({
      width: 1600,
      height: 1200,
      frames: undefined,
      orientation: 1,
    });
    await expect(
      new ImageValidator('image/jpeg', inMemory).write(fixture('large.jpg')),
    ).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
