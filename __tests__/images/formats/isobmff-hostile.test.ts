import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  box,
  fullBox,
  gridDescriptor,
  heif,
  infe,
  ispe,
  overlayDescriptor,
  text,
  u16,
  u32,
  type HeifItem,
} from '../../support/heif-builder.js';
import { walkImage } from '../../support/walk-image.js';

function refused(message: RegExp, code = 'undecodable_image'): object {
  return { code, message: expect.stringMatching(message) as unknown };
}

const avif = ['avif', 'mif1', 'miaf'];
const image: HeifItem = { id: 1, type: 'hvc1', properties: [ispe(64, 64)], extents: [[0, 16]] };
const secret = 'GPS 48.858370 N SN-0123456789 Jane Fixture';
const xmp = text(`<x:xmpmeta xmlns:x="adobe:ns:meta/">${secret}</x:xmpmeta>`);

/** Whether the stored bytes still hold the identifying text anywhere. */
function leaks(output: Buffer): boolean {
  return output.includes('SN-0123456789', 0, 'latin1');
}

describe('derived images', () => {
  it('walks a chain of overlays that each name the next many times once per item', () => {
    // 3 levels x 1,000 references: 10^9 paths, each to the same 64x64 image.
    const fan = 1000;
    const depth = 3;
    const descriptor = overlayDescriptor(fan, 64, 64);
    const items: HeifItem[] = [];
    for (let id = 1; id <= depth; id += 1) {
      items.push({
        id,
        type: 'iovl',
        properties: [ispe(64, 64)],
        extents: [[(id - 1) * descriptor.length, descriptor.length]],
        method: 1,
      });
    }
    items.push({ id: depth + 1, type: 'av01', properties: [ispe(64, 64)], extents: [[0, 16]] });
    const file = heif({
      brands: avif,
      primary: 1,
      items,
      references: items
        .slice(0, depth)
        .map(({ id }) => ['dimg', id, Array<number>(fan).fill(id + 1)] as const),
      idat: Buffer.concat(Array<Buffer>(depth).fill(descriptor)),
    });
    expect(walkImage(file, 'image/avif', true)).toMatchObject({ facts: { width: 64, height: 64 } });
  });

  it('refuses more references than a full grid has, however they are split', () => {
    const items: HeifItem[] = [image, { ...image, id: 2 }];
    const references = Array.from({ length: 200 }, () => ['cdsc', 1, Array(500).fill(2)] as const);
    const file = heif({ primary: 1, items, references });
    expect(walkImage(file, 'image/heic', false)).toMatchObject(
      refused(/more than 65536 references/),
    );
    // Lists of one item in several boxes add up.
    const fewer = heif({ primary: 1, items, references: references.slice(0, 100) });
    expect(walkImage(fewer, 'image/heic', false)).toMatchObject({ facts: { width: 64 } });
  });

  it('budgets a grid that is not the primary image (an iden of it)', () => {
    const file = heif({
      primary: 1,
      items: [
        { id: 1, type: 'iden', properties: [ispe(64, 64)] },
        { id: 2, type: 'grid', properties: [ispe(64, 64)], extents: [[0, 8]], method: 1 },
        { id: 3, type: 'hvc1', properties: [ispe(8000, 6000)], extents: [[0, 16]] },
      ],
      references: [
        ['dimg', 1, [2]],
        ['dimg', 2, Array<number>(255 * 255).fill(3)],
      ],
      idat: gridDescriptor(255, 255, 64, 64),
    });
    expect(walkImage(file, 'image/heic', true)).toMatchObject(
      refused(/pixels decoded/, 'too_many_pixels'),
    );
  });

  it('budgets a grid that is a thumbnail, apart from the primary image', () => {
    const file = heif({
      primary: 1,
      items: [
        image,
        { id: 2, type: 'grid', properties: [ispe(64, 64)], extents: [[0, 8]], method: 1 },
        { id: 3, type: 'hvc1', properties: [ispe(8000, 6000)], extents: [[0, 16]] },
      ],
      references: [
        ['thmb', 2, [1]],
        ['dimg', 2, Array<number>(16).fill(3)],
      ],
      idat: gridDescriptor(4, 4, 64, 64),
    });
    expect(walkImage(file, 'image/heic', false)).toMatchObject(
      refused(/pixels decoded/, 'too_many_pixels'),
    );
  });

  const grid = (descriptor: Buffer, tiles = 4): Buffer =>
    heif({
      primary: 2,
      items: [
        { id: 2, type: 'grid', properties: [ispe(100, 120)], extents: [[0, 0]], method: 1 },
        { ...image, properties: [ispe(64, 64)] },
      ],
      references: [['dimg', 2, Array<number>(tiles).fill(1)]],
      idat: descriptor,
    });

  it("reads a grid's output size, 16 or 32 bits wide, and holds it to its ispe", () => {
    expect(walkImage(grid(gridDescriptor(2, 2, 100, 120)), 'image/heic', false)).toMatchObject({
      facts: { width: 100, height: 120 },
    });
    expect(
      walkImage(grid(gridDescriptor(2, 2, 100, 120, true)), 'image/heic', false),
    ).toMatchObject({
      facts: { width: 100, height: 120 },
    });
    expect(walkImage(grid(gridDescriptor(2, 2, 2000, 1500)), 'image/heic', false)).toMatchObject(
      refused(/output size differs from its ispe/),
    );
    expect(walkImage(grid(gridDescriptor(2, 2, 100, 120), 3), 'image/heic', false)).toMatchObject(
      refused(/not as many tiles as its rows and columns/),
    );
  });

  it("reads a grid's descriptor kept in mdat as it streams past, in any pieces", () => {
    const inMdat = (width: number): Buffer =>
      heif({
        primary: 2,
        items: [{ id: 2, type: 'grid', properties: [ispe(100, 120)], extents: [[16, 8]] }, image],
        references: [['dimg', 2, [1, 1, 1, 1]]],
        mdat: Buffer.concat([Buffer.alloc(16), gridDescriptor(2, 2, width, 120)]),
      });
    for (const strip of [false, true]) {
      expect(walkImage(inMdat(100), 'image/heic', strip)).toMatchObject({
        facts: { width: 100, height: 120 },
      });
      expect(walkImage(inMdat(2000), 'image/heic', strip)).toMatchObject(
        refused(/output size differs from its ispe/),
      );
    }
    // In pieces of 3 bytes: the descriptor is read across chunks.
    expect(walkImage(inMdat(100), 'image/heic', false, 100_000_000, 3)).toMatchObject({
      facts: { width: 100, height: 120 },
    });
    expect(walkImage(inMdat(2000), 'image/heic', false, 100_000_000, 3)).toMatchObject(
      refused(/output size differs/),
    );
  });

  it("reads an overlay's output size and holds it to its ispe", () => {
    const overlay = (width: number): Buffer =>
      heif({
        primary: 2,
        items: [
          { id: 2, type: 'iovl', properties: [ispe(100, 120)], extents: [[0, 0]], method: 1 },
          image,
        ],
        references: [['dimg', 2, [1]]],
        idat: overlayDescriptor(1, width, 120),
      });
    expect(walkImage(overlay(100), 'image/heic', false)).toMatchObject({ facts: { width: 100 } });
    expect(walkImage(overlay(4000), 'image/heic', false)).toMatchObject(
      refused(/overlay's output size differs/),
    );
  });

  it('accepts only a known codec as the primary image of plain HEIF', () => {
    const html = text('<html><script>alert(1)</script></html>');
    const file = heif({
      brands: ['mif1', 'mif1'],
      primary: 1,
      items: [
        {
          id: 1,
          type: 'mime',
          infe: infe(1, 'mime', text('text/html\0')),
          properties: [ispe(64, 64)],
          extents: [[0, html.length]],
        },
      ],
      mdat: html,
    });
    for (const strip of [false, true]) {
      expect(walkImage(file, 'image/heif', strip)).toMatchObject(
        refused(/not coded as hvc1 or av01/),
      );
    }
    const hevc = heif({ brands: ['mif1', 'mif1'], primary: 1, items: [image] });
    expect(walkImage(hevc, 'image/heif', true)).toMatchObject({ facts: { width: 64 } });
  });
});

describe('stripping what rides beside the items', () => {
  it.each([0, 1])('empties XMP in an infe of version %i', (version) => {
    const file = heif({
      primary: 1,
      items: [
        image,
        {
          id: 3,
          type: '',
          infe: fullBox('infe', version, 0, u16(3), u16(0), text('XMP\0application/rdf+xml\0\0')),
          extents: [[16, xmp.length]],
        },
      ],
      mdat: Buffer.concat([Buffer.alloc(16), xmp]),
    });
    expect(leaks(file)).toBe(true);
    const result = walkImage(file, 'image/heic', true);
    if (!('output' in result)) throw new Error(result.message);
    expect(leaks(result.output)).toBe(false);
    expect(result.output.includes('application/rdf+xml', 0, 'latin1')).toBe(false);
    expect(result.output.length).toBe(file.length);
  });

  it.each(['application/xml', 'APPLICATION/RDF+XML'])(
    'empties a mime item of %s (any mime item)',
    (contentType) => {
      const file = heif({
        primary: 1,
        items: [
          image,
          {
            id: 3,
            type: 'mime',
            infe: infe(3, 'mime', text(`${contentType}\0`)),
            extents: [[16, xmp.length]],
          },
        ],
        references: [['cdsc', 3, [1]]],
        mdat: Buffer.concat([Buffer.alloc(16), xmp]),
      });
      const result = walkImage(file, 'image/heic', true);
      if (!('output' in result)) throw new Error(result.message);
      expect(leaks(result.output)).toBe(false);
    },
  );

  it('refuses a box at the top that holds part of an item, and blanks one that holds none', () => {
    const uuid = box('uuid', Buffer.alloc(16, 0xbe), xmp);
    const items = (offset: number): HeifItem[] => [
      image,
      { id: 2, type: 'hvc1', properties: [ispe(8, 8)], extents: [[offset, 4]] },
    ];
    // mdat's body is 16 bytes: 16 + 8 is inside the uuid box after it.
    const overlapped = heif({
      primary: 1,
      items: items(24),
      references: [['thmb', 2, [1]]],
      after: [uuid],
    });
    for (const strip of [false, true]) {
      expect(walkImage(overlapped, 'image/heic', strip)).toMatchObject(
        refused(/holds an item's data|outside the mdat boxes/),
      );
    }
    const apart = heif({
      primary: 1,
      items: items(0),
      references: [['thmb', 2, [1]]],
      after: [uuid],
    });
    const result = walkImage(apart, 'image/heic', true);
    if (!('output' in result)) throw new Error(result.message);
    expect(leaks(result.output)).toBe(false);
  });

  it.each([
    ['an xml box', fullBox('xml ', 0, 0, xmp)],
    ['a uuid box', box('uuid', Buffer.alloc(16, 0xbe), xmp)],
    ['a free box', box('free', xmp)],
  ])('blanks %s inside meta', (_, extra) => {
    const file = heif({ primary: 1, items: [image], metaExtra: [extra] });
    expect(walkImage(file, 'image/heic', false)).toMatchObject({ output: file });
    const result = walkImage(file, 'image/heic', true);
    if (!('output' in result)) throw new Error(result.message);
    expect(leaks(result.output)).toBe(false);
    expect(result.output.length).toBe(file.length);
    expect(result).toMatchObject({ facts: { width: 64, height: 64 } });
  });

  it('zeroes the bodies of free and skip boxes at the top level', () => {
    const file = heif({ primary: 1, items: [image], after: [box('free', xmp), box('skip', xmp)] });
    const result = walkImage(file, 'image/heic', true);
    if (!('output' in result)) throw new Error(result.message);
    expect(leaks(result.output)).toBe(false);
    const tail = result.output.subarray(-2 * (xmp.length + 8));
    expect(tail.toString('latin1', 4, 8)).toBe('free');
    expect(tail.subarray(8, 8 + xmp.length)).toEqual(Buffer.alloc(xmp.length));
  });

  it('refuses to strip a thumbnail coded with another codec (a JPEG carries its own Exif)', () => {
    const jpeg = Buffer.concat([Buffer.of(0xff, 0xd8, 0xff, 0xe1), u16(2 + xmp.length), xmp]);
    const file = heif({
      primary: 1,
      items: [
        image,
        { id: 2, type: 'jpeg', properties: [ispe(8, 8)], extents: [[16, jpeg.length]] },
      ],
      references: [['thmb', 2, [1]]],
      mdat: Buffer.concat([Buffer.alloc(16), jpeg]),
    });
    expect(walkImage(file, 'image/heic', true)).toMatchObject(
      refused(/coded as jpeg cannot be stripped/),
    );
    expect(walkImage(file, 'image/heic', false)).toMatchObject({ output: file });
  });
});

describe('box headers', () => {
  it('refuses a largesize of 0 at the top', () => {
    const file = heif({ primary: 1, items: [image] });
    const large = Buffer.concat([u32(1), text('free'), Buffer.alloc(8)]);
    expect(walkImage(Buffer.concat([file, large]), 'image/heic', false)).toMatchObject(
      refused(/impossible size/),
    );
  });

  it('reads a box with a largesize inside meta as at the top', () => {
    const body = text('nothing here');
    const large = Buffer.concat([u32(1), text('free'), u32(0), u32(16 + body.length), body]);
    const file = heif({ primary: 1, items: [image], metaExtra: [large] });
    expect(walkImage(file, 'image/heic', false)).toMatchObject({ output: file });
    const zero = Buffer.concat([u32(1), text('free'), Buffer.alloc(8)]);
    expect(
      walkImage(heif({ primary: 1, items: [image], metaExtra: [zero] }), 'image/heic', false),
    ).toMatchObject(refused(/impossible size/));
  });

  it('still reads the fixtures made by heif-enc', () => {
    const input = readFileSync('__tests__/fixtures/heic/made-heif-enc-phone.heic');
    expect(walkImage(input, 'image/heic', true)).toMatchObject({
      facts: { width: 64, height: 48 },
    });
  });
});
