import type { ImageMimeType } from '../image-types.js';
import { undecodable, type Grammar, type GrammarContext, type Seer } from './grammar.js';
import {
  boxHeaderBytes,
  readBoxHeader,
  readMeta,
  type Box,
  type HeifMeta,
  type Item,
} from './isobmff-meta.js';

/** The meta box is read whole up to this size; the image data never is. */
const maxMetaBoxBytes = 1024 * 1024;

/** What a metadata item becomes when stripped: a type no reader knows, so none looks inside. */
const retiredItemType = 'zero';

/** Item types that are made from other items (`dimg` references) rather than coded. */
const derivedTypes = new Set(['grid', 'iden', 'iovl', 'tmap']);

/**
 * The children of `meta` an image is read from (ISO/IEC 23008-12 and 14496-12); any other
 * (an `xml ` or `bxml` box, a `uuid` box, `free`) is blanked when stripping.
 */
const metaBoxesKept = new Set([
  'hdlr',
  'pitm',
  'iloc',
  'iinf',
  'iref',
  'iprp',
  'idat',
  'dinf',
  'grpl',
]);

/** The coded item types each type's images may have: the codecs this service decodes. */
function codecsOf(type: ImageMimeType): readonly string[] {
  if (type === 'image/avif') return ['av01'];
  if (type === 'image/heic') return ['hvc1'];
  return ['hvc1', 'av01'];
}

interface Range {
  readonly start: number;
  readonly end: number;
}

/** A derived image's descriptor kept in mdat: checked once its bytes have streamed past. */
interface Descriptor {
  readonly range: Range;
  readonly check: (bytes: Buffer) => void;
  readonly parts: Buffer[];
}

/** A descriptor is a few bytes, and an overlay's 8 per input: held up to this size. */
const maxDescriptorBytes = 64 * 1024;

/**
 * ISOBMFF images (HEIF: AVIF and HEIC): top-level boxes from `ftyp` to the end of the file,
 * one `meta` box (read whole) that names a primary image, with every item's data inside an
 * `mdat` box (or in `idat`, inside meta). The primary image gives the facts: its `ispe` with
 * its `clap`, `irot` and `imir` applied in the order it lists them (a grid's own `ispe` is its
 * output size, and its descriptor must say the same). Its pixels are budgeted from the headers
 * before anything is decoded: every `ispe` in the file, and every coded image a derived image
 * is made of, together (see `checkDerivations`). The primary image is coded with a codec this
 * service decodes for its type, or derived from such images.
 *
 * `mdat` may come before `meta`: it passes as it streams (nothing is held), and once the meta
 * box arrives the items in it are checked against the bytes already seen; extents are checked
 * against the `mdat` boxes at the end of the file. A descriptor kept in `mdat` after the meta
 * box is copied as it streams past and checked at the end; one before it has gone by unread,
 * and is refused.
 *
 * Stripped: every item that is not an image (Exif, XMP in a `mime` item or in an infe of
 * version 0 or 1, any other file) is emptied where it lies, and nothing moves. `iloc` says at
 * which file offsets their payloads sit in `mdat`, after the meta box; those bytes are put out
 * as zeros as they stream past, and the items' `infe` entries get an unknown type (and the
 * hidden flag) or, before version 2, an empty name and content type, so that no reader takes
 * the zeros for EXIF or XMP. Removing the items from iinf/iloc/iref and padding meta with a
 * `free` box would leave no trace of them, but needs three tables rewritten; every offset and
 * size here stays as it was, so the image data and its iloc entries cannot go wrong. HEIF turns
 * by `irot`/`imir`, never by EXIF Orientation, so no EXIF is written back. An image item coded
 * otherwise than with the type's codec (a JPEG thumbnail carries its own APP1 Exif) cannot be
 * stripped without decoding it, and is refused. Inside meta, a box an image is not read from
 * becomes a `free` box of zeros. At the top, `free` and `skip` boxes are put out as zeros, and
 * any other box (a Samsung motion photo's video, a track, a `uuid` box) after the meta box
 * becomes a `free` box of zeros, its size kept. Metadata stored before the meta box, such a box
 * before it, or metadata stored by reference to another item (construction method 2) cannot be
 * emptied in one pass and is refused when stripping.
 */
export function* isobmff(type: ImageMimeType, context: GrammarContext): Grammar {
  let first = true;
  let meta: HeifMeta | undefined;
  let ranges: Range[] = [];
  /** Descriptors in mdat, after the meta box: read as they stream past. */
  let descriptors: Descriptor[] = [];
  /** Where item data may lie: the bodies of the mdat boxes (to the end for a size of 0). */
  const mdats: Range[] = [];
  for (;;) {
    let head = yield { kind: first ? 'read' : 'readOrEnd', bytes: 8 };
    if (head === undefined) break;
    if (boxHeaderBytes(head, 0) > head.length) {
      head = Buffer.concat([head, (yield { kind: 'read', bytes: 8 })!]);
    }
    const { type: boxType, size, headerBytes } = readBoxHeader(head, 0);
    if (first && boxType !== 'ftyp') throw undecodable('the file does not start with an ftyp box');
    first = false;
    const at = context.position();
    const body = size === undefined ? undefined : size - headerBytes;
    if (boxType === 'mdat') {
      mdats.push({ start: at, end: body === undefined ? Number.POSITIVE_INFINITY : at + body });
    }
    if (context.stripping && boxType !== 'mdat' && boxType !== 'ftyp' && boxType !== 'meta') {
      // `free` and `skip` hold nothing by definition, so whatever they hold goes. Anything
      // else (a motion photo's video, a track, a uuid box) may carry its own location: once
      // the meta box has said where the items lie, it becomes a free box of zeros, its size
      // kept. Before it, nothing can tell whether it holds an item's data. No item's data may
      // lie outside mdat, which the end of the walk checks for every box.
      const free = boxType === 'free' || boxType === 'skip';
      if ((!free && meta === undefined) || body === undefined) {
        throw undecodable(`a ${boxType} box cannot be stripped in one pass where it lies`);
      }
      if (meta !== undefined && overlapsItemData(meta, at, at + body)) {
        throw undecodable(`a ${boxType} box holds an item's data`);
      }
      yield {
        kind: 'emit',
        bytes: Buffer.concat([
          head.subarray(0, 4),
          Buffer.from(free ? boxType : 'free'),
          head.subarray(8),
        ]),
      };
      yield { kind: 'drop', bytes: body, zero: true };
      continue;
    }
    yield { kind: 'emit', bytes: head };
    if (body === undefined) {
      if (boxType === 'meta') throw undecodable('the meta box has no size');
      const last = [...ranges, ...descriptors.map((descriptor) => descriptor.range)].reduce(
        (end, range) => Math.max(end, range.end),
        at,
      );
      yield* passZeroing(at, last - at, ranges, descriptors);
      yield { kind: 'passToEnd' };
      break;
    }
    if (boxType !== 'meta') {
      yield* passZeroing(at, body, ranges, descriptors);
      continue;
    }
    if (meta !== undefined) throw undecodable('the file has two meta boxes');
    if (body > maxMetaBoxBytes) throw undecodable('the meta box is too large');
    const bytes = (yield { kind: 'read', bytes: body })!;
    meta = readMeta(bytes);
    descriptors = describePrimary(meta, type, context);
    if (descriptors.some((descriptor) => descriptor.range.start < at + body)) {
      throw undecodable('a descriptor stored before the meta box cannot be read in one pass');
    }
    if (context.stripping) {
      blankUnreadBoxes(meta);
      ranges = retireMetadataItems(meta, codecsOf(type));
      if (ranges.some((range) => range.start < at + body)) {
        throw undecodable('metadata stored before the meta box cannot be stripped in one pass');
      }
    }
    yield { kind: 'emit', bytes };
  }
  if (meta === undefined) throw undecodable('the file has no meta box');
  checkItemData(meta, mdats, context.position());
  for (const { parts, check } of descriptors) check(Buffer.concat(parts));
}

/**
 * Passes `bytes` from file offset `at`, putting out zeros for the parts inside `ranges`, and
 * copying the parts inside `descriptors` as they go by.
 */
function* passZeroing(
  at: number,
  bytes: number,
  ranges: readonly Range[],
  descriptors: readonly Descriptor[],
): Grammar {
  let position = at;
  const end = at + bytes;
  const inside = ranges
    .filter((range) => range.end > at && range.start < end)
    .sort((a, b) => a.start - b.start);
  for (const range of inside) {
    const start = Math.max(range.start, position);
    if (start > position) {
      yield { kind: 'pass', bytes: start - position, see: copier(position, start, descriptors) };
    }
    const stop = Math.min(range.end, end);
    if (stop > start) yield { kind: 'drop', bytes: stop - start, zero: true };
    position = Math.max(position, stop);
  }
  if (end > position) {
    yield { kind: 'pass', bytes: end - position, see: copier(position, end, descriptors) };
  }
}

/** What copies the bytes of `descriptors` out of the file's bytes from `start` to `end`. */
function copier(start: number, end: number, descriptors: readonly Descriptor[]): Seer | undefined {
  const inside = descriptors.filter(({ range }) => range.start < end && range.end > start);
  if (inside.length === 0) return undefined;
  let offset = start;
  return (part) => {
    for (const { range, parts } of inside) {
      const from = Math.max(range.start, offset);
      const to = Math.min(range.end, offset + part.length);
      // A copy: the part is the caller's chunk, reused once the walk has passed it.
      if (to > from) parts.push(Buffer.from(part.subarray(from - offset, to - offset)));
    }
    offset += part.length;
  };
}

/** Whether any item's data at file offsets overlaps `start` to `end` (length 0: to the end). */
function overlapsItemData(meta: HeifMeta, start: number, end: number): boolean {
  for (const location of meta.locations.values()) {
    if (location.method !== 0) continue;
    for (const { offset, length } of location.extents) {
      if (offset < end && (length === 0 || offset + length > start)) return true;
    }
  }
  return false;
}

/**
 * Every item's data at file offsets lies inside the file and inside one mdat box: a box that
 * a reader (exiftool, say) reads as something else cannot double as an item, and stripping
 * blanks every box but mdat.
 */
function checkItemData(meta: HeifMeta, mdats: readonly Range[], fileEnd: number): void {
  for (const location of meta.locations.values()) {
    if (location.method !== 0) continue;
    for (const { offset, length } of location.extents) {
      const end = length === 0 ? fileEnd : offset + length;
      if (end > fileEnd) throw undecodable("an item's data lies past the end of the file");
      if (!mdats.some((mdat) => offset >= mdat.start && end <= Math.min(mdat.end, fileEnd))) {
        throw undecodable("an item's data lies outside the mdat boxes");
      }
    }
  }
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
function describePrimary(
  meta: HeifMeta,
  type: ImageMimeType,
  context: GrammarContext,
): Descriptor[] {
  const { buffer } = meta;
  for (const box of meta.properties) {
    if (box.type !== 'ispe') continue;
    if (box.end - box.start < 12) throw undecodable('an ispe property is cut off');
    context.checkPixels(buffer.readUInt32BE(box.start + 4), buffer.readUInt32BE(box.start + 8));
  }
  const primary = meta.items.get(meta.primary)!;
  const descriptors = checkDerivations(meta, primary, type, context);
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
  return descriptors;
}

/**
 * Follows the `dimg` references from the primary image, then from every other derived image
 * (a thumbnail or an alpha image may be a grid too), each item once: a file of a thousand
 * overlays each naming the next twice is walked in a thousand steps, not 2^1000. A loop, a
 * grid whose tiles are derived images or differ in size, or a grid or overlay whose descriptor
 * does not give its `ispe` as its output size is refused. The primary image must be made of
 * images coded with one of `codecsOf(type)`.
 *
 * A decoder of a derived image decodes every coded image it is made of, and a grid's tile as
 * often as the grid names it: those pixels together are held to the budget, for each image a
 * decoder may be asked for (the primary, or another derived image). Each canvas (every `ispe`,
 * which a descriptor's output size must equal) is held to it on its own, as MAX_IMAGE_PIXELS
 * is the size of one image: counting the output with its tiles would refuse a 50 MP phone
 * photo at the default 100 MP limit.
 *
 * Answers the descriptors kept in mdat, to be checked once they have streamed past (the budget
 * needs none of them: it counts the references).
 */
function checkDerivations(
  meta: HeifMeta,
  primary: Item,
  type: ImageMimeType,
  context: GrammarContext,
): Descriptor[] {
  const descriptors: Descriptor[] = [];
  const dimg = meta.references.get('dimg');
  const state = new Map<number, 'open' | 'done'>();
  const codecs = codecsOf(type);
  const notCoded = (): Error =>
    undecodable(`the primary image of ${type} is not coded as ${codecs.join(' or ')}`);
  let decoded = 0;
  const spend = (pixels: number): void => {
    decoded += pixels;
    context.checkDecodedPixels(decoded, 'all the coded images a derived image is made of');
  };
  const visit = (item: Item, checkCodec: boolean): void => {
    const seen = state.get(item.id);
    if (seen === 'done') return;
    if (seen === 'open') throw undecodable('the derived images refer to each other in a loop');
    state.set(item.id, 'open');
    if (!derivedTypes.has(item.type)) {
      if (checkCodec && !codecs.includes(item.type)) throw notCoded();
      const { width, height } = extentsOf(meta, item);
      spend(width * height);
      state.set(item.id, 'done');
      return;
    }
    const inputs = dimg?.get(item.id) ?? [];
    if (inputs.length === 0) throw undecodable(`derived image ${item.id} has no inputs`);
    const output = extentsOf(meta, item);
    if (item.type === 'grid') {
      const tileCount = inputs.length;
      withDescriptor(meta, item, descriptors, (bytes) => {
        const grid = readGridDescriptor(bytes);
        if (grid.width !== output.width || grid.height !== output.height) {
          throw undecodable("a grid's output size differs from its ispe");
        }
        if (grid.rows * grid.columns !== tileCount) {
          throw undecodable('a grid has not as many tiles as its rows and columns');
        }
      });
      const tiles = inputs.map((id) => meta.items.get(id)!);
      if (tiles.some((tile) => derivedTypes.has(tile.type))) {
        throw undecodable("a grid's tiles must be coded images, not derived ones");
      }
      if (checkCodec && tiles.some((tile) => !codecs.includes(tile.type))) throw notCoded();
      const tile = extentsOf(meta, tiles[0]!);
      for (const other of new Set(tiles)) {
        const { width, height } = extentsOf(meta, other);
        if (width !== tile.width || height !== tile.height) {
          throw undecodable("a grid's tiles differ in size");
        }
        state.set(other.id, 'done');
      }
      // A decoder decodes every tile the grid names, as often as it names it.
      spend(inputs.length * tile.width * tile.height);
    } else {
      if (item.type === 'iovl') {
        const inputCount = inputs.length;
        withDescriptor(meta, item, descriptors, (bytes) => {
          const overlay = readOverlayDescriptor(bytes, inputCount);
          if (overlay.width !== output.width || overlay.height !== output.height) {
            throw undecodable("an overlay's output size differs from its ispe");
          }
        });
      }
      for (const id of inputs) visit(meta.items.get(id)!, checkCodec);
    }
    state.set(item.id, 'done');
  };
  visit(primary, true);
  for (const item of meta.items.values()) {
    if (derivedTypes.has(item.type) && !state.has(item.id)) {
      decoded = 0;
      visit(item, false);
    }
  }
  return descriptors;
}

/**
 * Runs `check` on a derived image's descriptor: now when it is kept in `idat` (as libheif and
 * Apple keep it), else once its bytes have streamed past in mdat (added to `descriptors`).
 */
function withDescriptor(
  meta: HeifMeta,
  item: Item,
  descriptors: Descriptor[],
  check: (bytes: Buffer) => void,
): void {
  const location = meta.locations.get(item.id);
  const extent = location?.extents[0];
  if (location === undefined || location.extents.length !== 1 || extent === undefined) {
    throw undecodable(`the descriptor of ${item.type} item ${item.id} is not in one piece`);
  }
  if (location.method === 1) {
    const start = meta.idat!.start + extent.offset;
    const end = extent.length === 0 ? meta.idat!.end : start + extent.length;
    check(meta.buffer.subarray(start, end));
    return;
  }
  if (location.method !== 0 || extent.length === 0 || extent.length > maxDescriptorBytes) {
    throw undecodable(`the descriptor of ${item.type} item ${item.id} cannot be read`);
  }
  const range = { start: extent.offset, end: extent.offset + extent.length };
  descriptors.push({ range, check, parts: [] });
}

/** A grid's rows, columns and output size (ISO/IEC 23008-12, 6.6.2.3). */
function readGridDescriptor(bytes: Buffer): {
  rows: number;
  columns: number;
  width: number;
  height: number;
} {
  if (bytes.length < 8) throw undecodable('a grid descriptor is cut off');
  if (bytes[0] !== 0) throw undecodable('a grid descriptor has an unknown version');
  const wide = (bytes[1]! & 1) === 1;
  if (wide && bytes.length < 12) throw undecodable('a grid descriptor is cut off');
  return {
    rows: bytes[2]! + 1,
    columns: bytes[3]! + 1,
    width: wide ? bytes.readUInt32BE(4) : bytes.readUInt16BE(4),
    height: wide ? bytes.readUInt32BE(8) : bytes.readUInt16BE(6),
  };
}

/** An overlay's output size (ISO/IEC 23008-12, 6.6.2.4), with an offset for every input. */
function readOverlayDescriptor(bytes: Buffer, inputs: number): { width: number; height: number } {
  if (bytes.length < 2) throw undecodable('an overlay descriptor is cut off');
  if (bytes[0] !== 0) throw undecodable('an overlay descriptor has an unknown version');
  const field = (bytes[1]! & 1) === 1 ? 4 : 2;
  // Version and flags, a fill value for four channels, the output size, an offset per input.
  if (bytes.length < 2 + 8 + 2 * field + inputs * 2 * field) {
    throw undecodable('an overlay descriptor is cut off');
  }
  const read = (at: number): number =>
    field === 4 ? bytes.readUInt32BE(at) : bytes.readUInt16BE(at);
  return { width: read(10), height: read(10 + field) };
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

/** Turns every child of meta that an image is not read from into a `free` box of zeros. */
function blankUnreadBoxes(meta: HeifMeta): void {
  for (const box of meta.boxes) {
    if (metaBoxesKept.has(box.type)) continue;
    meta.buffer.write('free', box.at + 4, 'latin1');
    meta.buffer.fill(0, box.start, box.end);
  }
}

/**
 * Retires every item that is no image (Exif, XMP, any other file): an unknown type and the
 * hidden flag, or before infe version 2 an empty name and content type; zeroes its payload
 * where it is kept in `idat`, and answers the file ranges of its payloads. An image coded with
 * another codec than `codecs` is refused: its metadata is inside its coded data.
 */
function retireMetadataItems(meta: HeifMeta, codecs: readonly string[]): Range[] {
  const { buffer } = meta;
  const ranges: Range[] = [];
  for (const item of meta.items.values()) {
    if (derivedTypes.has(item.type) || codecs.includes(item.type)) continue;
    if (propertiesOf(meta, item.id, 'ispe').length > 0) {
      throw undecodable(`an image coded as ${item.type || 'a file'} cannot be stripped`);
    }
    if (item.version >= 2) {
      buffer.write(retiredItemType, item.typeAt, 'latin1');
      buffer[item.infe.start + 3]! |= 0x01; // hidden
    } else {
      buffer.fill(0, item.nameAt, item.infe.end);
    }
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
