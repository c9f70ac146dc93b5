import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { isAppError } from '../../../src/errors.js';
import { ContainerWalker } from '../../../src/images/formats/index.js';
import type { ImageMimeType } from '../../../src/images/image-types.js';
import { box, fullBox, gridDescriptor, heif, ispe, text, u16 } from '../../support/heif-builder.js';

/**
 * No split of the bytes into chunks changes what is checked, read or stripped: the walk of
 * every fixture, cut at random places, answers the same output, facts and refusal as the walk
 * of the whole file, whether it strips or only checks.
 */

const fixture = (name: string): Buffer => readFileSync(`__tests__/fixtures/${name}`);

const cases: [string, ImageMimeType][] = [
  ['photo.jpg', 'image/jpeg'],
  ['phone-o6.jpg', 'image/jpeg'],
  ['photo.png', 'image/png'],
  ['phone.png', 'image/png'],
  ['polyglot.png', 'image/png'],
  ['truncated.png', 'image/png'],
  ['anim.gif', 'image/gif'],
  ['phone.gif', 'image/gif'],
  ['script.gif', 'image/gif'],
  ['photo.webp', 'image/webp'],
  ['phone.webp', 'image/webp'],
  ['photo.avif', 'image/avif'],
  ['phone.avif', 'image/avif'],
  ['heic/made-irot-imir-clap-gps.heic', 'image/heic'],
  ['heic/made-grid-irot-thumbnail-gps.heic', 'image/heic'],
  ['heic/made-grid-mdat-first.heic', 'image/heic'],
  ['heic/made-grid-mdat-first-gps.heic', 'image/heic'],
  ['heic/made-heif-enc-phone.heic', 'image/heic'],
  ['heic/made-heif-enc-alpha-thumbnail.heic', 'image/heic'],
  ['heic/hostile-iloc-past-end.heic', 'image/heic'],
  ['heic/hostile-iref-loop.heic', 'image/heic'],
  ['heic/hostile-200mp-grid.heic', 'image/heic'],
];

/**
 * A HEIF file with what a walk must read or blank across chunk boundaries: a grid descriptor in
 * mdat (read as it streams past), XMP in an infe of version 0 (emptied), an `xml ` box inside
 * meta and a `free` box after mdat (blanked).
 */
function builtHeif(): Buffer {
  const xmp = text('<x:xmpmeta>SN-0123456789 Jane Fixture</x:xmpmeta>');
  return heif({
    primary: 2,
    items: [
      { id: 2, type: 'grid', properties: [ispe(100, 120)], extents: [[16, 8]] },
      { id: 1, type: 'hvc1', properties: [ispe(64, 64)], extents: [[0, 16]] },
      {
        id: 3,
        type: '',
        infe: fullBox('infe', 0, 0, u16(3), u16(0), text('XMP\0application/rdf+xml\0')),
        extents: [[24, xmp.length]],
      },
    ],
    references: [['dimg', 2, [1, 1, 1, 1]]],
    metaExtra: [fullBox('xml ', 0, 0, xmp)],
    mdat: Buffer.concat([Buffer.alloc(16), gridDescriptor(2, 2, 100, 120), xmp]),
    after: [box('free', xmp)],
  });
}

type Outcome =
  | { readonly output: string; readonly facts: ReturnType<ContainerWalker['facts']> }
  | { readonly refused: string };

function walkInPieces(
  image: Buffer,
  type: ImageMimeType,
  strip: boolean,
  cuts: readonly number[],
): Outcome {
  try {
    const walker = new ContainerWalker(type, 100_000_000, { strip });
    const out: Buffer[] = [];
    let at = 0;
    for (const cut of [...cuts, image.length]) {
      out.push(...walker.write(image.subarray(at, cut)));
      at = cut;
    }
    out.push(...walker.end());
    return { output: Buffer.concat(out).toString('base64'), facts: walker.facts() };
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { refused: `${error.code}: ${error.message}` };
  }
}

describe.each([
  ...cases.map(([name, type]) => [name, type, fixture(name)] as const),
  ['a built HEIF (heif-builder)', 'image/heic', builtHeif()] as const,
])('%s', (_, type, image) => {
  const cutsOf = fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, image.length - 1) }), { maxLength: 24 })
    .map((cuts) => cuts.filter((cut) => cut < image.length).sort((a, b) => a - b));

  for (const strip of [false, true]) {
    it(`walks the same however it is cut (${strip ? 'stripping' : 'checking'})`, () => {
      const whole = walkInPieces(image, type, strip, []);
      fc.assert(
        fc.property(cutsOf, (cuts) => {
          expect(walkInPieces(image, type, strip, cuts)).toEqual(whole);
        }),
        { numRuns: 60 },
      );
      // One byte at a time, the finest cut of all.
      const everyByte = Array.from({ length: image.length - 1 }, (_, index) => index + 1);
      expect(walkInPieces(image, type, strip, everyByte)).toEqual(whole);
    });
  }
});
