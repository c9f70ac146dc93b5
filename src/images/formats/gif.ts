import { undecodable, type Grammar, type GrammarContext } from './grammar.js';

/** Application Extensions that change how an animation plays (its loop count); others go. */
const keptApplications = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0']);

/**
 * GIF: the header and logical screen, colour tables, extension and image blocks with their
 * sub-blocks, up to the trailer; at least one image, each with an LZW code size a decoder
 * takes (2 to 11). The screen gives the size; every frame counts towards the pixel budget, and
 * a frame outside the screen is budgeted as the screen grown to fit it (decoders differ).
 *
 * Stripped: blocks pass or are left out whole. Left out: Comment Extensions and every
 * Application Extension but the looping ones (XMP rides in "XMP DataXMP", whose payload is
 * shaped to read as sub-blocks, so it is skipped like any other). Kept: Graphic Control (delays,
 * transparency) and Plain Text Extensions (drawn on the canvas: they are part of the picture),
 * and all image data.
 */
export function* gif({ checkPixels, checkFrames, seen }: GrammarContext): Grammar {
  const header = (yield { kind: 'read', bytes: 13 })!;
  const signature = header.toString('latin1', 0, 6);
  if (signature !== 'GIF87a' && signature !== 'GIF89a') throw undecodable('bad GIF signature');
  const screenWidth = header.readUInt16LE(6);
  const screenHeight = header.readUInt16LE(8);
  checkPixels(screenWidth, screenHeight);
  seen.width = screenWidth;
  seen.height = screenHeight;
  yield { kind: 'emit', bytes: header };
  const flags = header[10]!;
  if ((flags & 0x80) !== 0) yield { kind: 'pass', bytes: 3 * 2 ** ((flags & 0x07) + 1) };
  let frames = 0;
  for (;;) {
    const introducer = (yield { kind: 'read', bytes: 1 })!;
    if (introducer[0] === 0x3b) {
      if (frames === 0) throw undecodable('the GIF has no image');
      yield { kind: 'emit', bytes: introducer };
      yield { kind: 'end' };
      return;
    }
    if (introducer[0] === 0x21) {
      const label = (yield { kind: 'read', bytes: 1 })!;
      let keep = label[0] !== 0xfe;
      let first: Buffer | undefined;
      if (label[0] === 0xff) {
        const size = (yield { kind: 'read', bytes: 1 })!;
        first = Buffer.concat([size, (yield { kind: 'read', bytes: size[0]! })!]);
        keep = keptApplications.has(first.toString('latin1', 1, 12));
        if (size[0] === 0) {
          // No sub-block at all: the extension ends here.
          if (keep) yield { kind: 'emit', bytes: Buffer.concat([introducer, label, first]) };
          continue;
        }
      }
      if (keep)
        yield { kind: 'emit', bytes: Buffer.concat([introducer, label, first ?? Buffer.alloc(0)]) };
      yield* subBlocks(keep);
    } else if (introducer[0] === 0x2c) {
      const descriptor = (yield { kind: 'read', bytes: 9 })!;
      const left = descriptor.readUInt16LE(0);
      const top = descriptor.readUInt16LE(2);
      const width = descriptor.readUInt16LE(4);
      const height = descriptor.readUInt16LE(6);
      checkPixels(width, height);
      if (left + width > screenWidth || top + height > screenHeight) {
        // Decoders differ on frames outside the canvas; some grow the canvas to fit them.
        checkPixels(Math.max(screenWidth, left + width), Math.max(screenHeight, top + height));
      }
      yield { kind: 'emit', bytes: Buffer.concat([introducer, descriptor]) };
      const local = descriptor[8]!;
      if ((local & 0x80) !== 0) yield { kind: 'pass', bytes: 3 * 2 ** ((local & 0x07) + 1) };
      const minCodeSize = (yield { kind: 'read', bytes: 1 })!;
      if (minCodeSize[0]! < 2 || minCodeSize[0]! > 11) {
        throw undecodable('a GIF frame has a bad LZW code size');
      }
      yield { kind: 'emit', bytes: minCodeSize };
      yield* subBlocks(true);
      frames += 1;
      seen.frames = frames;
      checkFrames(frames);
    } else {
      throw undecodable('the GIF has an unknown block');
    }
  }
}

/** Data sub-blocks up to and including their zero-length terminator. */
function* subBlocks(keep: boolean): Grammar {
  for (;;) {
    const size = (yield { kind: 'read', bytes: 1 })!;
    if (keep) yield { kind: 'emit', bytes: size };
    if (size[0] === 0) return;
    yield { kind: keep ? 'pass' : 'drop', bytes: size[0]! };
  }
}
