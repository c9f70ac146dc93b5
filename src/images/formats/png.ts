import { crc32 } from 'node:zlib';
import { exifOrientation, exifPrefixBytes, minimalExif } from '../exif.js';
import { undecodable, type Grammar, type GrammarContext } from './grammar.js';

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Ancillary chunks that change how the pixels are shown (colour, gamma, transparency, density,
 * background, HDR metadata) or make up an APNG. Every other ancillary chunk is left out when
 * stripping: text (tEXt, zTXt, iTXt, which is also where XMP lives), eXIf, tIME, and private
 * ones nobody here can vouch for (Apple's iDOT, whose IDAT offsets would be wrong once chunks
 * before it are gone, C2PA's caBX). Critical chunks always pass: a decoder needs every one.
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
 * PNG: the signature, IHDR first, every chunk's type, length and CRC, up to an empty IEND.
 * IHDR gives the size, acTL an animation's frame count (a flood is refused from it), the first
 * eXIf the orientation.
 *
 * Stripped: chunks pass or are left out whole (header, data and CRC), so the CRCs of what
 * passes are the original ones. The first eXIf becomes a new eXIf holding only the Orientation
 * (with its own CRC) when that is not 1.
 */
export function* png({ checkPixels, checkFrames, seen }: GrammarContext): Grammar {
  const head = (yield { kind: 'read', bytes: 8 })!;
  if (!head.equals(signature)) throw undecodable('the PNG signature is wrong');
  yield { kind: 'emit', bytes: head };
  let first = true;
  let sawExif = false;
  for (;;) {
    const header = (yield { kind: 'read', bytes: 8 })!;
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (length > 0x7fffffff) throw undecodable(`PNG chunk ${type} has an impossible length`);
    if (!/^[A-Za-z]{4}$/.test(type)) throw undecodable('a PNG chunk has an invalid type');
    if (first !== (type === 'IHDR')) throw undecodable('the PNG does not start with IHDR');
    first = false;
    let crc = crc32(header.subarray(4, 8));
    const see = (part: Buffer): void => {
      crc = crc32(part, crc);
    };
    const keep = type.charCodeAt(0) < 0x61 || keptAncillary.has(type);
    /** What replaces the chunk in the output, when it is not kept. */
    let replacement: Buffer | undefined;
    if (type === 'IHDR' || (type === 'acTL' && length === 8)) {
      if (type === 'IHDR' && length !== 13) {
        throw undecodable('the PNG IHDR chunk has the wrong length');
      }
      const data = (yield { kind: 'read', bytes: length })!;
      see(data);
      if (type === 'IHDR') {
        checkPixels(data.readUInt32BE(0), data.readUInt32BE(4));
        seen.width = data.readUInt32BE(0);
        seen.height = data.readUInt32BE(4);
      } else {
        // APNG's acTL declares the frame count up front: a flood is refused from its header.
        seen.frames = data.readUInt32BE(0);
        checkFrames(seen.frames);
      }
      yield { kind: 'emit', bytes: Buffer.concat([header, data]) };
    } else if (type === 'eXIf' && !sawExif) {
      sawExif = true;
      const prefix = Math.min(length, exifPrefixBytes);
      const exif = (yield { kind: 'read', bytes: prefix })!;
      see(exif);
      yield { kind: 'drop', bytes: length - prefix, see };
      seen.orientation = exifOrientation(exif);
      if (seen.orientation !== 1) replacement = pngChunk('eXIf', minimalExif(seen.orientation));
    } else if (keep) {
      yield { kind: 'emit', bytes: header };
      yield { kind: 'pass', bytes: length, see };
    } else {
      yield { kind: 'drop', bytes: length, see };
    }
    const stored = (yield { kind: 'read', bytes: 4 })!;
    if (stored.readUInt32BE(0) !== crc) {
      throw undecodable(`the CRC of PNG chunk ${type} does not match`);
    }
    if (keep) yield { kind: 'emit', bytes: stored };
    else if (replacement !== undefined) yield { kind: 'emit', bytes: replacement };
    if (type === 'IEND') {
      if (length !== 0) throw undecodable('the PNG IEND chunk is not empty');
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
