import { undecodable, type StripWalk } from './driver.js';

/** The walker reads a meta box whole up to this size; so does this stripper. */
const maxMetaBoxBytes = 1024 * 1024;

/** What a metadata item becomes: a type no reader knows, so none looks inside. */
const retiredItemType = 'zero';

interface Range {
  start: number;
  end: number;
}

/**
 * AVIF (ISOBMFF): Exif items and XMP items (`mime`, application/rdf+xml) are emptied where
 * they lie, and nothing moves. The meta box (read whole, as the walker does) says through
 * `iloc` at which file offsets their payloads sit in `mdat`, which comes after it; those bytes
 * are put out as zeros as they stream past, and the items' `infe` entries get an unknown type
 * (and the hidden flag), so that no reader takes the zeros for EXIF or XMP.
 *
 * Removing the items from iinf/iloc/iref and padding meta with a `free` box would leave no
 * trace of them, but needs three tables rewritten; every offset and size here stays as it
 * was, so the image data and its iloc entries cannot go wrong. AVIF turns by `irot`/`imir`,
 * never by EXIF Orientation, so no EXIF is written back. Items stored before the meta box, or
 * by reference to another item (construction method 2), cannot be emptied in one pass and
 * are refused.
 */
export function* stripIsobmff(): StripWalk {
  let at = 0;
  let first = true;
  let ranges: Range[] = [];
  for (;;) {
    const header = yield { kind: first ? 'read' : 'readOrEnd', bytes: 8 };
    if (header === undefined) break;
    const type = header.toString('latin1', 4, 8);
    if (first && type !== 'ftyp') throw undecodable('the file does not start with an ftyp box');
    first = false;
    let size = header.readUInt32BE(0);
    let head = header;
    if (size === 1) {
      const large = (yield { kind: 'read', bytes: 8 })!;
      if (large.readBigUInt64BE(0) > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw undecodable(`box ${type} is too large`);
      }
      size = Number(large.readBigUInt64BE(0));
      head = Buffer.concat([header, large]);
    }
    yield { kind: 'emit', bytes: head };
    at += head.length;
    if (size === 0) {
      if (type === 'meta') throw undecodable('the meta box has no size');
      const last = ranges.reduce((end, range) => Math.max(end, range.end), at);
      yield* passZeroing(at, last - at, ranges);
      yield { kind: 'passToEnd' };
      return;
    }
    if (size < head.length) throw undecodable(`box ${type} has an impossible size`);
    const body = size - head.length;
    if (type === 'meta' && ranges.length === 0) {
      if (body > maxMetaBoxBytes) throw undecodable('the meta box is too large');
      const meta = (yield { kind: 'read', bytes: body })!;
      ranges = retireMetadataItems(meta);
      if (ranges.some((range) => range.start < at + body)) {
        throw undecodable('metadata stored before the meta box cannot be stripped in one pass');
      }
      yield { kind: 'emit', bytes: meta };
    } else {
      yield* passZeroing(at, body, ranges);
    }
    at += body;
  }
}

/** Passes `bytes` from file offset `at`, putting out zeros for the parts inside `ranges`. */
function* passZeroing(at: number, bytes: number, ranges: readonly Range[]): StripWalk {
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

interface Box {
  readonly type: string;
  /** Offset of the body in the meta buffer, and its end. */
  readonly start: number;
  readonly end: number;
}

function children(buffer: Buffer, start: number, end: number): Box[] {
  const found: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    const size = buffer.readUInt32BE(at);
    const type = buffer.toString('latin1', at + 4, at + 8);
    const boxEnd = size === 0 ? end : at + size;
    if (size !== 0 && size < 8) throw undecodable(`box ${type} has an impossible size`);
    if (boxEnd > end) throw undecodable(`box ${type} overruns its parent`);
    found.push({ type, start: at + 8, end: boxEnd });
    at = boxEnd;
  }
  return found;
}

/**
 * Gives the meta box's Exif and XMP items an unknown type, zeroes their payloads kept in
 * `idat`, and answers the file ranges of their payloads in `mdat`.
 */
function retireMetadataItems(meta: Buffer): Range[] {
  const boxes = children(meta, 4, meta.length); // meta is a FullBox
  const iinf = boxes.find((box) => box.type === 'iinf');
  const iloc = boxes.find((box) => box.type === 'iloc');
  const idat = boxes.find((box) => box.type === 'idat');
  if (iinf === undefined) return [];
  const iinfVersion = meta[iinf.start]!;
  const entriesAt = iinf.start + 4 + (iinfVersion === 0 ? 2 : 4);
  const retired = new Set<number>();
  for (const infe of children(meta, entriesAt, iinf.end)) {
    if (infe.type !== 'infe' || infe.end - infe.start < 12) continue;
    const version = meta[infe.start]!;
    if (version < 2) continue;
    const id =
      version === 2 ? meta.readUInt16BE(infe.start + 4) : meta.readUInt32BE(infe.start + 4);
    const typeAt = infe.start + (version === 2 ? 8 : 10);
    if (typeAt + 4 > infe.end) throw undecodable('an item info entry is cut off');
    const itemType = meta.toString('latin1', typeAt, typeAt + 4);
    let isMetadata = itemType === 'Exif';
    if (itemType === 'mime') {
      const nameEnd = meta.indexOf(0, typeAt + 4);
      const contentType =
        nameEnd < 0 || nameEnd >= infe.end
          ? ''
          : meta.toString(
              'latin1',
              nameEnd + 1,
              Math.max(nameEnd + 1, meta.indexOf(0, nameEnd + 1)),
            );
      isMetadata = contentType.startsWith('application/rdf+xml');
    }
    if (!isMetadata) continue;
    retired.add(id);
    meta.write(retiredItemType, typeAt, 'latin1');
    meta[infe.start + 3]! |= 0x01; // hidden
  }
  if (retired.size === 0 || iloc === undefined) return [];
  return metadataRanges(meta, iloc, idat, retired);
}

function metadataRanges(
  meta: Buffer,
  iloc: Box,
  idat: Box | undefined,
  retired: ReadonlySet<number>,
): Range[] {
  let at = iloc.start;
  const need = (bytes: number): void => {
    if (at + bytes > iloc.end) throw undecodable('the iloc box is cut off');
  };
  const read = (bytes: number): number => {
    need(bytes);
    const value =
      bytes === 0
        ? 0
        : bytes === 2
          ? meta.readUInt16BE(at)
          : bytes === 4
            ? meta.readUInt32BE(at)
            : bytes === 8
              ? Number(meta.readBigUInt64BE(at))
              : Number.NaN;
    if (Number.isNaN(value)) throw undecodable('the iloc box has an impossible field size');
    at += bytes;
    return value;
  };
  const version = read(4) >>> 24;
  const sizes = read(2);
  const offsetSize = sizes >> 12;
  const lengthSize = (sizes >> 8) & 0x0f;
  const baseOffsetSize = (sizes >> 4) & 0x0f;
  const indexSize = version >= 1 ? sizes & 0x0f : 0;
  const count = read(version < 2 ? 2 : 4);
  const ranges: Range[] = [];
  for (let item = 0; item < count; item += 1) {
    const id = read(version < 2 ? 2 : 4);
    const method = version >= 1 ? read(2) & 0x0f : 0;
    read(2); // data_reference_index
    const base = read(baseOffsetSize);
    const extents = read(2);
    for (let extent = 0; extent < extents; extent += 1) {
      read(indexSize);
      const offset = read(offsetSize);
      const length = read(lengthSize);
      if (!retired.has(id)) continue;
      if (length === 0) throw undecodable('a metadata item has no length');
      const start = base + offset;
      if (method === 0) {
        ranges.push({ start, end: start + length });
      } else if (method === 1 && idat !== undefined && idat.start + start + length <= idat.end) {
        meta.fill(0, idat.start + start, idat.start + start + length);
      } else {
        throw undecodable('a metadata item is stored where one pass cannot empty it');
      }
    }
  }
  return ranges;
}
