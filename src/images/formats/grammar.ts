import { AppError } from '../../errors.js';

/**
 * The language every format's grammar speaks to the one driver (./walker.ts). A grammar is a
 * generator that describes its container once, as the bytes stream past: it asks to hold the
 * bytes of a header or a small segment (`read`), and for every other byte says whether it goes
 * into the stripped image as it was (`pass`), leaves it (`drop`, or turns to zeros), or is
 * replaced by bytes of its own (`emit`). Checking the structure (what the grammar refuses),
 * reading the facts (what it notes in `seen`) and stripping metadata (what it passes) are so
 * answered in one walk over the bytes; the driver keeps the stripped output only when asked to.
 */
export type Step =
  | { readonly kind: 'read'; readonly bytes: number }
  /** Reads `bytes`, or answers undefined if the input ended cleanly right here. */
  | { readonly kind: 'readOrEnd'; readonly bytes: number }
  /** Bytes that pass into the output as they are; `see` looks at them on the way (a CRC). */
  | { readonly kind: 'pass'; readonly bytes: number; readonly see?: Seer }
  | {
      readonly kind: 'drop';
      readonly bytes: number;
      /** Put out as many zero bytes instead, so that offsets and sizes stay valid. */
      readonly zero?: boolean;
      readonly see?: Seer;
    }
  /** Bytes of the grammar's own in the output: a header it held, or one it rewrote. */
  | { readonly kind: 'emit'; readonly bytes: Buffer }
  /** Passes JPEG entropy-coded data up to the next marker that is not a restart or stuffing. */
  | { readonly kind: 'passEntropy' }
  /** Passes everything up to the end of the input (an ISOBMFF box of size 0). */
  | { readonly kind: 'passToEnd' }
  /** The container is complete: the input must end here. */
  | { readonly kind: 'end' };

export type Seer = (part: Buffer) => void;

export type Grammar = Generator<Step, void, Buffer | undefined>;

export interface ImageDimensions {
  readonly width: number;
  readonly height: number;
}

/** What a walk learns about the image on its way, besides whether it is valid. */
export interface ImageFacts {
  /**
   * As the image is displayed: EXIF orientations 5 to 8 swap the axes; an ISOBMFF image's
   * `clap`, `irot` and `imir` are applied.
   */
  readonly width: number;
  readonly height: number;
  /** Frames of an animation (more than one); undefined for a still image. */
  readonly frames: number | undefined;
  /** The EXIF orientation (1 to 8), 1 when the image carries none (and for AVIF and HEIC). */
  readonly orientation: number;
}

/** Filled in by a grammar as it goes. */
export interface FactsSeen {
  width?: number;
  height?: number;
  frames?: number;
  orientation?: number;
  /** Set by a grammar that already applied every transformation to `width` and `height`. */
  displayed?: boolean;
}

/** What a grammar is handed: where to note facts, and the limits its headers are held to. */
export interface GrammarContext {
  readonly seen: FactsSeen;
  /** Refuses a zero or too large size (too_many_pixels). */
  readonly checkPixels: (width: number, height: number) => void;
  /** Refuses the frames of an animation (so far, or declared) past the pixel budget. */
  readonly checkFrames: (frames: number) => void;
  /** Refuses `pixels` decoded to make one image (`what`: of which parts) past the budget. */
  readonly checkDecodedPixels: (pixels: number, what: string) => void;
  /** Whether the output is kept: a rule that only stripping needs may refuse only then. */
  readonly stripping: boolean;
  /** Bytes of input consumed so far (after `passToEnd`, the length of the file). */
  readonly position: () => number;
}

/** Raised by a grammar; the ingest pipeline turns it into the matching API error. */
export function undecodable(detail: string, cause?: unknown): AppError {
  return new AppError('undecodable_image', {
    message: `The image is not valid: ${detail}.`,
    ...(cause === undefined ? {} : { cause }),
  });
}

export function tooManyPixels(width: number, height: number, maxPixels: number): AppError {
  return new AppError('too_many_pixels', {
    message:
      `The image declares ${width} x ${height} pixels; ` +
      `at most ${maxPixels} pixels are accepted.`,
  });
}

export function tooManyDecodedPixels(pixels: number, what: string, maxPixels: number): AppError {
  return new AppError('too_many_pixels', {
    message:
      `The image needs ${pixels} pixels decoded (${what}); ` +
      `at most ${maxPixels} pixels are accepted.`,
  });
}

export function tooManyFramePixels(
  frames: number,
  width: number,
  height: number,
  maxPixels: number,
): AppError {
  return new AppError('too_many_pixels', {
    message:
      `The animation declares ${frames} frames of ${width} x ${height} pixels; ` +
      `at most ${maxPixels} pixels are accepted for all frames together.`,
  });
}
