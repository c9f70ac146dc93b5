/**
 * What this service knows about each image type: the extension its objects get, and which of
 * the two validation modes can verify it. Config, the sniffer, the format grammars
 * (src/images/formats/) and the file route all read these facts from here.
 */

export const knownImageTypes = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/heic': 'heic',
  'image/heif': 'heif',
  // HEIF image sequences and bursts (a `moov` track): named so that a refusal says what they
  // are; no grammar here checks a track, so no mode can verify them.
  'image/heic-sequence': 'heics',
  'image/heif-sequence': 'heifs',
  'image/jxl': 'jxl',
  'image/bmp': 'bmp',
  'image/tiff': 'tif',
} as const;

export type ImageMimeType = keyof typeof knownImageTypes;

export function extensionOf(type: ImageMimeType): string {
  return knownImageTypes[type];
}

const typeOfExtension = new Map<string, ImageMimeType>(
  Object.entries(knownImageTypes).map(([mime, extension]) => [extension, mime as ImageMimeType]),
);

/** The type of an object from its extension; undefined for any name the service never makes. */
export function typeOfExtensionName(extension: string): ImageMimeType | undefined {
  return typeOfExtension.get(extension);
}

export function isKnownImageType(type: string): type is ImageMimeType {
  return type in knownImageTypes;
}

/**
 * Allowed when ALLOWED_TYPES is unset, as far as the validation mode can verify them (HEIC and
 * HEIF: by their structure, or decoded by src/images/codecs/heif/).
 */
export const defaultAllowedTypes: readonly ImageMimeType[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/heic',
  'image/heif',
];

/**
 * Types that are decoded in full: by sharp's bundled libvips, and HEIC/HEIF (HEVC, which
 * libvips does not ship) by src/images/codecs/heif/, whose decode makes the display rendition
 * every such image gets before it is stored.
 */
export const decodeCheckedTypes: readonly ImageMimeType[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/tiff',
  'image/heic',
  'image/heif',
];

/**
 * Types every browser shows (Chromium, Firefox, Safari). An image of any other type gets a
 * display rendition (src/images/display-rendition.ts) that they can.
 */
export const browserDisplayableTypes: readonly ImageMimeType[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
];

/** Types whose container a grammar in src/images/formats/ describes: checked without decoding. */
export const structureCheckedTypes: readonly ImageMimeType[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/heic',
  'image/heif',
];

/**
 * Types whose location and personal metadata src/images/formats/ removes without re-encoding,
 * as the bytes stream past. HEIC and HEIF share AVIF's container and its rule (Exif and XMP
 * items emptied; the image data, `ispe`, `irot`, `imir`, `clap` and `colr` untouched). TIFF
 * keeps its metadata in the IFDs that also point at the pixel strips (no stripping without
 * rewriting offsets); BMP carries no such metadata; JPEG XL has no grammar.
 */
export const losslesslyStrippableTypes: readonly ImageMimeType[] = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/heic',
  'image/heif',
];
