import { crc32 } from 'node:zlib';
import { exifOrientation, exifPrefixBytes, minimalExif } from '../exif.js';
import { undecodable, type StripWalk } from './driver.js';

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Ancillary chunks that change how the pixels are shown (colour, gamma, transparency, density,
 * background, HDR metadata) or make up an APNG. Every other ancillary chunk is left out: text
 * (tEXt, zTXt, iTXt, which is also where XMP lives), eXIf, tIME, and private ones nobody
 * here can vouch for (Apple's iDOT, whose IDAT offsets would be wrong once chunks before it
 * are gone, C2PA's caBX). Critical chunks always pass: a decoder needs every one of them.
 */
const keptAncillary = new Set([
  'iCCP',
  'sRGB',
  'gAMA',
  'cHRM',
  'cICP',
  'mDCV',
  'cLLI',
  'sBIT',
  'pHYs',
  'tRNS',
  'bKGD',
  'hIST',
  'sPLT',
  'acTL',
  'fcTL',
  'fdAT',
]);

/**
 * PNG: chunks pass or are left out whole (header, data and CRC), so the CRCs of what passes are
 * the original ones. The first eXIf becomes a new eXIf holding only the Orientation (with its
 * own CRC) when that is not 1.
 */
export function* stripPng(): StripWalk {
  const head = (yield { kind: 'read', bytes: 8 })!;
  if (!head.equals(signature)) throw undecodable('the PNG signature is wrong');
  yield { kind: 'emit', bytes: head };
  let sawExif = false;
  for (;;) {
    const header = (yield { kind: 'read', bytes: 8 })!;
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (length > 0x7fffffff) throw undecodable(`PNG chunk ${type} has an impossible length`);
    if (!/^[A-Za-z]{4}$/.test(type)) throw undecodable('a PNG chunk has an invalid type');
    const critical = type.charCodeAt(0) < 0x61;
    if (critical || keptAncillary.has(type)) {
      yield { kind: 'emit', bytes: header };
      yield { kind: 'pass', bytes: length + 4 };
    } else if (type === 'eXIf' && !sawExif) {
      sawExif = true;
      const prefix = Math.min(length, exifPrefixBytes);
      const exif = (yield { kind: 'read', bytes: prefix })!;
      yield { kind: 'drop', bytes: length - prefix + 4 };
      const orientation = exifOrientation(exif);
      if (orientation !== 1)
        yield { kind: 'emit', bytes: pngChunk('eXIf', minimalExif(orientation)) };
    } else {
      yield { kind: 'drop', bytes: length + 4 };
    }
    if (type === 'IEND') {
      yield { kind: 'end' };
      return;
    }
  }
}

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}
