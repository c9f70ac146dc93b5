/**
 * EXIF as the walker and the strippers need it: the orientation an image carries, and a
 * replacement that carries nothing else. Browsers turn an image by its EXIF Orientation, so
 * dropping the tag would show a phone's portrait photo on its side.
 */

/** The first bytes of an EXIF block kept to find its orientation; IFD0 comes first in it. */
export const exifPrefixBytes = 64 * 1024;

/**
 * The Orientation tag (0x0112) of IFD0 in EXIF data (a TIFF header and its IFDs), or 1 when it
 * is missing or cannot be read from the bytes given (a damaged block says nothing about the
 * pixels). The walker reads the displayed size by it and the strippers keep it: one reading.
 */
export function exifOrientation(tiff: Buffer): number {
  if (tiff.length < 8) return 1;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return 1;
  const little = order === 'II';
  const u16 = (at: number): number => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number): number => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const entries = u16(ifd);
  for (let index = 0; index < entries; index += 1) {
    const entry = ifd + 2 + index * 12;
    if (entry + 12 > tiff.length) return 1;
    if (u16(entry) !== 0x0112) continue;
    const value = u16(entry + 8);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** Size of the block `minimalExif` makes. */
export const minimalExifBytes = 26;

/**
 * A TIFF header and one IFD holding only Orientation (SHORT, inline), no next IFD: 26 bytes.
 * Big-endian, as the TIFF specification lists first; readers take either order.
 */
export function minimalExif(orientation: number): Buffer {
  const tiff = Buffer.alloc(minimalExifBytes);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0 right after the header
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x0112, 10); // Orientation
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14); // one value
  tiff.writeUInt16BE(orientation, 18); // inline, left-justified; bytes 20-21 stay zero
  tiff.writeUInt32BE(0, 22); // no IFD1
  return tiff;
}
