import { exifOrientation, minimalExif } from '../exif.js';
import { undecodable, type Grammar, type GrammarContext } from './grammar.js';

/**
 * JPEG: markers from SOI to EOI, every segment's length, a frame header before any scan, and
 * the scan data up to the next marker that is not a restart or stuffing; nothing may follow
 * EOI. The frame header gives the size; the first APP1 Exif the orientation.
 *
 * Stripped: every segment up to the scan is small (at most 64 KiB), so an application segment
 * is read whole and then put out as it was or left out. Frame, table and scan headers pass
 * untouched, and the scan data passes as it arrives, byte for byte. Kept: APP0 (JFIF/JFXX),
 * APP2 ICC_PROFILE (colour), APP14 "Adobe" (tells the decoder whether the components are YCbCr
 * or RGB/CMYK). Replaced: the first APP1 Exif, by an Exif block holding only the Orientation
 * when it is not 1. Dropped: every other APP1 (XMP, extended XMP), APP2 MPF and FlashPix,
 * APP3-APP13 (APP13 holds Photoshop IRBs and IPTC), APP15, any other APP14, COM. MPF goes too:
 * the pictures it indexes (a phone's depth or gain map, each with its own EXIF) sit after EOI,
 * which is refused, so its offsets would point at nothing.
 */
export function* jpeg({ checkPixels, seen }: GrammarContext): Grammar {
  const soi = (yield { kind: 'read', bytes: 2 })!;
  if (soi[0] !== 0xff || soi[1] !== 0xd8) throw undecodable('the JPEG does not start with SOI');
  yield { kind: 'emit', bytes: soi };
  let sawFrame = false;
  let sawScan = false;
  let sawExif = false;
  for (;;) {
    let marker = (yield { kind: 'read', bytes: 2 })!;
    if (marker[0] !== 0xff) throw undecodable('a JPEG segment does not start with a marker');
    // Fill bytes (0xFF) may precede a marker; they carry nothing and are not put out.
    while (marker[1] === 0xff) marker = Buffer.of(0xff, (yield { kind: 'read', bytes: 1 })![0]!);
    const code = marker[1]!;
    if (code === 0xd9) {
      if (!sawFrame || !sawScan) throw undecodable('the JPEG ends before any image data');
      yield { kind: 'emit', bytes: marker };
      yield { kind: 'end' };
      return;
    }
    if (code === 0xd8 || code === 0x00 || (code >= 0xd0 && code <= 0xd7) || code === 0x01) {
      throw undecodable('the JPEG has a marker out of place');
    }
    const lengthBytes = (yield { kind: 'read', bytes: 2 })!;
    const length = lengthBytes.readUInt16BE(0);
    if (length < 2) throw undecodable('a JPEG segment has an impossible length');
    if ((code >= 0xe0 && code <= 0xef) || code === 0xfe) {
      const body = (yield { kind: 'read', bytes: length - 2 })!;
      const signature = (text: string): boolean => body.toString('latin1', 0, text.length) === text;
      if (code === 0xe1 && signature('Exif\0\0')) {
        // Only the first Exif block counts, for browsers as here.
        if (sawExif) continue;
        sawExif = true;
        const orientation = exifOrientation(body.subarray(6));
        seen.orientation = orientation;
        if (orientation !== 1) yield { kind: 'emit', bytes: exifSegment(orientation) };
        continue;
      }
      const keep =
        code === 0xe0 ||
        (code === 0xe2 && signature('ICC_PROFILE\0')) ||
        (code === 0xee && signature('Adobe'));
      if (keep) yield { kind: 'emit', bytes: Buffer.concat([marker, lengthBytes, body]) };
      continue;
    }
    const isFrame = code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc;
    if (isFrame) {
      if (length < 8) throw undecodable('the JPEG frame header is too short');
      const frame = (yield { kind: 'read', bytes: length - 2 })!;
      checkPixels(frame.readUInt16BE(3), frame.readUInt16BE(1));
      if (!sawFrame) {
        seen.width = frame.readUInt16BE(3);
        seen.height = frame.readUInt16BE(1);
      }
      sawFrame = true;
      yield { kind: 'emit', bytes: Buffer.concat([marker, lengthBytes, frame]) };
    } else {
      yield { kind: 'emit', bytes: Buffer.concat([marker, lengthBytes]) };
      yield { kind: 'pass', bytes: length - 2 };
    }
    if (code === 0xda) {
      if (!sawFrame) throw undecodable('the JPEG has scan data before a frame header');
      sawScan = true;
      yield { kind: 'passEntropy' };
    }
  }
}

function exifSegment(orientation: number): Buffer {
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), minimalExif(orientation)]);
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}
