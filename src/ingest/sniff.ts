import { fileTypeFromBuffer } from 'file-type';
import { AppError } from '../errors.js';
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
 * The type comes from the bytes, never from the client's label. file-type answers undefined
 * for content it cannot identify (SVG, HTML and text among them): that is a 415, as is any
 * identified type outside the allowlist.
 */
export async function sniffImageType(
  sample: Uint8Array,
  allowedTypes: readonly ImageMimeType[],
): Promise<SniffedType> {
  const detected = await fileTypeFromBuffer(sample.subarray(0, sniffSampleBytes));
  const mime: string | undefined = detected?.mime;
  if (mime === undefined || !(allowedTypes as readonly string[]).includes(mime)) {
    throw new AppError('unsupported_image_type', {
      message:
        `The bytes are not an image of an allowed type (${allowedTypes.join(', ')})` +
        (mime === undefined ? '.' : `; they are ${mime}.`),
    });
  }
  const contentType = mime as ImageMimeType;
  return { contentType, extension: knownImageTypes[contentType] };
}
