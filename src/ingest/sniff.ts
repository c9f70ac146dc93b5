import { fileTypeFromBuffer } from 'file-type';
import { AppError } from '../errors.js';
import { isobmffImageType } from '../images/formats/index.js';
import { knownImageTypes, type ImageMimeType } from '../images/image-types.js';

/**
 * How many leading bytes decide the type. file-type reads at most this much for the formats
 * we accept (it is also its own default sample size), so the work per upload is bounded.
 */
export const sniffSampleBytes = 4100;

export interface SniffedType {
  readonly contentType: ImageMimeType;
  readonly extension: string;
}

/**
 * The type comes from the bytes, never from the client's label. An ISOBMFF file (AVIF, HEIC,
 * HEIF) is typed by all the brands of its `ftyp` box (src/images/formats/isobmff.ts), which
 * file-type does not read; anything else by file-type. file-type answers undefined
 * for content it cannot identify (SVG, HTML and text among them): that is a 415, as is any
 * identified type outside the allowlist.
 */
export async function sniffImageType(
  sample: Uint8Array,
  allowedTypes: readonly ImageMimeType[],
): Promise<SniffedType> {
  const head = sample.subarray(0, sniffSampleBytes);
  const mime: string | undefined = isobmffImageType(head) ?? (await fileTypeFromBuffer(head))?.mime;
  assertAllowedType(mime, allowedTypes);
  return { contentType: mime, extension: knownImageTypes[mime] };
}

/** Throws unsupported_image_type unless `mime` (as sniffed) is one of `allowedTypes`. */
export function assertAllowedType(
  mime: string | undefined,
  allowedTypes: readonly ImageMimeType[],
): asserts mime is ImageMimeType {
  if (mime === undefined || !(allowedTypes as readonly string[]).includes(mime)) {
    throw new AppError('unsupported_image_type', {
      message:
        `The bytes are not an image of an allowed type (${allowedTypes.join(', ')})` +
        (mime === undefined ? '.' : `; they are ${mime}.`),
    });
  }
}
