/** What bounds one decode: the same limits as every sharp decode (MAX_IMAGE_PIXELS, DECODE_TIMEOUT_SECONDS). */
export interface HeifDecodeLimits {
  /** Width x height of the primary image at most, read from its headers before decoding. */
  readonly maxPixels: number;
  /** The decode is abandoned (its worker or process killed) after this long. */
  readonly timeoutMs: number;
  /** The ICC profile of the image (its `colr` property), embedded in the decoded image. */
  readonly icc?: Buffer | undefined;
}

/**
 * The primary image of a HEIC/HEIF, decoded and upright (`irot`, `imir` and `clap` applied, a
 * grid assembled): an image in a container sharp reads without decoding anything (uncompressed
 * TIFF, or PNG from heif-convert), carrying the ICC profile, so that everything after
 * (variants, placeholders, the display rendition) is sharp's work as for any other type.
 */
export interface DecodedHeif {
  readonly image: Buffer;
  readonly width: number;
  readonly height: number;
  readonly hasAlpha: boolean;
}

/**
 * An HEVC decoder for HEIC/HEIF. sharp's prebuilt libvips has no HEVC decoder (a licensing
 * choice of its maintainers), so the service brings its own: libheif compiled to WebAssembly
 * (npm libheif-js, with libde265) in worker threads by default, or Debian's heif-convert where
 * installed (HEIC_DECODER). Both refuse a primary image over `maxPixels` from its headers
 * before decoding a pixel, give up after `timeoutMs`, and fail only the one image when the
 * decoder crashes, hangs or runs out of memory. Concurrency is the caller's: decodes run
 * inside the place an image holds in the shared image job limit (src/images/semaphore.ts).
 */
export interface HeifDecoder {
  /** For the start-up log and the bench. */
  readonly description: string;
  /** Rejects with AppError too_many_pixels or undecodable_image. */
  decode(input: Buffer | string, limits: HeifDecodeLimits): Promise<DecodedHeif>;
  /** Ends the workers; decodes still running fail. */
  close(): Promise<void>;
}

export const heifDecoderKinds = ['wasm', 'native'] as const;
export type HeifDecoderKind = (typeof heifDecoderKinds)[number];
