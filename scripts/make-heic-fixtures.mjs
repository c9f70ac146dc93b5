// Makes the HEIC fixtures in __tests__/fixtures/heic/ whose names start with "made-" or
// "hostile-" (see __tests__/fixtures/README.md). The coded HEVC data comes from Debian's
// `heif-enc` (libheif + x265); the HEIF boxes around it are written here, so that the files
// carry what heif-enc 1.15 cannot make (a grid, `irot`, `imir`, `clap`, `mdat` before `meta`)
// and the hostile cases. Needs `npm run build` first (it reads heif-enc's output with the
// service's own meta reader) and heif-enc and exiftool on the PATH.
// Run: node scripts/make-heic-fixtures.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { readMeta, children } from '../dist/images/formats/isobmff-meta.js';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, '__tests__/fixtures/heic');
const work = mkdtempSync(path.join(tmpdir(), 'heic-fixtures-'));

const u8 = (value) => Buffer.of(value);
const u16 = (value) => {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
};
const u32 = (value) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
};
const text = (value) => Buffer.from(value, 'latin1');
const box = (type, ...parts) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(body.length + 8), text(type), body]);
};
const fullBox = (type, version, flags, ...parts) =>
  box(type, u8(version), u8(flags >> 16), u16(flags & 0xffff), ...parts);

/** A picture that shows which way is up: a gradient with a dark corner at the top left. */
async function picture(width, height, seed) {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = (y * width + x) * 3;
      const corner = x < width / 4 && y < height / 4;
      pixels[at] = corner ? 10 : (x * 255) / width;
      pixels[at + 1] = corner ? 10 : (y * 255) / height;
      pixels[at + 2] = (seed * 60 + ((x ^ y) & 0x3f)) & 0xff;
    }
  }
  const file = path.join(work, `picture-${width}x${height}-${seed}.png`);
  await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
  return file;
}

/** heif-enc's HEVC data and hvcC (and colr, if any) of an input image's primary item. */
function encode(input) {
  const file = `${input}.heic`;
  execFileSync('heif-enc', ['-q', '90', '-o', file, input], { stdio: 'ignore' });
  const bytes = readFileSync(file);
  const top = children(bytes, 0, bytes.length);
  const metaBox = top.find((found) => found.type === 'meta');
  const meta = readMeta(bytes.subarray(metaBox.start, metaBox.end));
  const properties = meta.associations.get(meta.primary);
  const whole = (found) => meta.buffer.subarray(found.start - 8, found.end);
  const [extent] = meta.locations.get(meta.primary).extents;
  return {
    hvcC: whole(properties.find((found) => found.type === 'hvcC')),
    colr: properties.find((found) => found.type === 'colr'),
    data: bytes.subarray(extent.offset, extent.offset + extent.length),
  };
}

/** The Exif (TIFF) and XMP of a JPEG fixture that carries GPS, serials and owner names. */
function metadataOf(jpeg) {
  const bytes = readFileSync(jpeg);
  let exif;
  let xmp;
  for (let at = 2; at + 4 < bytes.length;) {
    const length = bytes.readUInt16BE(at + 2);
    const body = bytes.subarray(at + 4, at + 2 + length);
    if (bytes[at + 1] === 0xe1 && body.toString('latin1', 0, 6) === 'Exif\0\0') {
      exif ??= body.subarray(6);
    }
    const xmpTag = 'http://ns.adobe.com/xap/1.0/\0';
    if (bytes[at + 1] === 0xe1 && body.toString('latin1', 0, xmpTag.length) === xmpTag) {
      xmp ??= body.subarray(xmpTag.length);
    }
    if (bytes[at + 1] === 0xda) break;
    at += 2 + length;
  }
  return { exif: Buffer.concat([u32(0), exif]), xmp };
}

/**
 * Writes a HEIF file. `items`: {id, type, hidden?, contentType?, data? (in mdat), idat?
 * (in idat), extents? ([offset, length] overrides), properties: [box]}.
 */
function heif({
  brands = ['heic', 'mif1', 'heic', 'miaf'],
  primary,
  items,
  refs = [],
  mdatFirst = false,
  extra = {},
}) {
  const ftyp = box('ftyp', text(brands[0]), u32(0), ...brands.slice(1).map(text));
  const properties = [];
  const indexOf = (property) => {
    const found = properties.findIndex((known) => known.equals(property));
    if (found >= 0) return found + 1;
    properties.push(property);
    return properties.length;
  };
  const ipmaEntries = items
    .filter((item) => item.properties.length > 0)
    .map((item) => {
      const indexes = item.properties.map(indexOf);
      return Buffer.concat([
        u16(item.id),
        u8(indexes.length),
        ...indexes.map((index) => u8(0x80 | index)),
      ]);
    });
  const idatParts = [];
  let idatLength = 0;
  const idatOffset = new Map();
  for (const item of items) {
    if (item.idat === undefined) continue;
    idatOffset.set(item.id, idatLength);
    idatParts.push(item.idat);
    idatLength += item.idat.length;
  }
  const mdatParts = items.filter((item) => item.data !== undefined).map((item) => item.data);
  const mdat = box('mdat', ...mdatParts);
  const metaWith = (mdatStart) => {
    let at = mdatStart + 8;
    const entries = items
      .filter((item) => item.data !== undefined || item.idat !== undefined)
      .map((item) => {
        const inIdat = item.idat !== undefined;
        let extents = inIdat
          ? [[idatOffset.get(item.id), item.idat.length]]
          : [[at, item.data.length]];
        if (!inIdat) at += item.data.length;
        extents = item.extents ?? extents;
        return Buffer.concat([
          u16(item.id),
          u16(inIdat ? 1 : 0),
          u16(0),
          u16(extents.length),
          ...extents.flatMap(([offset, length]) => [u32(offset), u32(length)]),
        ]);
      });
    const iref = refs.map(([type, from, to]) =>
      box(type, u16(from), u16(to.length), ...to.map(u16)),
    );
    return fullBox(
      'meta',
      0,
      0,
      fullBox('hdlr', 0, 0, u32(0), text('pict'), u32(0), u32(0), u32(0), u8(0)),
      fullBox('pitm', 0, 0, u16(primary)),
      extra.iinf ??
        fullBox(
          'iinf',
          0,
          0,
          u16(items.length),
          ...items.map((item) =>
            fullBox(
              'infe',
              2,
              item.hidden ? 1 : 0,
              u16(item.id),
              u16(0),
              text(item.type),
              u8(0),
              item.contentType === undefined
                ? Buffer.alloc(0)
                : Buffer.concat([text(item.contentType), u8(0)]),
            ),
          ),
        ),
      fullBox('iloc', 1, 0, u8(0x44), u8(0x00), u16(entries.length), ...entries),
      ...(iref.length > 0 ? [fullBox('iref', 0, 0, ...iref)] : []),
      box(
        'iprp',
        box('ipco', ...properties, ...(extra.properties ?? [])),
        fullBox('ipma', 0, 0, u32(ipmaEntries.length), ...ipmaEntries),
      ),
      ...(idatParts.length > 0 ? [box('idat', ...idatParts)] : []),
    );
  };
  if (mdatFirst) {
    const meta = metaWith(ftyp.length);
    return Buffer.concat([ftyp, mdat, meta]);
  }
  const size = metaWith(0).length;
  return Buffer.concat([ftyp, metaWith(ftyp.length + size), mdat]);
}

const ispe = (width, height) => fullBox('ispe', 0, 0, u32(width), u32(height));
const irot = (angle) => box('irot', u8(angle));
const imir = (axis) => box('imir', u8(axis));
/** A clean aperture of width x height, centred (offsets 0/1). */
const clap = (width, height) =>
  box('clap', u32(width), u32(1), u32(height), u32(1), u32(0), u32(1), u32(0), u32(1));
const gridData = (rows, columns, width, height) =>
  Buffer.concat([u8(0), u8(0), u8(rows - 1), u8(columns - 1), u16(width), u16(height)]);

const { exif, xmp } = metadataOf(path.join(root, '__tests__/fixtures/phone-o1.jpg'));
const metadataItems = (target) => ({
  items: [
    { id: 90, type: 'Exif', data: exif, properties: [] },
    { id: 91, type: 'mime', contentType: 'application/rdf+xml', data: xmp, properties: [] },
  ],
  refs: [
    ['cdsc', 90, [target]],
    ['cdsc', 91, [target]],
  ],
});

const write = (name, bytes) => {
  writeFileSync(path.join(out, name), bytes);
  console.log(name, bytes.length);
};

// One 96x64 image: a clean aperture of 90x60, turned a quarter (irot 1: 90 degrees
// anti-clockwise), mirrored; with Exif (GPS, serials, owner) and XMP items.
const single = encode(await picture(96, 64, 1));
const singleMeta = metadataItems(1);
write(
  'made-irot-imir-clap-gps.heic',
  heif({
    primary: 1,
    items: [
      {
        id: 1,
        type: 'hvc1',
        data: single.data,
        properties: [single.hvcC, ispe(96, 64), clap(90, 60), irot(1), imir(0)],
      },
      ...singleMeta.items,
    ],
    refs: singleMeta.refs,
  }),
);

// A 2x2 grid of 64x64 tiles whose output is 120x100, turned three quarters (irot 3), with
// Exif and XMP, and a 64x64 thumbnail of another size than the primary.
const tiles = [];
for (let seed = 0; seed < 4; seed += 1) tiles.push(encode(await picture(64, 64, seed + 2)));
const thumbnail = encode(await picture(64, 64, 7));
const gridMeta = metadataItems(1);
const gridItems = [
  { id: 1, type: 'grid', idat: gridData(2, 2, 120, 100), properties: [ispe(120, 100), irot(3)] },
  ...tiles.map((tile, index) => ({
    id: 10 + index,
    type: 'hvc1',
    hidden: true,
    data: tile.data,
    properties: [tile.hvcC, ispe(64, 64)],
  })),
  { id: 20, type: 'hvc1', data: thumbnail.data, properties: [thumbnail.hvcC, ispe(64, 64)] },
  ...gridMeta.items,
];
const gridRefs = [['dimg', 1, [10, 11, 12, 13]], ['thmb', 20, [1]], ...gridMeta.refs];
write('made-grid-irot-thumbnail-gps.heic', heif({ primary: 1, items: gridItems, refs: gridRefs }));

// The same grid with mdat before meta (legal; some writers do it), without metadata items.
write(
  'made-grid-mdat-first.heic',
  heif({
    primary: 1,
    items: gridItems.filter((item) => item.id < 90),
    refs: gridRefs.filter(([type]) => type !== 'cdsc'),
    mdatFirst: true,
  }),
);

// mdat before meta with Exif and XMP in it: legal, but its metadata has streamed past before
// the meta box says where it is, so stripping it in one pass is refused (keeping is not).
write(
  'made-grid-mdat-first-gps.heic',
  heif({ primary: 1, items: gridItems, refs: gridRefs, mdatFirst: true }),
);

// heif-enc's own output for a phone-like JPEG (Exif with GPS, serials, owner; XMP; ICC).
execFileSync('heif-enc', [
  '-q',
  '90',
  '-o',
  path.join(out, 'made-heif-enc-phone.heic'),
  path.join(root, '__tests__/fixtures/phone-o1.jpg'),
]);
console.log('made-heif-enc-phone.heic');

// heif-enc with an alpha channel (an auxiliary `auxl` image) and a thumbnail (`-t 32`, which
// heif-enc 1.15 writes as a 1x1 grid of a padded 64x64 tile).
{
  const width = 80;
  const height = 60;
  const pixels = Buffer.alloc(width * height * 4);
  for (let at = 0; at < width * height; at += 1) {
    pixels.writeUInt32BE(((at * 2654435761) >>> 8) | 0xff, at * 4);
    pixels[at * 4 + 3] = at % width < width / 2 ? 255 : 96;
  }
  const input = path.join(work, 'alpha.png');
  await sharp(pixels, { raw: { width, height, channels: 4 } })
    .png()
    .toFile(input);
  const output = path.join(out, 'made-heif-enc-alpha-thumbnail.heic');
  execFileSync('heif-enc', ['-q', '90', '-t', '32', '-o', output, input]);
  console.log('made-heif-enc-alpha-thumbnail.heic');
}

// Hostile: each is otherwise the grid above.
const tileIds = [10, 11, 12, 13];
write(
  'hostile-iloc-past-end.heic',
  heif({
    primary: 1,
    items: gridItems.map((item) =>
      item.id === 13 ? { ...item, extents: [[1_000_000, item.data.length]] } : item,
    ),
    refs: gridRefs,
  }),
);
write(
  'hostile-iref-loop.heic',
  heif({
    primary: 1,
    items: [
      { id: 1, type: 'iden', properties: [ispe(64, 64)] },
      { id: 2, type: 'iden', properties: [ispe(64, 64)] },
      ...gridItems.filter((item) => tileIds.includes(item.id)),
    ],
    refs: [
      ['dimg', 1, [2]],
      ['dimg', 2, [1]],
    ],
  }),
);
write(
  'hostile-grid-of-grids.heic',
  heif({
    primary: 1,
    items: [
      { id: 1, type: 'grid', idat: gridData(1, 1, 120, 100), properties: [ispe(120, 100)] },
      { id: 2, type: 'grid', idat: gridData(2, 2, 120, 100), properties: [ispe(120, 100)] },
      ...gridItems.filter((item) => tileIds.includes(item.id)),
    ],
    refs: [
      ['dimg', 1, [2]],
      ['dimg', 2, tileIds],
    ],
  }),
);
const manyItems = [];
for (let id = 1; id <= 20_000; id += 1) {
  manyItems.push(fullBox('infe', 2, 0, u16(id), u16(0), text('hvc1'), u8(0)));
}
write(
  'hostile-many-items.heic',
  heif({
    primary: 1,
    items: [gridItems.find((item) => item.id === 10)].map((item) => ({ ...item, id: 1 })),
    extra: { iinf: fullBox('iinf', 0, 0, u16(20_000), ...manyItems) },
  }),
);
write(
  'hostile-many-properties.heic',
  heif({
    primary: 1,
    items: [gridItems.find((item) => item.id === 10)].map((item) => ({ ...item, id: 1 })),
    extra: { properties: Array.from({ length: 20_000 }, () => box('free')) },
  }),
);
// A 200 MP photo (16320 x 12240, as a 200 MP phone sensor) declared by its grid: 32 x 24 tiles
// of 512 x 512, every tile pointing at the same small coded image.
const bigTiles = [];
for (let index = 0; index < 32 * 24; index += 1) {
  bigTiles.push({
    id: 100 + index,
    type: 'hvc1',
    hidden: true,
    properties: [tiles[0].hvcC, ispe(512, 512)],
  });
}
const shared = tiles[0].data;
write(
  'hostile-200mp-grid.heic',
  heif({
    primary: 1,
    items: [
      {
        id: 1,
        type: 'grid',
        idat: gridData(24, 32, 16320, 12240),
        properties: [ispe(16320, 12240)],
      },
      { id: 2, type: 'hvc1', data: shared, properties: [tiles[0].hvcC, ispe(64, 64)] },
      ...bigTiles.map((tile) => ({ ...tile, data: undefined, extents: undefined })),
    ],
    refs: [['dimg', 1, bigTiles.map((tile) => tile.id)]],
  }),
);
