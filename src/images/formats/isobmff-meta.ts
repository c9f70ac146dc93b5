import { undecodable } from './grammar.js';

/**
 * The `meta` box of an ISOBMFF image (HEIF: AVIF and HEIC), read whole: its items (`iinf`),
 * where their data lies (`iloc`, `idat`), how they refer to each other (`iref`), their
 * properties (`iprp`: `ipco` and `ipma`) and which one is the primary image (`pitm`). Every
 * count is bounded as libheif bounds it by default (its `heif_security_limits`), so a meta
 * box cannot make a reader here or a decoder later walk tens of thousands of entries.
 */

/** At most this many items (libheif's `max_items`). */
export const maxItems = 1000;
/** At most this many properties, references boxes or associations (`max_children_per_box`). */
const maxProperties = 100;
/** At most this many extents per item (`max_iloc_extents_per_item`). */
const maxExtentsPerItem = 32;
/**
 * At most this many references in `iref`, all lists together: a full grid of 256 x 256 tiles
 * (the most its descriptor can name). libheif sets no limit; without one, a 1 MiB meta box
 * names half a million references.
 */
const maxReferences = 256 * 256;

export interface Box {
  readonly type: string;
  /** The offset of its header in the meta buffer. */
  readonly at: number;
  /** The body's offset in the meta buffer, and its end. */
  readonly start: number;
  readonly end: number;
}

export interface Item {
  readonly id: number;
  /**
   * The four-character item type (`hvc1`, `av01`, `grid`, `Exif`, `mime`, ...); empty for an
   * infe of version 0 or 1, which predates item types (such an item is a file: XMP, say).
   */
  readonly type: string;
  /** For a `mime` item or an infe of version 0 or 1, its content type. */
  readonly contentType: string;
  /** The item's infe entry in the meta buffer, and its version (to retire the item). */
  readonly infe: Box;
  readonly version: number;
  /** Offset of the item type (version 2 and later; -1 before), and of the item name. */
  readonly typeAt: number;
  readonly nameAt: number;
}

export interface Extent {
  readonly offset: number;
  readonly length: number;
}

export interface Location {
  /** 0: at file offsets; 1: in `idat`; 2: in another item. */
  readonly method: number;
  readonly extents: readonly Extent[];
}

export interface HeifMeta {
  readonly buffer: Buffer;
  /** The children of the meta box, in order. */
  readonly boxes: readonly Box[];
  readonly primary: number;
  readonly items: ReadonlyMap<number, Item>;
  readonly locations: ReadonlyMap<number, Location>;
  /** Reference type (`dimg`, `thmb`, `auxl`, `cdsc`, ...) to the items each item refers to. */
  readonly references: ReadonlyMap<string, ReadonlyMap<number, readonly number[]>>;
  /** The `ipco` children, in order (an association's index is one more than the position). */
  readonly properties: readonly Box[];
  /** Item to its properties, in the order they apply. */
  readonly associations: ReadonlyMap<number, readonly Box[]>;
  readonly idat: Box | undefined;
}

/** A box's header: its type, its whole size (undefined: to the end of its parent) and length. */
export interface BoxHeader {
  readonly type: string;
  readonly size: number | undefined;
  readonly headerBytes: number;
}

/** How many bytes the header starting at `at` has: 16 with a 64-bit `largesize`, else 8. */
export function boxHeaderBytes(buffer: Buffer, at: number): number {
  return buffer.readUInt32BE(at) === 1 ? 16 : 8;
}

/**
 * The one reader of an ISOBMFF box header, at the top of the file as inside `meta`: a 32-bit
 * size, the type, and with size 1 a 64-bit `largesize` (`buffer` must hold `boxHeaderBytes`).
 * Size 0 runs to the end of the parent; a largesize of 0 means nothing and is refused.
 */
export function readBoxHeader(buffer: Buffer, at: number): BoxHeader {
  const type = buffer.toString('latin1', at + 4, at + 8);
  const short = buffer.readUInt32BE(at);
  if (short === 0) return { type, size: undefined, headerBytes: 8 };
  if (short !== 1) {
    if (short < 8) throw undecodable(`box ${type} has an impossible size`);
    return { type, size: short, headerBytes: 8 };
  }
  const large = buffer.readBigUInt64BE(at + 8);
  if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw undecodable(`box ${type} is too large`);
  if (large < 16n) throw undecodable(`box ${type} has an impossible size`);
  return { type, size: Number(large), headerBytes: 16 };
}

/** The boxes between `start` and `end` of `buffer`, at most `max` of them (`what` they are). */
export function children(
  buffer: Buffer,
  start: number,
  end: number,
  max = Infinity,
  what = 'boxes in a box',
): Box[] {
  const found: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    if (at + boxHeaderBytes(buffer, at) > end) throw undecodable('a box header is cut off');
    const { type, size, headerBytes } = readBoxHeader(buffer, at);
    const boxEnd = size === undefined ? end : at + size;
    if (boxEnd > end) throw undecodable(`box ${type} overruns its parent`);
    found.push({ type, at, start: at + headerBytes, end: boxEnd });
    if (found.length > max) throw undecodable(`the file has more than ${max} ${what}`);
    at = boxEnd;
  }
  if (at !== end) throw undecodable('a box is cut off');
  return found;
}

/** A cursor over one box's body that refuses to read past its end. */
class Reader {
  constructor(
    private readonly buffer: Buffer,
    public at: number,
    private readonly end: number,
    private readonly name: string,
  ) {}

  uint(bytes: number): number {
    if (this.at + bytes > this.end) throw undecodable(`the ${this.name} box is cut off`);
    let value: number;
    if (bytes === 0) value = 0;
    else if (bytes === 1) value = this.buffer[this.at]!;
    else if (bytes === 2) value = this.buffer.readUInt16BE(this.at);
    else if (bytes === 4) value = this.buffer.readUInt32BE(this.at);
    else if (bytes === 8) {
      const big = this.buffer.readBigUInt64BE(this.at);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw undecodable(`the ${this.name} box holds an impossible offset`);
      }
      value = Number(big);
    } else throw undecodable(`the ${this.name} box has an impossible field size`);
    this.at += bytes;
    return value;
  }

  /** A NUL-terminated string (or the rest of the box when the NUL is missing). */
  string(): string {
    const nul = this.buffer.indexOf(0, this.at);
    const stop = nul < 0 || nul >= this.end ? this.end : nul;
    const text = this.buffer.toString('utf8', this.at, stop);
    this.at = Math.min(this.end, stop + 1);
    return text;
  }
}

export function readMeta(buffer: Buffer): HeifMeta {
  if (buffer.length < 4) throw undecodable('the meta box is cut off');
  const boxes = children(buffer, 4, buffer.length, maxProperties, 'boxes in meta'); // a FullBox
  const one = (type: string): Box | undefined => {
    const found = boxes.filter((box) => box.type === type);
    if (found.length > 1) throw undecodable(`the meta box holds two ${type} boxes`);
    return found[0];
  };
  const hdlr = one('hdlr');
  if (hdlr === undefined || hdlr.end - hdlr.start < 12) {
    throw undecodable('the meta box has no handler');
  }
  if (buffer.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'pict') {
    throw undecodable('the meta box does not describe a picture');
  }
  const pitm = one('pitm');
  if (pitm === undefined) throw undecodable('the file names no primary image (pitm)');
  const primaryId = readVersioned(buffer, pitm, 'pitm', (reader, version) =>
    reader.uint(version === 0 ? 2 : 4),
  );
  const items = readItems(buffer, one('iinf'));
  if (!items.has(primaryId)) throw undecodable('the primary image is not among the items');
  const idat = one('idat');
  const locations = readLocations(buffer, one('iloc'), idat);
  const references = readReferences(buffer, one('iref'), items);
  const iprp = one('iprp');
  let properties: Box[] = [];
  let associations = new Map<number, Box[]>();
  if (iprp !== undefined) {
    const inside = children(buffer, iprp.start, iprp.end, maxProperties, 'boxes in iprp');
    const ipco = inside.find((box) => box.type === 'ipco');
    if (ipco !== undefined) {
      properties = children(buffer, ipco.start, ipco.end, maxProperties, 'properties');
    }
    associations = readAssociations(
      buffer,
      inside.filter((box) => box.type === 'ipma'),
      properties,
    );
  }
  return {
    buffer,
    boxes,
    primary: primaryId,
    items,
    locations,
    references,
    properties,
    associations,
    idat,
  };
}

/** Reads a FullBox's version and flags, then its body with `read`. */
function readVersioned<T>(
  buffer: Buffer,
  box: Box,
  name: string,
  read: (reader: Reader, version: number, flags: number) => T,
): T {
  const reader = new Reader(buffer, box.start, box.end, name);
  const word = reader.uint(4);
  return read(reader, word >>> 24, word & 0xffffff);
}

function readItems(buffer: Buffer, iinf: Box | undefined): Map<number, Item> {
  const items = new Map<number, Item>();
  if (iinf === undefined) throw undecodable('the meta box lists no items (iinf)');
  const entriesAt = readVersioned(buffer, iinf, 'iinf', (reader, version) => {
    const count = reader.uint(version === 0 ? 2 : 4);
    if (count > maxItems) throw undecodable(`the file declares more than ${maxItems} items`);
    return reader.at;
  });
  for (const infe of children(buffer, entriesAt, iinf.end, maxItems, 'items')) {
    if (infe.type !== 'infe') continue;
    const item = readVersioned(buffer, infe, 'infe', (reader, version): Item => {
      const id = reader.uint(version <= 2 ? 2 : 4);
      reader.uint(2); // protection index
      if (version < 2) {
        // Item name, then content type: no item type, so nothing an image is made of.
        const nameAt = reader.at;
        reader.string();
        const contentType = reader.string();
        return { id, type: '', contentType, infe, version, typeAt: -1, nameAt };
      }
      const typeAt = reader.at;
      reader.uint(4);
      const type = buffer.toString('latin1', typeAt, typeAt + 4);
      const nameAt = reader.at;
      reader.string(); // item name
      const contentType = type === 'mime' ? reader.string() : '';
      return { id, type, contentType, infe, version, typeAt, nameAt };
    });
    if (items.has(item.id)) throw undecodable(`item ${item.id} is declared twice`);
    items.set(item.id, item);
  }
  return items;
}

function readLocations(
  buffer: Buffer,
  iloc: Box | undefined,
  idat: Box | undefined,
): Map<number, Location> {
  const locations = new Map<number, Location>();
  if (iloc === undefined) return locations;
  readVersioned(buffer, iloc, 'iloc', (reader, version) => {
    const sizes = reader.uint(2);
    const offsetSize = sizes >> 12;
    const lengthSize = (sizes >> 8) & 0x0f;
    const baseOffsetSize = (sizes >> 4) & 0x0f;
    const indexSize = version >= 1 ? sizes & 0x0f : 0;
    const count = reader.uint(version < 2 ? 2 : 4);
    if (count > maxItems) throw undecodable(`the file locates more than ${maxItems} items`);
    for (let item = 0; item < count; item += 1) {
      const id = reader.uint(version < 2 ? 2 : 4);
      const method = version >= 1 ? reader.uint(2) & 0x0f : 0;
      if (reader.uint(2) !== 0) throw undecodable('an item lies in another file');
      const base = reader.uint(baseOffsetSize);
      const count = reader.uint(2);
      if (count > maxExtentsPerItem) {
        throw undecodable(`an item has more than ${maxExtentsPerItem} extents`);
      }
      const extents: Extent[] = [];
      for (let extent = 0; extent < count; extent += 1) {
        reader.uint(indexSize);
        const offset = base + reader.uint(offsetSize);
        const length = reader.uint(lengthSize);
        if (method === 1 && (idat === undefined || idat.start + offset + length > idat.end)) {
          throw undecodable('an item lies past the end of its idat box');
        }
        if (method > 2) throw undecodable('an item has an unknown construction method');
        extents.push({ offset, length });
      }
      if (locations.has(id)) throw undecodable(`item ${id} is located twice`);
      locations.set(id, { method, extents });
    }
  });
  return locations;
}

function readReferences(
  buffer: Buffer,
  iref: Box | undefined,
  items: ReadonlyMap<number, Item>,
): Map<string, Map<number, number[]>> {
  const references = new Map<string, Map<number, number[]>>();
  if (iref === undefined) return references;
  const { version, at } = readVersioned(buffer, iref, 'iref', (reader, version) => ({
    version,
    at: reader.at,
  }));
  const idBytes = version === 0 ? 2 : 4;
  let total = 0;
  for (const box of children(buffer, at, iref.end, maxItems, 'reference lists')) {
    const reader = new Reader(buffer, box.start, box.end, 'iref');
    const from = reader.uint(idBytes);
    const count = reader.uint(2);
    total += count;
    if (total > maxReferences) {
      throw undecodable(`the file holds more than ${maxReferences} references`);
    }
    if (!items.has(from)) throw undecodable(`a reference names item ${from}, which does not exist`);
    let byItem = references.get(box.type);
    if (byItem === undefined) {
      byItem = new Map<number, number[]>();
      references.set(box.type, byItem);
    }
    let list = byItem.get(from);
    if (list === undefined) {
      list = [];
      byItem.set(from, list);
    }
    for (let index = 0; index < count; index += 1) {
      const id = reader.uint(idBytes);
      if (!items.has(id)) throw undecodable(`a reference names item ${id}, which does not exist`);
      if (id === from) throw undecodable(`item ${from} refers to itself`);
      list.push(id);
    }
  }
  return references;
}

function readAssociations(
  buffer: Buffer,
  ipmas: readonly Box[],
  properties: readonly Box[],
): Map<number, Box[]> {
  const associations = new Map<number, Box[]>();
  for (const ipma of ipmas) {
    readVersioned(buffer, ipma, 'ipma', (reader, version, flags) => {
      const count = reader.uint(4);
      if (count > maxItems) throw undecodable(`the file associates more than ${maxItems} items`);
      for (let entry = 0; entry < count; entry += 1) {
        const id = reader.uint(version < 1 ? 2 : 4);
        const associated = reader.uint(1);
        const list: Box[] = [];
        for (let index = 0; index < associated; index += 1) {
          const value = (flags & 1) === 1 ? reader.uint(2) & 0x7fff : reader.uint(1) & 0x7f;
          if (value === 0) continue;
          const property = properties[value - 1];
          if (property === undefined) throw undecodable('an item has a property that is missing');
          list.push(property);
        }
        if (associations.has(id)) throw undecodable(`item ${id} has two property lists`);
        associations.set(id, list);
      }
    });
  }
  return associations;
}
