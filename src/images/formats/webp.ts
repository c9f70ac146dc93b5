import { exifOrientation, exifPrefixBytes, minimalExif, minimalExifBytes } from '../exif.js';
import { undecodable, type Grammar, type GrammarContext } from './grammar.js';

/** The VP8X flag bit for XMP (WebP container specification); EXIF's is 0x08. */
const xmpFlag = 0x04;

/**
 * WebP: the RIFF header and every chunk within the RIFF size, at least one image (VP8, VP8L or
 * an animation frame) with a valid frame header. The canvas (VP8X) is what is displayed;
 * without one, the single frame's size. The first EXIF chunk gives the orientation.
 *
 * Stripped: every chunk keeps its place and its size, so the RIFF size at the start of the
 * file stays right and the image can stream; nothing is held but a chunk header and the start
 * of an EXIF chunk. The sizes are why: the RIFF size comes first, but EXIF and XMP come last
 * (VP8X, ICCP, ANIM, image, EXIF, XMP), so a writer that shrank the file would have to hold
 * the whole image before it could write the first twelve bytes. Instead a dropped chunk becomes
 * a `JUNK` chunk of the same length, all zeros: the container specification has readers ignore
 * chunks they do not know, RIFF has long used JUNK for padding, and nothing of the metadata is
 * left in it. The cost is the metadata's size in zeros.
 *
 * An EXIF chunk whose Orientation is not 1 becomes an EXIF chunk of the same length holding an
 * EXIF block with only the Orientation, padded with zeros (TIFF readers follow offsets and
 * never read the tail). The VP8X flags have already passed when the EXIF chunk arrives, so its
 * EXIF bit stays as it was; a set bit with no EXIF chunk is harmless (libwebp's demuxer only
 * uses the bit to decide whether to keep an EXIF chunk it meets). The XMP bit is cleared, as
 * every XMP chunk goes.
 */
export function* webp({ checkPixels, checkFrames, seen }: GrammarContext): Grammar {
  const header = (yield { kind: 'read', bytes: 12 })!;
  if (header.toString('latin1', 0, 4) !== 'RIFF' || header.toString('latin1', 8, 12) !== 'WEBP') {
    throw undecodable('the WebP RIFF header is wrong');
  }
  yield { kind: 'emit', bytes: header };
  let remaining = header.readUInt32LE(4) - 4;
  if (remaining < 8) throw undecodable('the WebP RIFF size is too small');
  let sawImage = false;
  let sawExif = false;
  const canvas = (width: number, height: number): void => {
    checkPixels(width, height);
    if (seen.width !== undefined) return;
    seen.width = width;
    seen.height = height;
  };
  while (remaining > 0) {
    if (remaining < 8) throw undecodable('a WebP chunk overruns the RIFF size');
    const chunk = (yield { kind: 'read', bytes: 8 })!;
    const fourcc = chunk.toString('latin1', 0, 4);
    const size = chunk.readUInt32LE(4);
    const padded = size + (size & 1);
    remaining -= 8;
    if (padded > remaining) throw undecodable(`WebP chunk ${fourcc} overruns the RIFF size`);
    remaining -= padded;
    if (fourcc === 'VP8X' || fourcc === 'VP8 ' || fourcc === 'VP8L') {
      const need = fourcc === 'VP8L' ? 5 : 10;
      if (size < need) throw undecodable(`WebP chunk ${fourcc} is too short`);
      const head = (yield { kind: 'read', bytes: need })!;
      if (fourcc === 'VP8X') {
        canvas(head.readUIntLE(4, 3) + 1, head.readUIntLE(7, 3) + 1);
        head[0]! &= ~xmpFlag;
      } else if (fourcc === 'VP8 ') {
        if (head[3] !== 0x9d || head[4] !== 0x01 || head[5] !== 0x2a) {
          throw undecodable('the VP8 frame start code is wrong');
        }
        canvas(head.readUInt16LE(6) & 0x3fff, head.readUInt16LE(8) & 0x3fff);
        sawImage = true;
      } else {
        if (head[0] !== 0x2f) throw undecodable('the VP8L signature is wrong');
        const bits = head.readUInt32LE(1);
        canvas((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
        sawImage = true;
      }
      yield { kind: 'emit', bytes: Buffer.concat([chunk, head]) };
      yield { kind: 'pass', bytes: padded - need };
    } else if (fourcc === 'EXIF' && !sawExif && size >= minimalExifBytes) {
      sawExif = true;
      const prefix = Math.min(size, exifPrefixBytes);
      const exif = (yield { kind: 'read', bytes: prefix })!;
      // Some writers keep JPEG's "Exif\0\0" prefix in front of the TIFF header.
      const tiff = exif.toString('latin1', 0, 6) === 'Exif\0\0' ? exif.subarray(6) : exif;
      const orientation = exifOrientation(tiff);
      seen.orientation = orientation;
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
      if (fourcc === 'ANMF') {
        sawImage = true;
        seen.frames = (seen.frames ?? 0) + 1;
        checkFrames(seen.frames);
      }
      yield { kind: 'emit', bytes: chunk };
      yield { kind: 'pass', bytes: padded };
    }
  }
  if (!sawImage) throw undecodable('the WebP holds no image');
  yield { kind: 'end' };
}
