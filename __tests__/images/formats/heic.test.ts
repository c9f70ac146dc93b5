import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  ContainerWalker,
  createMetadataStripper,
  isobmffImageType,
  type ImageFacts,
} from '../../../src/images/formats/index.js';
import { sniffImageType } from '../../../src/ingest/sniff.js';
import { walkImage } from '../../support/walk-image.js';

const heic = (name: string): Buffer => readFileSync(`__tests__/fixtures/heic/${name}`);

function isobmffBytes(major: string, ...compatible: string[]): Buffer {
  const box = Buffer.alloc(16 + 4 * compatible.length);
  box.writeUInt32BE(box.length, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(major, 8, 'latin1');
  compatible.forEach((brand, index) => box.write(brand, 16 + 4 * index, 'latin1'));
  return box;
}

describe('sniffing ISOBMFF brands', () => {
  it.each([
    [['heic', 'mif1', 'heic'], 'image/heic'],
    [['heix', 'mif1'], 'image/heic'],
    [['heim', 'mif1'], 'image/heic'],
    [['heis', 'mif1'], 'image/heic'],
    [['mif1', 'mif1', 'heic'], 'image/heic'],
    [['mif1', 'mif1', 'avif'], 'image/avif'],
    [['mif1', 'mif1', 'miaf'], 'image/heif'],
    [['avif', 'mif1', 'miaf'], 'image/avif'],
    [['msf1', 'msf1', 'hevc'], 'image/heic-sequence'],
    [['hevc', 'msf1'], 'image/heic-sequence'],
    [['hevs', 'msf1'], 'image/heic-sequence'],
    [['msf1', 'iso8'], 'image/heif-sequence'],
    [['isom', 'iso2', 'mp41'], undefined],
  ] as const)('reads %j as %s', ([major, ...compatible], type) => {
    expect(isobmffImageType(isobmffBytes(major, ...compatible))).toBe(type);
  });

  it('types HEIC from the bytes and allows it by default; sequences are refused by name', async () => {
    const allowed = ['image/heic', 'image/heif'] as const;
    await expect(sniffImageType(heic('made-heif-enc-phone.heic'), allowed)).resolves.toEqual({
      contentType: 'image/heic',
      extension: 'heic',
    });
    await expect(
      sniffImageType(isobmffBytes('msf1', 'msf1', 'hevc'), allowed),
    ).rejects.toMatchObject({
      code: 'unsupported_image_type',
      message: expect.stringContaining('image/heic-sequence') as unknown,
    });
  });
});

/** Displayed sizes, as heif-info and heif-convert (libheif 1.15) report them. */
const made: [string, ImageFacts][] = [
  // 96x64, clap 90x60, irot 90 degrees, imir
  ['made-irot-imir-clap-gps.heic', { width: 60, height: 90, frames: undefined, orientation: 1 }],
  // a 2x2 grid of 64x64 tiles with a 120x100 output, irot 270 degrees, a 64x64 thumbnail
  [
    'made-grid-irot-thumbnail-gps.heic',
    { width: 100, height: 120, frames: undefined, orientation: 1 },
  ],
  ['made-grid-mdat-first.heic', { width: 100, height: 120, frames: undefined, orientation: 1 }],
  ['made-grid-mdat-first-gps.heic', { width: 100, height: 120, frames: undefined, orientation: 1 }],
  ['made-heif-enc-phone.heic', { width: 64, height: 48, frames: undefined, orientation: 1 }],
  // heif-enc: an alpha image (auxl) and a thumbnail that is a 1x1 grid of another size
  [
    'made-heif-enc-alpha-thumbnail.heic',
    { width: 80, height: 60, frames: undefined, orientation: 1 },
  ],
];

describe.each(made)('%s', (name, facts) => {
  const input = heic(name);

  it('answers its displayed size, kept or stripped', () => {
    expect(walkImage(input, 'image/heic', false)).toMatchObject({ facts, output: input });
    if (name !== 'made-grid-mdat-first-gps.heic') {
      expect(walkImage(input, 'image/heic', true)).toMatchObject({ facts });
    }
  });

  it('refuses it cut short anywhere, or with a byte after its end', () => {
    for (let length = 0; length < input.length; length += 97) {
      expect(walkImage(input.subarray(0, length), 'image/heic', false)).toMatchObject({
        code: 'undecodable_image',
      });
    }
    expect(walkImage(Buffer.concat([input, Buffer.of(0)]), 'image/heic', false)).toMatchObject({
      code: 'undecodable_image',
    });
  });

  it('is not AVIF: its primary image is coded with HEVC', () => {
    expect(walkImage(input, 'image/avif', false)).toMatchObject({
      code: 'undecodable_image',
      message: expect.stringContaining('not coded as av01') as unknown,
    });
  });
});

describe('stripping HEIC', () => {
  const identifying = ['Jane Fixture', 'SN-0123456789', 'FixtureCam', 'Paris'];

  it.each([
    'made-irot-imir-clap-gps.heic',
    'made-grid-irot-thumbnail-gps.heic',
    'made-heif-enc-phone.heic',
  ])('empties the Exif and XMP items of %s in place and changes nothing else', (name) => {
    const input = heic(name);
    const found = identifying.filter((text) => input.includes(text, 0, 'latin1'));
    expect(found.length).toBeGreaterThanOrEqual(3);
    const result = walkImage(input, 'image/heic', true);
    if (!('output' in result)) throw new Error(result.message);
    const { output } = result;
    expect(output.length).toBe(input.length);
    for (const text of found) expect(output.includes(text, 0, 'latin1')).toBe(false);
    // Every byte that changed is in an Exif or XMP payload (now zero) or an item's type and
    // flags (an infe of version 2: the last flags byte, then id and protection index, then the
    // type): ispe, irot, imir, clap, colr, hvcC and the HEVC data are untouched.
    const changed: number[] = [];
    for (let at = 0; at < input.length; at += 1) if (input[at] !== output[at]) changed.push(at);
    const retypedAt = [...output.toString('latin1').matchAll(/zero/g)].map((match) => match.index);
    expect(retypedAt.length).toBe(2);
    const outsidePayloads = changed.filter((at) => output[at] !== 0);
    for (const at of outsidePayloads) {
      expect(
        retypedAt.some((typeAt) => (at >= typeAt && at < typeAt + 4) || at === typeAt - 5),
      ).toBe(true);
    }
  });

  it('refuses metadata that streamed past before the meta box, but keeps such a file', () => {
    const input = heic('made-grid-mdat-first-gps.heic');
    expect(walkImage(input, 'image/heic', true)).toMatchObject({
      code: 'undecodable_image',
      message: expect.stringContaining('before the meta box') as unknown,
    });
    expect(walkImage(input, 'image/heic', false)).toMatchObject({ output: input });
  });

  it('blanks a top-level box after meta that holds no item data (a motion photo video)', () => {
    const video = Buffer.concat([
      Buffer.of(0, 0, 0, 32),
      Buffer.from('mpvdGPS Paris SN-0123456789!'),
    ]);
    const input = Buffer.concat([heic('made-grid-mdat-first.heic'), video]);
    expect(walkImage(input, 'image/heic', false)).toMatchObject({ output: input });
    const result = walkImage(input, 'image/heic', true);
    if (!('output' in result)) throw new Error(result.message);
    const blank = Buffer.concat([Buffer.of(0, 0, 0, 32), Buffer.from('free'), Buffer.alloc(24)]);
    expect(result.output.subarray(-32)).toEqual(blank);
    expect(result.output.subarray(0, -32)).toEqual(input.subarray(0, -32));
    expect(result).toMatchObject({ facts: { width: 100, height: 120 } });
  });

  it('refuses to strip a box that comes before the meta box and is not image data', () => {
    const input = heic('made-grid-irot-thumbnail-gps.heic');
    const ftypEnd = input.readUInt32BE(0);
    const uuid = Buffer.concat([Buffer.of(0, 0, 0, 16), Buffer.from('uuidGPS Pari')]);
    const moved = Buffer.concat([input.subarray(0, ftypEnd), uuid, input.subarray(ftypEnd)]);
    expect(walkImage(moved, 'image/heic', true)).toMatchObject({
      code: 'undecodable_image',
      message: expect.stringContaining('uuid box cannot be stripped') as unknown,
    });
  });

  it('has a lossless route for HEIC and HEIF', () => {
    expect(createMetadataStripper('image/heic', 100_000_000)).toBeDefined();
    expect(createMetadataStripper('image/heif', 100_000_000)).toBeDefined();
  });
});

describe('hostile HEIC', () => {
  it.each([
    ['hostile-iloc-past-end.heic', 'undecodable_image', /past the end of the file/],
    ['hostile-iref-loop.heic', 'undecodable_image', /loop/],
    ['hostile-grid-of-grids.heic', 'undecodable_image', /tiles must be coded images/],
    ['hostile-many-items.heic', 'undecodable_image', /more than 1000 items/],
    ['hostile-many-properties.heic', 'undecodable_image', /more than 100 properties/],
    ['hostile-200mp-grid.heic', 'too_many_pixels', /16320 x 12240/],
  ])('refuses %s (%s)', (name, code, message) => {
    for (const strip of [false, true]) {
      const result = walkImage(heic(name), 'image/heic', strip);
      expect(result).toMatchObject({ code });
      expect('message' in result && message.test(result.message)).toBe(true);
    }
  });

  it('refuses a photo over MAX_IMAGE_PIXELS from its headers, before its image data', () => {
    const input = heic('made-grid-irot-thumbnail-gps.heic');
    const metaEnd = input.indexOf('mdat', 0, 'latin1') - 4;
    const walker = new ContainerWalker('image/heic', 100 * 120 - 1);
    // The whole meta box and nothing of mdat: the limit is applied from the headers alone.
    expect(() => walker.write(input.subarray(0, metaEnd))).toThrow(
      expect.objectContaining({ code: 'too_many_pixels' }),
    );
  });

  it('always ends on damaged files, with facts or a refusal that names the fault', () => {
    const files = made.map(([name]) => heic(name));
    fc.assert(
      fc.property(
        fc.constantFrom(...files),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.boolean(),
        (file, damage, strip) => {
          const damaged = Buffer.from(file);
          for (const [at, value] of damage) damaged[at % damaged.length] = value;
          // walkImage() rethrows anything that is not an AppError; the driver would turn a
          // RangeError into "cannot be read": every read here is bounds-checked first.
          const result = walkImage(damaged, 'image/heic', strip);
          if ('message' in result) expect(result.message).not.toMatch(/cannot be read/);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("budgets a grid's tiles together, not only its output size", () => {
    // Four 64x64 tiles (16,384 pixels) behind a 120x100 output (12,000 pixels).
    const input = heic('made-grid-irot-thumbnail-gps.heic');
    expect(walkImage(input, 'image/heic', false, 16_383)).toMatchObject({
      code: 'too_many_pixels',
    });
    expect(walkImage(input, 'image/heic', false, 16_384)).toMatchObject({
      facts: { width: 100, height: 120 },
    });
  });
});
