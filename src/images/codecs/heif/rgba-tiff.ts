/**
 * Decoded RGBA pixels as an uncompressed TIFF, so that sharp reads them as it reads any file
 * (no second decode: libvips only walks the header and maps the strip) together with the ICC
 * profile, which raw input cannot carry and without which a Display P3 photo would be taken
 * for sRGB. The header goes in front of the pixels in the same buffer: the decoder writes the
 * pixels at `tiffHeaderBytes(icc)` of a buffer it allocates once, and nothing is copied.
 */

const entrySize = 12;
const typeShort = 3;
const typeLong = 4;
const typeUndefined = 7;

function entryCount(icc: Buffer | undefined): number {
  return icc === undefined ? 11 : 12;
}

/** Header, one IFD, the four BitsPerSample values and the ICC profile (word aligned). */
export function tiffHeaderBytes(icc: Buffer | undefined): number {
  const iccBytes = icc === undefined ? 0 : icc.length + (icc.length % 2);
  return 8 + 2 + entryCount(icc) * entrySize + 4 + 8 + iccBytes;
}

/**
 * Writes the header of a `width` x `height` RGBA (8 bits, unassociated alpha) TIFF into the
 * first `tiffHeaderBytes(icc)` bytes of `file`, whose pixels follow them.
 */
export function writeRgbaTiffHeader(
  file: Buffer,
  width: number,
  height: number,
  icc: Buffer | undefined,
): void {
  const headerBytes = tiffHeaderBytes(icc);
  const pixelBytes = width * height * 4;
  if (pixelBytes > 0xffffffff)
    throw new RangeError('an image this large does not fit one TIFF strip');
  if (file.length !== headerBytes + pixelBytes) {
    throw new RangeError(
      `the TIFF buffer holds ${file.length} bytes, not ${headerBytes + pixelBytes}`,
    );
  }
  file.write('II', 0, 'latin1');
  file.writeUInt16LE(42, 2);
  file.writeUInt32LE(8, 4);
  const count = entryCount(icc);
  const ifd = 8;
  const bitsAt = ifd + 2 + count * entrySize + 4;
  const iccAt = bitsAt + 8;
  file.writeUInt16LE(count, ifd);
  let at = ifd + 2;
  const entry = (tag: number, type: number, values: number, value: number): void => {
    file.writeUInt16LE(tag, at);
    file.writeUInt16LE(type, at + 2);
    file.writeUInt32LE(values, at + 4);
    // A SHORT held in the entry sits in its first two bytes (little-endian: the same as a LONG).
    file.writeUInt32LE(value, at + 8);
    at += entrySize;
  };
  entry(256, typeLong, 1, width); // ImageWidth
  entry(257, typeLong, 1, height); // ImageLength
  entry(258, typeShort, 4, bitsAt); // BitsPerSample: four values, stored apart
  entry(259, typeShort, 1, 1); // Compression: none
  entry(262, typeShort, 1, 2); // PhotometricInterpretation: RGB
  entry(273, typeLong, 1, headerBytes); // StripOffsets
  entry(277, typeShort, 1, 4); // SamplesPerPixel
  entry(278, typeLong, 1, height); // RowsPerStrip: one strip
  entry(279, typeLong, 1, pixelBytes); // StripByteCounts
  entry(284, typeShort, 1, 1); // PlanarConfiguration: interleaved
  entry(338, typeShort, 1, 2); // ExtraSamples: unassociated alpha
  if (icc !== undefined) entry(34675, typeUndefined, icc.length, iccAt); // ICC profile
  file.writeUInt32LE(0, at); // no next IFD
  for (let sample = 0; sample < 4; sample += 1) file.writeUInt16LE(8, bitsAt + sample * 2);
  if (icc !== undefined) {
    icc.copy(file, iccAt);
    if (icc.length % 2 === 1) file[iccAt + icc.length] = 0;
  }
}
