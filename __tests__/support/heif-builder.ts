/**
 * Builds small HEIF files box by box, for the hostile and odd cases no encoder writes. The
 * coded data is whatever the case needs (the grammar never decodes it); every offset and
 * size is computed, so each file is well formed but for the one thing a test makes wrong.
 */

export const u8 = (value: number): Buffer => Buffer.of(value);
export const u16 = (value: number): Buffer => {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
};
export const u32 = (value: number): Buffer => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
};
export const text = (value: string): Buffer => Buffer.from(value, 'latin1');

export function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(body.length + 8), text(type), body]);
}

export function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  return box(type, u8(version), u8(flags >> 16), u16(flags & 0xffff), ...parts);
}

export const ispe = (width: number, height: number): Buffer =>
  fullBox('ispe', 0, 0, u32(width), u32(height));

/** An infe of version 2: id, protection index, type, an empty name, then `extra`. */
export const infe = (id: number, type: string, extra: Buffer = Buffer.alloc(0)): Buffer =>
  fullBox('infe', 2, 0, u16(id), u16(0), text(type), text('\0'), extra);

/** A grid descriptor with 16-bit output fields (`wide`: 32-bit). */
export function gridDescriptor(
  rows: number,
  columns: number,
  width: number,
  height: number,
  wide = false,
): Buffer {
  const size = wide ? [u32(width), u32(height)] : [u16(width), u16(height)];
  return Buffer.concat([u8(0), u8(wide ? 1 : 0), u8(rows - 1), u8(columns - 1), ...size]);
}

/** An overlay descriptor with 16-bit fields: no fill, the output size, every input at 0,0. */
export function overlayDescriptor(inputs: number, width: number, height: number): Buffer {
  return Buffer.concat([
    u8(0),
    u8(0),
    Buffer.alloc(8),
    u16(width),
    u16(height),
    Buffer.alloc(inputs * 4),
  ]);
}

export interface HeifItem {
  readonly id: number;
  readonly type: string;
  /** The whole infe box, when not `infe(id, type)`. */
  readonly infe?: Buffer;
  readonly properties?: readonly Buffer[];
  /** Extents as [offset, length]: in mdat's body (method 0) or in idat (method 1). */
  readonly extents?: readonly (readonly [number, number])[];
  readonly method?: 0 | 1;
}

export interface HeifFile {
  readonly brands?: readonly string[];
  readonly primary: number;
  readonly items: readonly HeifItem[];
  /** References as [type, from, to]. */
  readonly references?: readonly (readonly [string, number, readonly number[]])[];
  /** More children of meta, after the usual ones. */
  readonly metaExtra?: readonly Buffer[];
  readonly idat?: Buffer;
  readonly mdat?: Buffer;
  /** Top-level boxes after mdat. */
  readonly after?: readonly Buffer[];
}

/** ftyp, meta (hdlr, pitm, iinf, iloc, iref, iprp, then `metaExtra` and idat), mdat, `after`. */
export function heif(file: HeifFile): Buffer {
  const { brands = ['heic', 'mif1', 'heic'], items, references = [], metaExtra = [] } = file;
  const ftyp = box('ftyp', text(brands[0]!), u32(0), ...brands.slice(1).map(text));
  const properties: Buffer[] = [];
  const indexOf = (property: Buffer): number => {
    let index = properties.findIndex((known) => known.equals(property));
    if (index < 0) index = properties.push(property) - 1;
    return index + 1;
  };
  const entries = items
    .filter((item) => (item.properties ?? []).length > 0)
    .map((item) =>
      Buffer.concat([
        u16(item.id),
        u8(item.properties!.length),
        ...item.properties!.map((property) => u8(indexOf(property))),
      ]),
    );
  const iprp = box(
    'iprp',
    box('ipco', ...properties),
    fullBox('ipma', 0, 0, u32(entries.length), ...entries),
  );
  const iinf = fullBox(
    'iinf',
    0,
    0,
    u16(items.length),
    ...items.map((item) => item.infe ?? infe(item.id, item.type)),
  );
  const iref = fullBox(
    'iref',
    0,
    0,
    ...references.map(([type, from, to]) => box(type, u16(from), u16(to.length), ...to.map(u16))),
  );
  const meta = (mdatStart: number): Buffer => {
    const located = items.filter((item) => item.extents !== undefined);
    const locations = located.map((item) =>
      Buffer.concat([
        u16(item.id),
        u16(item.method ?? 0),
        u16(0),
        u16(item.extents!.length),
        ...item.extents!.map(([offset, length]) =>
          Buffer.concat([u32((item.method ?? 0) === 0 ? mdatStart + offset : offset), u32(length)]),
        ),
      ]),
    );
    const iloc = fullBox('iloc', 1, 0, u16(0x4400), u16(locations.length), ...locations);
    const hdlr = fullBox('hdlr', 0, 0, u32(0), text('pict'), Buffer.alloc(12), text('\0'));
    const idat = file.idat === undefined ? [] : [box('idat', file.idat)];
    return fullBox(
      'meta',
      0,
      0,
      hdlr,
      fullBox('pitm', 0, 0, u16(file.primary)),
      iinf,
      iloc,
      iref,
      iprp,
      ...metaExtra,
      ...idat,
    );
  };
  const mdatStart = ftyp.length + meta(0).length + 8;
  const mdat = box('mdat', file.mdat ?? Buffer.alloc(16));
  return Buffer.concat([ftyp, meta(mdatStart), mdat, ...(file.after ?? [])]);
}
