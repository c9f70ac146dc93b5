import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { isAppError } from '../../../src/errors.js';
import type { ImageMimeType } from '../../../src/images/image-types.js';
import { canStripLosslessly, createMetadataStripper } from '../../../src/images/strip/index.js';
import { ContainerWalker } from '../../../src/ingest/container-walker.js';
import { validateImage } from '../../../src/ingest/validate-image.js';
import { exiftool, identifyingTag, pixels } from '../../support/image-facts.js';

const fixture = (name: string): Buffer => readFileSync(`__tests__/fixtures/${name}`);

/** Strips `image` fed in pieces cut at `cuts` (offsets), as a stream would hand them over. */
function strip(image: Buffer, type: ImageMimeType, cuts: readonly number[]): Buffer {
  const stripper = createMetadataStripper(type)!;
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, image.length]) {
    out.push(...stripper.write(image.subarray(at, cut)));
    at = cut;
  }
  out.push(...stripper.end());
  return Buffer.concat(out);
}

function inPieces(image: Buffer, size: number): number[] {
  const cuts: number[] = [];
  for (let at = size; at < image.length; at += size) cuts.push(at);
  return cuts;
}

function walkFacts(image: Buffer, type: ImageMimeType): ReturnType<ContainerWalker['facts']> {
  const walker = new ContainerWalker(type, 100_000_000);
  walker.write(image);
  walker.end();
  return walker.facts();
}

const identifying = identifyingTag;

interface Case {
  readonly name: string;
  readonly type: ImageMimeType;
  readonly orientation: number;
  readonly icc: boolean;
}

const phones: Case[] = [
  { name: 'phone-o1.jpg', type: 'image/jpeg', orientation: 1, icc: true },
  { name: 'phone-o3.jpg', type: 'image/jpeg', orientation: 3, icc: true },
  { name: 'phone-o6.jpg', type: 'image/jpeg', orientation: 6, icc: true },
  { name: 'phone-o8.jpg', type: 'image/jpeg', orientation: 8, icc: true },
  { name: 'phone.png', type: 'image/png', orientation: 6, icc: true },
  { name: 'phone.webp', type: 'image/webp', orientation: 6, icc: true },
  { name: 'phone.gif', type: 'image/gif', orientation: 1, icc: false },
  { name: 'phone.avif', type: 'image/avif', orientation: 1, icc: true },
];

describe.each(phones)('stripping $name', ({ name, type, orientation, icc }) => {
  const input = fixture(name);
  const extension = name.split('.').pop()!;
  const output = strip(input, type, inPieces(input, 1000));

  it('gives the same bytes however the input is cut', () => {
    for (const size of [1, 2, 3, 7, 64, 333, 4096]) {
      expect(strip(input, type, inPieces(input, size)).equals(output)).toBe(true);
    }
    for (let cut = 1; cut < input.length; cut += 37) {
      expect(strip(input, type, [cut]).equals(output)).toBe(true);
    }
  });

  it('leaves none of the identifying text anywhere in the bytes', () => {
    const texts = ['Jane Fixture', 'Paris', 'SN-0123456789', 'FixtureCam', 'FC-200'].filter(
      (text) => input.includes(text, 0, 'latin1'),
    );
    expect(texts.length).toBeGreaterThanOrEqual(3);
    for (const text of texts) expect(output.includes(text, 0, 'latin1')).toBe(false);
  });

  it('leaves no identifying tag, and keeps the orientation and the ICC profile', async () => {
    const before = await exiftool(input, extension);
    expect(Object.keys(before).filter((key) => identifying.test(key)).length).toBeGreaterThan(5);
    const after = await exiftool(output, extension);
    const left = Object.keys(after).filter(
      // The ICC profile's own fields (DeviceModel, ProfileCreator) describe the colour space.
      (key) =>
        (identifying.test(key) && !key.startsWith('ICC_Profile:')) ||
        /^(XMP|IPTC|Photoshop)/.test(key),
    );
    expect(left).toEqual([]);
    const exifTags = Object.keys(after).filter((key) => key.startsWith('EXIF:'));
    if (orientation === 1) {
      expect(exifTags).toEqual([]);
    } else {
      expect(exifTags).toEqual(['EXIF:Orientation']);
      expect(after['EXIF:Orientation']).toBe(orientation);
    }
    if (icc) {
      expect(after['ICC_Profile:ProfileDescription']).toBe(
        before['ICC_Profile:ProfileDescription'],
      );
      expect((await sharp(output).metadata()).icc).toEqual((await sharp(input).metadata()).icc);
    }
    expect(after['ExifTool:Warning']).toBeUndefined();
    expect(after['ExifTool:Error']).toBeUndefined();
  });

  it('keeps every pixel', async () => {
    expect((await pixels(output)).equals(await pixels(input))).toBe(true);
    expect((await sharp(output).metadata()).orientation ?? 1).toBe(orientation);
  });

  it('still passes validation, with the same displayed size', async () => {
    const options = { mode: 'decode' as const, maxPixels: 100_000_000, decodeTimeoutSeconds: 10 };
    const facts = await validateImage(output, type, options);
    expect(facts).toEqual(await validateImage(input, type, options));
    expect(walkFacts(output, type)).toEqual(walkFacts(input, type));
  });
});

describe.each([
  ['photo.png', 'image/png'],
  ['large.jpg', 'image/jpeg'],
  ['photo.webp', 'image/webp'],
  ['anim.gif', 'image/gif'],
  ['photo.avif', 'image/avif'],
] as [string, ImageMimeType][])('an image without metadata (%s)', (name, type) => {
  it('passes through byte for byte', () => {
    const input = fixture(name);
    expect(strip(input, type, inPieces(input, 4093)).equals(input)).toBe(true);
  });
});

describe('streaming', () => {
  it('puts out a large JPEG as it arrives, holding back no more than a segment', () => {
    const input = fixture('large.jpg');
    const stripper = createMetadataStripper('image/jpeg')!;
    let emitted = 0;
    const head = input.subarray(0, input.length - 1024);
    for (let at = 0; at < head.length; at += 16 * 1024) {
      for (const part of stripper.write(head.subarray(at, at + 16 * 1024))) emitted += part.length;
    }
    expect(emitted).toBeGreaterThanOrEqual(0.99 * input.length);
    for (const part of stripper.write(input.subarray(head.length))) emitted += part.length;
    for (const part of stripper.end()) emitted += part.length;
    expect(emitted).toBe(input.length);
  });
});

describe('malformed input', () => {
  const expectUndecodable = (action: () => unknown): void => {
    let thrown: unknown;
    try {
      action();
    } catch (error) {
      thrown = error;
    }
    expect(isAppError(thrown) && thrown.code === 'undecodable_image').toBe(true);
  };

  it.each(phones)('refuses $name cut short, and bytes after its end', ({ name, type }) => {
    const input = fixture(name);
    for (const length of [0, 1, 5, 40, Math.floor(input.length / 2), input.length - 1]) {
      expectUndecodable(() => strip(input.subarray(0, length), type, []));
    }
    expectUndecodable(() => strip(Buffer.concat([input, Buffer.of(0)]), type, []));
  });

  it('fails only with undecodable_image on random damage, and always ends', () => {
    for (const { name, type } of phones) {
      const input = fixture(name);
      let seed = 7;
      const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      for (let round = 0; round < 200; round += 1) {
        const damaged = Buffer.from(input);
        for (let hit = 0; hit < 4; hit += 1) {
          damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
        }
        try {
          strip(damaged, type, inPieces(damaged, 1 + Math.floor(random() * 500)));
        } catch (error) {
          expect(isAppError(error) && error.code === 'undecodable_image').toBe(true);
        }
      }
    }
  });
});

describe('types', () => {
  it('says which types have a lossless route', () => {
    for (const type of ['image/tiff', 'image/bmp', 'image/jxl'] as const) {
      expect(canStripLosslessly(type)).toBe(false);
      expect(createMetadataStripper(type)).toBeUndefined();
    }
    expect(canStripLosslessly('image/jpeg')).toBe(true);
    // HEIC and HEIF share AVIF's container, and its stripper.
    expect(canStripLosslessly('image/heic')).toBe(true);
  });
});
