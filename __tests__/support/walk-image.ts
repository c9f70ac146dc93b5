import { isAppError } from '../../src/errors.js';
import { ContainerWalker, type ImageFacts } from '../../src/images/formats/index.js';
import type { ImageMimeType } from '../../src/images/image-types.js';

/** What a walk answered: the facts and the stored bytes, or the error it refused the image with. */
export type WalkOutcome = { facts: ImageFacts; output: Buffer } | { code: string; message: string };

/**
 * Walks `image` (whole, or in pieces of `pieceBytes`); answers its facts and the stored bytes,
 * or the AppError it was refused with (anything else is rethrown).
 */
export function walkImage(
  image: Buffer,
  type: ImageMimeType,
  strip: boolean,
  maxPixels = 100_000_000,
  pieceBytes = image.length,
): WalkOutcome {
  try {
    const walker = new ContainerWalker(type, maxPixels, { strip });
    const out: Buffer[] = [];
    for (let at = 0; at < image.length; at += Math.max(1, pieceBytes)) {
      out.push(...walker.write(image.subarray(at, at + pieceBytes)));
    }
    out.push(...walker.end());
    return { facts: walker.facts(), output: Buffer.concat(out) };
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { code: error.code, message: error.message };
  }
}
