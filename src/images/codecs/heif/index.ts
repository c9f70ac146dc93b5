import os from 'node:os';
import type { ImageMimeType } from '../../image-types.js';
import type { HeifDecoder, HeifDecoderKind } from './heif-decoder.js';
import { NativeHeifDecoder } from './native-decoder.js';
import { WasmHeifDecoder } from './wasm-decoder.js';

export {
  heifDecoderKinds,
  type DecodedHeif,
  type HeifDecodeLimits,
  type HeifDecoder,
  type HeifDecoderKind,
} from './heif-decoder.js';

/**
 * The decoder HEIC_DECODER names, chosen once at start-up. `native` fails here, not at the
 * first upload, when heif-convert or its HEVC decoder is missing. `workers`: the WebAssembly
 * decoder's threads, as many as images decode at once (IMAGE_VARIANT_CONCURRENCY).
 */
export async function openHeifDecoder(
  kind: HeifDecoderKind,
  options: { readonly workers: number; readonly tempDirectory?: string },
): Promise<HeifDecoder> {
  if (kind === 'native') {
    return NativeHeifDecoder.open(
      options.tempDirectory === undefined ? {} : { tempDirectory: options.tempDirectory },
    );
  }
  return new WasmHeifDecoder({ workers: options.workers });
}

/** The types this codec decodes. */
export const heifImageTypes: readonly ImageMimeType[] = ['image/heic', 'image/heif'];

let shared: HeifDecoder | undefined;

/**
 * The process-wide WebAssembly decoder, for callers that hand in none (an app built without
 * one, as in most tests). Its workers start at the first HEIC and hold nothing until then.
 */
export function sharedHeifDecoder(): HeifDecoder {
  shared ??= new WasmHeifDecoder({ workers: os.availableParallelism() });
  return shared;
}
