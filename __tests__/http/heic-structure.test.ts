import { describe, expect, it } from '@jest/globals';
import { ContainerWalker } from '../../src/images/formats/index.js';
import {
  fullBox,
  gridDescriptor,
  heif,
  ispe,
  text,
  u16,
  type HeifItem,
} from '../support/heif-builder.js';
import { exiftool, identifyingTag } from '../support/image-facts.js';
import {
  drivers,
  fixture,
  jsonBody,
  multipartFile,
  rawBody,
  sha256,
  type BuiltBody,
} from '../support/requests.js';
import { send, useHarnesses } from './harness.js';

/**
 * A HEIC photo in structure checks (IMAGE_VALIDATION=structure): every door stores it once,
 * stripped of its location and personal metadata, and answers its displayed size; a hostile
 * one is refused with nothing stored. Decoding HEIC (the display rendition every HEIC gets,
 * variants, camera files) is __tests__/http/heic.test.ts's.
 */

const harnessFor = useHarnesses();

const doors: Record<string, (bytes: Buffer) => BuiltBody> = {
  json: (bytes) => ({ contentType: 'application/json', body: Buffer.from(jsonBody(bytes)) }),
  multipart: (bytes) => multipartFile(bytes, 'image/heic', 'IMG_0001.HEIC'),
  raw: (bytes) => rawBody(bytes, 'application/octet-stream'),
};

const structure = (streamed: boolean): Record<string, string> => ({
  IMAGE_VALIDATION: 'structure',
  // The fixture is 11 KiB: past 4200 bytes it streams to the store.
  ...(streamed ? { STREAMING_THRESHOLD_BYTES: '4200' } : {}),
});

/** What the service stores for `image`: the one walk's stripped output. */
function strippedForm(image: Buffer): Buffer {
  const walker = new ContainerWalker('image/heic', 100_000_000, { strip: true });
  return Buffer.concat([...walker.write(image), ...walker.end()]);
}

/** The XMP packet of `phone-o1.jpg` (GPS, serial number, creator): what exiftool reads. */
function xmpOf(jpeg: Buffer): Buffer {
  const tag = 'http://ns.adobe.com/xap/1.0/\0';
  const at = jpeg.indexOf(tag, 0, 'latin1');
  return jpeg.subarray(at + tag.length, at - 2 + jpeg.readUInt16BE(at - 2));
}

/**
 * Real HEVC: the 96x64 image of made-irot-imir-clap-gps.heic, its `hvcC` and its coded data
 * (the first item in its `mdat`), since every HEIC stored gets a display rendition, decoded.
 */
const coded = ((file: Buffer) => {
  const hvcC = file.indexOf('hvcC', 0, 'latin1') - 4;
  const mdat = file.indexOf('mdat', 0, 'latin1') + 4;
  return {
    hvcC: file.subarray(hvcC, hvcC + file.readUInt32BE(hvcC)),
    data: file.subarray(mdat, mdat + 2028),
  };
})(fixture('heic/made-irot-imir-clap-gps.heic'));

const image: HeifItem = {
  id: 1,
  type: 'hvc1',
  properties: [ispe(96, 64), coded.hvcC],
  extents: [[0, coded.data.length]],
};

/** XMP as an item of infe version `version`, which has no item type, only a content type. */
function xmpInOldInfe(version: number): Buffer {
  const xmp = xmpOf(fixture('phone-o1.jpg'));
  return heif({
    primary: 1,
    items: [
      image,
      {
        id: 3,
        type: '',
        infe: fullBox('infe', version, 0, u16(3), u16(0), text('XMP\0application/rdf+xml\0\0')),
        extents: [[coded.data.length, xmp.length]],
      },
    ],
    mdat: Buffer.concat([coded.data, xmp]),
  });
}

/** The primary image is an `iden` of a 255x255 grid whose every tile is one 48 MP image. */
function idenOfHugeGrid(): Buffer {
  return heif({
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
}

describe.each(drivers)('HEIC in structure mode on the %s driver', (driver) => {
  const sent = fixture('heic/made-grid-irot-thumbnail-gps.heic');

  for (const streamed of [false, true]) {
    it.each(Object.keys(doors))(
      `stores a photo sent by %s${streamed ? ', streamed,' : ''} without its location, at its displayed size`,
      async (door) => {
        const harness = await harnessFor(driver, structure(streamed));
        const response = await send(harness, '/v1/images', doors[door]!(sent));
        expect(response.status).toBe(201);
        const answer = response.body as Record<string, unknown>;
        // A 2x2 grid of 64x64 tiles with a 120x100 output, turned a quarter: 100 x 120.
        expect(answer).toMatchObject({ contentType: 'image/heic', width: 100, height: 120 });
        expect(String(answer.name)).toMatch(/\.heic$/);
        const stored = await harness.storedBytes(String(answer.name));
        expect(stored.equals(strippedForm(sent))).toBe(true);
        expect(answer).toMatchObject({ bytes: stored.length, sha256: sha256(stored) });
        const tags = await exiftool(stored, 'heic');
        expect(Object.keys(tags).filter((key) => identifyingTag.test(key))).toEqual([]);
      },
    );
  }

  it.each([
    ['hostile-iref-loop.heic', 'undecodable_image'],
    ['hostile-iloc-past-end.heic', 'undecodable_image'],
    ['hostile-200mp-grid.heic', 'too_many_pixels'],
  ])('refuses %s with %s and stores nothing', async (name, code) => {
    const harness = await harnessFor(driver, structure(false));
    const response = await send(harness, '/v1/images', doors.raw!(fixture(`heic/${name}`)));
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ error: { code } });
    await harness.expectNothingStored();
  });

  it.each([0, 1])(
    'stores a photo whose XMP is in an infe of version %i without it',
    async (version) => {
      const harness = await harnessFor(driver, structure(false));
      const input = xmpInOldInfe(version);
      const identifying = (tags: Record<string, unknown>): string[] =>
        Object.keys(tags).filter((key) => identifyingTag.test(key));
      expect(identifying(await exiftool(input, 'heic')).length).toBeGreaterThan(0);
      const response = await send(harness, '/v1/images', doors.raw!(input));
      expect(response.status).toBe(201);
      const stored = await harness.storedBytes(String((response.body as { name: string }).name));
      expect(identifying(await exiftool(stored, 'heic'))).toEqual([]);
    },
  );

  it('refuses a grid that is not the primary image past the pixel budget, and stores nothing', async () => {
    const harness = await harnessFor(driver, structure(false));
    const response = await send(harness, '/v1/images', doors.raw!(idenOfHugeGrid()));
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ error: { code: 'too_many_pixels' } });
    await harness.expectNothingStored();
  });

  it('makes its display rendition, variants and placeholder from the decoded HEVC as well', async () => {
    const harness = await harnessFor(driver, {
      ...structure(false),
      IMAGE_VARIANTS: 'thumbnail:32x32:cover',
      IMAGE_VARIANTS_EAGER: 'true',
      IMAGE_PLACEHOLDERS: 'on',
    });
    const response = await send(harness, '/v1/images', doors.raw!(sent));
    expect(response.status).toBe(201);
    const answer = response.body as Record<string, unknown>;
    expect(answer).toMatchObject({
      display: { width: 100, height: 120, contentType: 'image/jpeg' },
      variants: { thumbnail: { width: 32, height: 32 } },
      placeholder: { color: expect.stringMatching(/^#[0-9a-f]{6}$/) as unknown },
    });
    const id = String(answer.id);
    expect((await harness.storedNames()).sort()).toEqual(
      [String(answer.name), `${id}.display.jpg`, `${id}.thumbnail.webp`].sort(),
    );
  });

  it('is taken in decode mode too, decoded by the HEIF codec', async () => {
    const harness = await harnessFor(driver);
    const response = await send(harness, '/v1/images', doors.raw!(sent));
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      contentType: 'image/heic',
      width: 100,
      height: 120,
      display: { width: 100, height: 120, contentType: 'image/jpeg' },
    });
  });
});
