import type { ImageMimeType } from '../image-types.js';
import { undecodable, type Grammar, type GrammarContext } from './grammar.js';
import { readMeta, type Box, type HeifMeta, type Item } from './isobmff-meta.js';

/** The meta box is read whole up to this size; the image data never is. */
const maxMetaBoxBytes = 1024 * 1024;

/** What a metadata item becomes when stripped: a type no reader knows, so none looks inside. */
const retiredItemType = 'zero';

/** Item types that are made from other items (`dimg` references) rather than coded. */
const derivedTypes = new Set(['grid', 'iden', 'iovl', 'tmap']);

/** Top-level boxes an image is made of; `free` and `skip` hold nothing by definition. */
const imageBoxes = new Set(['ftyp', 'meta', 'mdat', 'free', 'skip']);

/** The coded item type each HEIF brand's images must have; any for plain HEIF. */
const codedTypeOf: Partial<Record<ImageMimeType, string>> = {
  'image/avif': 'av01',
  'image/heic': 'hvc1',
};

interface Range {
  readonly start: number;
  readonly end: number;
}

/**
 * ISOBMFF images (HEIF: AVIF and HEIC): top-level boxes from `ftyp` to the end of the file,
 * one `meta` box (read whole) that names a primary image, with every item's data inside the
 * file. The primary image gives the facts: its `ispe` with its `clap`, `irot` and `imir`
 * applied in the order it lists them (a grid's own `ispe` is its output size). Its pixels are
 * budgeted from the headers before anything is decoded: every `ispe` in the file, and all of a
 * grid's tiles together. Derived images may not loop, and a grid's tiles must be coded images.
 *
 * `mdat` may come before `meta`: it passes as it streams (nothing is held), and once the meta
 * box arrives the items in it are checked against the bytes already seen; extents are checked
 * against the length of the file at its end.
 *
 * Stripped: Exif items and XMP items (`mime`, application/rdf+xml) are emptied where they lie,
 * and nothing moves. `iloc` says at which file offsets their payloads sit in `mdat`, after the
 * meta box; those bytes are put out as zeros as they stream past, and the items' `infe` entries
 * get an unknown type (and the hidden flag), so that no reader takes the zeros for EXIF or XMP.
 * Removing the items from iinf/iloc/iref and padding meta with a `free` box would leave no
 * trace of them, but needs three tables rewritten; every offset and size here stays as it was,
 * so the image data and its iloc entries cannot go wrong. HEIF turns by `irot`/`imir`, never by
 * EXIF Orientation, so no EXIF is written back. Any other top-level box but `free` and `skip`
 * (a Samsung motion photo's video, a track, a `uuid` box) may carry a location of its own: after
 * the meta box, one that holds no item's data becomes a `free` box of zeros, its size kept.
 * Metadata stored before the meta box, such a box before it, or metadata stored by reference
 * to another item (construction method 2) cannot be emptied in one pass and is refused when
 * stripping.
 */
export function* isobmff(type: ImageMimeType, context: GrammarContext): Grammar {
  let first = true;
  let meta: HeifMeta | undefined;
  let ranges: Range[] = [];
  /** Where item data lies in the file, once the meta box has said. */
  let itemData: Range[] = [];
  for (;;) {
    const header = yield { kind: first ? 'read' : 'readOrEnd', bytes: 8 };
    if (header === undefined) break;
    const boxType = header.toString('latin1', 4, 8);
    if (first && boxType !== 'ftyp') throw undecodable('the file does not start with an ftyp box');
    first = false;
    let size = header.readUInt32BE(0);
    let head = header;
    if (size === 1) {
      const large = (yield { kind: 'read', bytes: 8 })!;
      if (large.readBigUInt64BE(0) > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw undecodable(`box ${boxType} is too large`);
      }
      size = Number(large.readBigUInt64BE(0));
      head = Buffer.concat([header, large]);
    }
    if (size !== 0 && size < head.length) {
      throw undecodable(`box ${boxType} has an impossible size`);
    }
    const at = context.position();
    const body = size - head.length;
    if (context.stripping && !imageBoxes.has(boxType)) {
      // Anything else at the top (a motion photo's video, a track, a uuid box) may carry its
      // own location: once the meta box has said where the items lie, a box that holds none
      // of their data becomes a free box of zeros, its size kept. Before it, nothing can tell.
      if (meta === undefined || size === 0) {
        throw undecodable(`a ${boxType} box cannot be stripped in one pass where it lies`);
      }
      if (!itemData.some((range) => range.end > at && range.start < at + body)) {
        yield {
          kind: 'emit',
          bytes: Buffer.concat([head.subarray(0, 4), Buffer.from('free'), head.subarray(8)]),
        };
        yield { kind: 'drop', bytes: body, zero: true };
        continue;
      }
    }
    yield { kind: 'emit', bytes: head };
    if (size === 0) {
      if (boxType === 'meta') throw undecodable('the meta box has no size');
      const last = ranges.reduce((end, range) => Math.max(end, range.end), at);
      yield* passZeroing(at, last - at, ranges);
      yield { kind: 'passToEnd' };
      break;
    }
    if (boxType !== 'meta') {
      yield* passZeroing(at, body, ranges);
      continue;
    }
    if (meta !== undefined) throw undecodable('the file has two meta boxes');
    if (body > maxMetaBoxBytes) throw undecodable('the meta box is too large');
    const bytes = (yield { kind: 'read', bytes: body })!;
    meta = readMeta(bytes);
    describePrimary(meta, type, context);
    itemData = itemDataRanges(meta);
    if (context.stripping) {
      ranges = retireMetadataItems(meta);
      if (ranges.some((range) => range.start < at + body)) {
        throw undecodable('metadata stored before the meta box cannot be stripped in one pass');
      }
    }
    yield { kind: 'emit', bytes };
  }
  if (meta === undefined) throw undecodable('the file has no meta box');
  if (dataEnd(meta) > context.position()) {
    throw undecodable("an item's data lies past the end of the file");
  }
}

/** Passes `bytes` from file offset `at`, putting out zeros for the parts inside `ranges`. */
function* passZeroing(at: number, bytes: number, ranges: readonly Range[]): Grammar {
  let position = at;
  const end = at + bytes;
  const inside = ranges
    .filter((range) => range.end > at && range.start < end)
    .sort((a, b) => a.start - b.start);
  for (const range of inside) {
    const start = Math.max(range.start, position);
    if (start > position) yield { kind: 'pass', bytes: start - position };
    const stop = Math.min(range.end, end);
    if (stop > start) yield { kind: 'drop', bytes: stop - start, zero: true };
    position = Math.max(position, stop);
  }
  if (end > position) yield { kind: 'pass', bytes: end - position };
}

/** The file ranges of every item's data (an extent of length 0 runs to the end of the file). */
function itemDataRanges(meta: HeifMeta): Range[] {
  const found: Range[] = [];
  for (const location of meta.locations.values()) {
    if (location.method !== 0) continue;
    for (const { offset, length } of location.extents) {
      found.push({ start: offset, end: length === 0 ? Number.POSITIVE_INFINITY : offset + length });
    }
  }
  return found;
}

/** The end of the last byte of item data at a file offset (an extent of length 0 runs to EOF). */
function dataEnd(meta: HeifMeta): number {
  let end = 0;
  for (const location of meta.locations.values()) {
    if (location.method !== 0) continue;
    for (const extent of location.extents) end = Math.max(end, extent.offset + extent.length);
  }
  return end;
}

function propertiesOf(meta: HeifMeta, id: number, type: string): Box[] {
  return (meta.associations.get(id) ?? []).filter((box) => box.type === type);
}

/** An item's `ispe` (image spatial extents), which every image item must have. */
function extentsOf(meta: HeifMeta, item: Item): { width: number; height: number } {
  const ispe = propertiesOf(meta, item.id, 'ispe')[0];
  if (ispe === undefined || ispe.end - ispe.start < 12) {
    throw undecodable(`image item ${item.id} has no size (ispe) property`);
  }
  return {
    width: meta.buffer.readUInt32BE(ispe.start + 4),
    height: meta.buffer.readUInt32BE(ispe.start + 8),
  };
}

/**
 * Checks the primary image's derivation and budget, and notes its displayed size. Every
 * `ispe` in the file is held to the pixel limit too: thumbnails, alpha and depth images and
 * other top-level images are stored with the primary, and a decoder may be asked for any.
 */
function describePrimary(meta: HeifMeta, type: ImageMimeType, context: GrammarContext): void {
  const { buffer } = meta;
  for (const box of meta.properties) {
    if (box.type !== 'ispe') continue;
    if (box.end - box.start < 12) throw undecodable('an ispe property is cut off');
    context.checkPixels(buffer.readUInt32BE(box.start + 4), buffer.readUInt32BE(box.start + 8));
  }
  const primary = meta.items.get(meta.primary)!;
  const coded = codedItems(meta, primary);
  const codedType = codedTypeOf[type];
  if (codedType !== undefined && coded.some((item) => item.type !== codedType)) {
    throw undecodable(`the primary image of ${type} is not coded as ${codedType}`);
  }
  if (primary.type === 'grid') {
    // A decoder decodes every tile: their pixels together are what it allocates.
    const tile = extentsOf(meta, coded[0]!);
    for (const item of coded) {
      const { width, height } = extentsOf(meta, item);
      if (width !== tile.width || height !== tile.height) {
        throw undecodable("a grid's tiles differ in size");
      }
    }
    const grid = gridLayout(meta, primary);
    if (grid !== undefined && grid.rows * grid.columns !== coded.length) {
      throw undecodable('a grid has not as many tiles as its rows and columns');
    }
    context.checkPixels(
      tile.width * (grid?.columns ?? coded.length),
      tile.height * (grid?.rows ?? 1),
    );
  }
  let { width, height } = extentsOf(meta, primary);
  context.checkPixels(width, height);
  for (const property of meta.associations.get(primary.id) ?? []) {
    if (property.type === 'clap') {
      ({ width, height } = cleanAperture(buffer, property, width, height));
    } else if (property.type === 'irot') {
      if (property.end - property.start < 1) throw undecodable('an irot property is cut off');
      if ((buffer[property.start]! & 0x03) % 2 === 1) [width, height] = [height, width];
    }
    // imir mirrors: the size stays.
  }
  context.seen.width = width;
  context.seen.height = height;
  context.seen.displayed = true;
}

/**
 * The coded items a derived image is made of (the image itself when it is coded), following
 * `dimg` references: a loop, or a grid whose tiles are derived images, is refused.
 */
function codedItems(meta: HeifMeta, image: Item): Item[] {
  const dimg = meta.references.get('dimg');
  const coded: Item[] = [];
  const visit = (item: Item, path: readonly number[]): void => {
    if (path.includes(item.id))
      throw undecodable('the derived images refer to each other in a loop');
    if (!derivedTypes.has(item.type)) {
      coded.push(item);
      return;
    }
    const inputs = dimg?.get(item.id) ?? [];
    if (inputs.length === 0) throw undecodable(`derived image ${item.id} has no inputs`);
    for (const id of inputs) {
      const input = meta.items.get(id)!;
      if (item.type === 'grid' && derivedTypes.has(input.type)) {
        throw undecodable("a grid's tiles must be coded images, not derived ones");
      }
      visit(input, [...path, item.id]);
    }
  };
  visit(image, []);
  return coded;
}

/** A grid's rows and columns, from its descriptor when it is kept in `idat`. */
function gridLayout(meta: HeifMeta, grid: Item): { rows: number; columns: number } | undefined {
  const location = meta.locations.get(grid.id);
  const extent = location?.extents[0];
  if (location?.method !== 1 || extent === undefined || meta.idat === undefined) return undefined;
  if (extent.length < 8) throw undecodable('a grid descriptor is cut off');
  const at = meta.idat.start + extent.offset;
  return { rows: meta.buffer[at + 2]! + 1, columns: meta.buffer[at + 3]! + 1 };
}

/**
 * The size after a `clap` (clean aperture) crop, computed as libheif computes it: its left
 * and top edges rounded from the centre offset, clamped to the image.
 */
function cleanAperture(
  buffer: Buffer,
  clap: Box,
  width: number,
  height: number,
): { width: number; height: number } {
  if (clap.end - clap.start < 32) throw undecodable('a clap property is cut off');
  const field = (index: number, signed = false): bigint =>
    BigInt(
      signed
        ? buffer.readInt32BE(clap.start + index * 4)
        : buffer.readUInt32BE(clap.start + index * 4),
    );
  const edges = (
    size: number,
    apertureN: bigint,
    apertureD: bigint,
    offsetN: bigint,
    offsetD: bigint,
    roundFirst: (n: bigint, d: bigint) => bigint,
  ): number => {
    if (apertureD === 0n || offsetD === 0n) throw undecodable('a clap property divides by zero');
    // first = offset + (size - 1) / 2 - (aperture - 1) / 2, as one fraction.
    const d = offsetD * 2n * apertureD;
    const n =
      offsetN * 2n * apertureD +
      BigInt(size - 1) * offsetD * apertureD -
      (apertureN - apertureD) * offsetD;
    let first = Number(roundFirst(n, d));
    // last = aperture - 1 + first, rounded half up.
    let last = Number(
      (apertureN - apertureD + BigInt(first) * apertureD + apertureD / 2n) / apertureD,
    );
    if (first < 0) first = 0;
    if (last >= size) last = size - 1;
    if (first > last) throw undecodable('a clap property crops away the whole image');
    return last - first + 1;
  };
  const truncate = (n: bigint, d: bigint): bigint => n / d;
  const round = (n: bigint, d: bigint): bigint => (n + d / 2n) / d;
  return {
    width: edges(width, field(0), field(1), field(4, true), field(5), truncate),
    height: edges(height, field(2), field(3), field(6, true), field(7), round),
  };
}

/**
 * Gives the meta box's Exif and XMP items an unknown type, zeroes their payloads kept in
 * `idat`, and answers the file ranges of their payloads.
 */
function retireMetadataItems(meta: HeifMeta): Range[] {
  const { buffer } = meta;
  const ranges: Range[] = [];
  for (const item of meta.items.values()) {
    const isMetadata =
      item.type === 'Exif' ||
      (item.type === 'mime' && item.contentType.startsWith('application/rdf+xml'));
    if (!isMetadata) continue;
    buffer.write(retiredItemType, item.typeAt, 'latin1');
    buffer[item.flagsAt]! |= 0x01; // hidden
    const location = meta.locations.get(item.id);
    for (const extent of location?.extents ?? []) {
      if (extent.length === 0) throw undecodable('a metadata item has no length');
      if (location!.method === 0) {
        ranges.push({ start: extent.offset, end: extent.offset + extent.length });
      } else if (location!.method === 1) {
        const start = meta.idat!.start + extent.offset;
        buffer.fill(0, start, start + extent.length);
      } else {
        throw undecodable('a metadata item is stored where one pass cannot empty it');
      }
    }
  }
  return ranges;
}

/** HEIF brands (ISO/IEC 23008-12 Annex B, and AV1's) and the type of the file they name. */
const brandTypes: Readonly<Record<string, ImageMimeType>> = {
  avif: 'image/avif',
  avis: 'image/avif',
  heic: 'image/heic',
  heix: 'image/heic',
  heim: 'image/heic',
  heis: 'image/heic',
  hevc: 'image/heic-sequence',
  hevx: 'image/heic-sequence',
  hevm: 'image/heic-sequence',
  hevs: 'image/heic-sequence',
};

/** Brands that say only "HEIF", still or sequence, whatever the codec. */
const structuralBrands: Readonly<Record<string, ImageMimeType>> = {
  mif1: 'image/heif',
  mif2: 'image/heif',
  msf1: 'image/heif-sequence',
};

/**
 * The image type an ISOBMFF file declares in its `ftyp` box, from the bytes it starts with;
 * undefined when it does not start with one or names no image brand. The major brand decides
 * when it names a codec; else a compatible brand that does (a `mif1` file that is compatible
 * with `heic` is HEIC), else the structural brand. file-type reads the major brand alone, so
 * a `mif1` AVIF would pass for HEIF and a `heim` HEIC for an MP4 video.
 */
export function isobmffImageType(sample: Uint8Array): ImageMimeType | undefined {
  const bytes = Buffer.from(sample.buffer, sample.byteOffset, sample.byteLength);
  if (bytes.length < 16 || bytes.toString('latin1', 4, 8) !== 'ftyp') return undefined;
  const size = Math.min(bytes.readUInt32BE(0), bytes.length);
  if (size < 16) return undefined;
  const major = bytes.toString('latin1', 8, 12);
  const compatible: string[] = [];
  for (let at = 16; at + 4 <= size; at += 4) compatible.push(bytes.toString('latin1', at, at + 4));
  const sequence = (structuralBrands[major] ?? brandTypes[major])?.endsWith('-sequence') === true;
  const codec =
    brandTypes[major] ??
    compatible
      .map((brand) => brandTypes[brand])
      .find((found) => found !== undefined && found.endsWith('-sequence') === sequence);
  return (
    codec ?? structuralBrands[major] ?? compatible.map((b) => structuralBrands[b]).find(Boolean)
  );
}
