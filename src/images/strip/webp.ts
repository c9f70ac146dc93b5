import { exifOrientation, exifPrefixBytes, minimalExif, minimalExifBytes } from '../exif.js';
import { undecodable, type StripWalk } from './driver.js';

/** The VP8X flag bit for XMP (WebP container specification); EXIF's is 0x08. */
const xmpFlag = 0x04;

/**
 * WebP: every chunk keeps its place and its size, so the RIFF size at the start of the file
 * stays right and the image can stream; nothing is held but a chunk header and the start of
 * an EXIF chunk.
 *
 * The sizes are why: the RIFF size comes first, but EXIF and XMP come last (VP8X, ICCP, ANIM,
 * image, EXIF, XMP), so a writer that shrank the file would have to hold the whole image before
 * it could write the first twelve bytes. Instead a dropped chunk becomes a `JUNK` chunk of the
 * same length, all zeros: the container specification has readers ignore chunks they do not
 * know, RIFF has long used JUNK for padding, and nothing of the metadata is left in it. The cost
 * is the metadata's size in zeros.
 *
 * An EXIF chunk whose Orientation is not 1 becomes an EXIF chunk of the same length holding an
 * EXIF block with only the Orientation, padded with zeros (TIFF readers follow offsets and
 * never read the tail). The VP8X flags have already passed when the EXIF chunk arrives, so its
 * EXIF bit stays as it was; a set bit with no EXIF chunk is harmless (libwebp's demuxer only
 * uses the bit to decide whether to keep an EXIF chunk it meets). The XMP bit is cleared, as
 * every XMP chunk goes.
 */
export function* stripWebp(): StripWalk {
  const header = (yield { kind: 'read', bytes: 12 })!;
  if (header.toString('latin1', 0, 4) !== 'RIFF' || header.toString('latin1', 8, 12) !== 'WEBP') {
    throw undecodable('the WebP RIFF header is wrong');
  }
  yield { kind: 'emit', bytes: header };
  let remaining = header.readUInt32LE(4) - 4;
  if (remaining < 8) throw undecodable('the WebP RIFF size is too small');
  let sawExif = false;
  while (remaining > 0) {
    if (remaining < 8) throw undecodable('a WebP chunk overruns the RIFF size');
    const chunk = (yield { kind: 'read', bytes: 8 })!;
    const fourcc = chunk.toString('latin1', 0, 4);
    const size = chunk.readUInt32LE(4);
    const padded = size + (size & 1);
    remaining -= 8;
    if (padded > remaining) throw undecodable(`WebP chunk ${fourcc} overruns the RIFF size`);
    remaining -= padded;
    if (fourcc === 'VP8X' && size >= 1) {
      const flags = (yield { kind: 'read', bytes: 1 })!;
      flags[0]! &= ~xmpFlag;
      yield { kind: 'emit', bytes: Buffer.concat([chunk, flags]) };
      yield { kind: 'pass', bytes: padded - 1 };
    } else if (fourcc === 'EXIF' && !sawExif && size >= minimalExifBytes) {
      sawExif = true;
      const prefix = Math.min(size, exifPrefixBytes);
      const exif = (yield { kind: 'read', bytes: prefix })!;
      // Some writers keep JPEG's "Exif\0\0" prefix in front of the TIFF header.
      const tiff = exif.toString('latin1', 0, 6) === 'Exif\0\0' ? exif.subarray(6) : exif;
      const orientation = exifOrientation(tiff);
      if (orientation === 1) chunk.write('JUNK', 0, 'latin1');
      const replacement = Buffer.alloc(prefix);
      if (orientation !== 1) minimalExif(orientation).copy(replacement);
      yield { kind: 'emit', bytes: Buffer.concat([chunk, replacement]) };
      yield { kind: 'drop', bytes: padded - prefix, zero: true };
    } else if (fourcc === 'EXIF' || fourcc === 'XMP ') {
      chunk.write('JUNK', 0, 'latin1');
      yield { kind: 'emit', bytes: chunk };
      yield { kind: 'drop', bytes: padded, zero: true };
    } else {
      yield { kind: 'emit', bytes: chunk };
      yield { kind: 'pass', bytes: padded };
    }
  }
  yield { kind: 'end' };
}
