import { undecodable, type StripWalk } from './driver.js';

/** Application Extensions that change how an animation plays (its loop count); others go. */
const keptApplications = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0']);

/**
 * GIF: blocks are walked as the container walker walks them, and pass or are left out whole.
 * Left out: Comment Extensions and every Application Extension but the looping ones (XMP
 * rides in "XMP DataXMP", whose payload is shaped to read as sub-blocks, so it is skipped like
 * any other). Kept: Graphic Control (delays, transparency) and Plain Text Extensions (drawn
 * on the canvas: they are part of the picture), and all image data.
 */
export function* stripGif(): StripWalk {
  const header = (yield { kind: 'read', bytes: 13 })!;
  const signature = header.toString('latin1', 0, 6);
  if (signature !== 'GIF87a' && signature !== 'GIF89a') throw undecodable('bad GIF signature');
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
      if (keep) yield { kind: 'emit', bytes: Buffer.concat([introducer, label]) };
      if (first !== undefined && keep) yield { kind: 'emit', bytes: first };
      yield* subBlocks(keep);
    } else if (introducer[0] === 0x2c) {
      const descriptor = (yield { kind: 'read', bytes: 9 })!;
      yield { kind: 'emit', bytes: Buffer.concat([introducer, descriptor]) };
      const local = descriptor[8]!;
      if ((local & 0x80) !== 0) yield { kind: 'pass', bytes: 3 * 2 ** ((local & 0x07) + 1) };
      yield { kind: 'pass', bytes: 1 }; // LZW minimum code size
      yield* subBlocks(true);
      frames += 1;
    } else {
      throw undecodable('the GIF has an unknown block');
    }
  }
}

/** Data sub-blocks up to and including their zero-length terminator. */
function* subBlocks(keep: boolean): StripWalk {
  for (;;) {
    const size = (yield { kind: 'read', bytes: 1 })!;
    if (keep) yield { kind: 'emit', bytes: size };
    if (size[0] === 0) return;
    yield { kind: keep ? 'pass' : 'drop', bytes: size[0]! };
  }
}
