// A worker thread of the WebAssembly HEIF decoder (wasm-decoder.ts): libheif with libde265,
// from npm libheif-js. One image at a time. It imports nothing of the service, so that Node
// runs it as it is, compiled (dist/) or not (the tests run the .ts by type stripping).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

export interface HeifWorkerRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly maxPixels: number;
  /** Bytes left free in front of the pixels, for the TIFF header the pool writes there. */
  readonly headerBytes: number;
}

export type HeifWorkerReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly width: number;
      readonly height: number;
      readonly hasAlpha: boolean;
      readonly file: ArrayBuffer;
      /** The WebAssembly heap after the decode: it never shrinks, so the pool retires big ones. */
      readonly heapBytes: number;
    }
  | {
      readonly id: number;
      readonly ok: false;
      readonly code: 'too_many_pixels' | 'undecodable';
      readonly message: string;
      readonly width?: number;
      readonly height?: number;
      /** The module may be in a broken state (it threw): the pool ends this worker. */
      readonly poisoned: boolean;
      readonly heapBytes: number;
    };

interface LibheifImage {
  readonly handle: unknown;
  get_width(): number;
  get_height(): number;
  is_primary(): boolean;
  has_alpha_channel(): boolean;
  free(): void;
}

/** What heif_js_decode_image2 answers: an error ({code}), or the image and its planes. */
interface DecodedPlanes {
  readonly code?: number;
  /** An embind handle to the heif_image; its address is `$$.ptr`. */
  readonly image?: { readonly $$: { readonly ptr: number } };
  readonly channels?: readonly {
    readonly id: unknown;
    readonly stride: number;
    readonly height: number;
    readonly data: Uint8Array;
  }[];
}

interface Libheif {
  HeifDecoder: new () => { decoder: unknown; decode(bytes: Uint8Array): LibheifImage[] };
  heif_context_free(context: unknown): void;
  heif_js_decode_image2(handle: unknown, colorspace: unknown, chroma: unknown): DecodedPlanes;
  heif_image_release(image: unknown): void;
  _heif_image_get_decoding_warnings(image: number, first: number, out: number, max: number): number;
  heif_colorspace: { heif_colorspace_RGB: unknown };
  heif_chroma: { heif_chroma_interleaved_RGBA: unknown };
  heif_channel: { heif_channel_interleaved: unknown };
  HEAPU8: Uint8Array;
}

const require = createRequire(import.meta.url);
const script = require.resolve('libheif-js/libheif-wasm/libheif.js');
// libheif-js/wasm.js reads the binary relative to the working directory; read it from beside
// the script instead, wherever the service was started.
const wasmBinary = readFileSync(script.replace(/libheif\.js$/, 'libheif.wasm'));
// libheif-js reports its failures with console.log, and the module prints to console.log
// and console.error (its print, printErr); the reply says the failures instead. Silenced here,
// not by the pool reading the worker's stdio: a worker's stdio stream being read keeps the
// parent process alive for as long as the worker lives.
console.log = (): void => {};
const quiet = (): void => {};
const factory = require(script) as (options: {
  wasmBinary: Buffer;
  print: (text: string) => void;
  printErr: (text: string) => void;
}) => Promise<Libheif>;
const libheif = await factory({ wasmBinary, print: quiet, printErr: quiet });

function decode(request: HeifWorkerRequest): HeifWorkerReply {
  const base = { id: request.id, heapBytes: 0 };
  const decoder = new libheif.HeifDecoder();
  let images: LibheifImage[] = [];
  try {
    // Parses the container only: no pixel is decoded before the size is checked.
    images = decoder.decode(request.bytes);
    const primary = images.find((image) => image.is_primary());
    if (primary === undefined) {
      return {
        ...base,
        ok: false,
        code: 'undecodable',
        message: 'it has no primary image that libheif can read',
        poisoned: false,
      };
    }
    // The size libheif will produce: the grid's output size, `irot` and `clap` applied.
    const width = primary.get_width();
    const height = primary.get_height();
    if (width < 1 || height < 1) {
      return {
        ...base,
        ok: false,
        code: 'undecodable',
        message: 'it declares a zero width or height',
        poisoned: false,
      };
    }
    if (width * height > request.maxPixels) {
      return {
        ...base,
        ok: false,
        code: 'too_many_pixels',
        message: 'too many pixels',
        width,
        height,
        poisoned: false,
      };
    }
    // Not libheif-js's display(): that would hide a failed decode behind a picture. libheif
    // (without strict decoding, all the bindings offer) fills a tile it cannot decode and
    // records a warning: any warning fails the image, as sharp's failOn: 'warning' does.
    const planes = libheif.heif_js_decode_image2(
      primary.handle,
      libheif.heif_colorspace.heif_colorspace_RGB,
      libheif.heif_chroma.heif_chroma_interleaved_RGBA,
    );
    if (planes.code !== undefined || planes.image === undefined) {
      return {
        ...base,
        ok: false,
        code: 'undecodable',
        message: 'it does not decode as HEIF',
        poisoned: false,
      };
    }
    let file: ArrayBuffer;
    try {
      const warnings = libheif._heif_image_get_decoding_warnings(planes.image.$$.ptr, 0, 0, 0);
      const plane = planes.channels?.find(
        (channel) => channel.id === libheif.heif_channel.heif_channel_interleaved,
      );
      if (warnings > 0 || plane === undefined || plane.height !== height) {
        return {
          ...base,
          ok: false,
          code: 'undecodable',
          message: 'its HEVC data does not decode',
          poisoned: false,
        };
      }
      file = new ArrayBuffer(request.headerBytes + width * height * 4);
      const rows = new Uint8Array(file, request.headerBytes);
      const row = width * 4;
      if (plane.stride === row) rows.set(plane.data.subarray(0, row * height));
      else {
        for (let y = 0; y < height; y += 1) {
          rows.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), y * row);
        }
      }
    } finally {
      libheif.heif_image_release(planes.image);
    }
    return { ...base, ok: true, width, height, hasAlpha: primary.has_alpha_channel(), file };
  } finally {
    for (const image of images) image.free();
    if (decoder.decoder) libheif.heif_context_free(decoder.decoder);
  }
}

parentPort!.on('message', (request: HeifWorkerRequest) => {
  let reply: HeifWorkerReply;
  try {
    reply = decode(request);
  } catch (error) {
    // An abort inside the module (out of WebAssembly memory, a trap): this instance is done.
    reply = {
      id: request.id,
      ok: false,
      code: 'undecodable',
      message: error instanceof Error ? error.message : String(error),
      poisoned: true,
      heapBytes: 0,
    };
  }
  const withHeap = { ...reply, heapBytes: libheif.HEAPU8.length };
  parentPort!.postMessage(withHeap, reply.ok ? [reply.file] : []);
});
parentPort!.postMessage('ready');
