import sharp from 'sharp';
import type { ImageValidationMode } from '../config.js';
import { structureCheckedTypes, type ImageMimeType } from '../images/image-types.js';
import { isAppError } from '../errors.js';
import { heifImageTypes } from '../images/codecs/heif/index.js';
import {
  createImageWalk,
  tooManyPixels,
  undecodable,
  type ContainerWalker,
  type ImageFacts,
} from '../images/formats/index.js';
import { SpoolFile } from './spool.js';

// libvips maps a file it decodes and, with sharp's default cache, keeps up to 20 of them open
// and mapped afterwards: deleted spool files would go on holding their disk space and their
// pages in this process's RSS. Every image here is decoded once, so the cache buys nothing.
sharp.cache(false);

export interface ImageValidationOptions {
  /** `structure` walks the container; `decode` also decodes every pixel with sharp. */
  readonly mode: ImageValidationMode;
  readonly maxPixels: number;
  /** Sharp gives up on one image after this long, so a hostile file cannot hold a thread. */
  readonly decodeTimeoutSeconds: number;
  /**
   * Decode mode (SPOOL_DIR): the image's bytes are written to a file here as they pass and
   * sharp decodes the file, so that a streamed image is never held whole in memory. Unset,
   * the bytes are held in memory until the decode, as suits an image already held there.
   */
  readonly spoolDirectory?: string | undefined;
  /**
   * Keep a copy of the image (the spool file, or the held bytes without a spool directory)
   * whatever the mode, for `finishKeeping`: variants are made from it once it is proven.
   */
  readonly keepCopy?: boolean | undefined;
}

/** A validated image, and where its bytes still are until `dispose`. */
export interface KeptImage {
  readonly facts: ImageFacts;
  /** The spool file's path, or the bytes when there is no spool directory. */
  readonly input: Buffer | string;
}

/**
 * Proves that bytes which sniffed as an image type really are a complete image of that type,
 * fed chunk by chunk as they pass to the store. The container walk runs on every chunk (the
 * validator's own, or the one the upload's body passes through, given to the constructor), so
 * a pixel flood is refused from its header (too_many_pixels) before anything is decoded, and
 * bytes after the end (a polyglot) or a cut-off file fail as soon as they are seen. In
 * `decode` mode the whole image is then decoded by sharp on libuv's thread pool (off the
 * event loop), strictly (failOn: 'warning', the level sharp recommends for untrusted input).
 *
 * `write` and `finish` reject with AppErrors (undecodable_image, too_many_pixels); `finish`
 * must be awaited, and must succeed, before the image is published. It answers the image's
 * facts (displayed size, frames, orientation), which the walk reads on its way. `dispose` must be awaited
 * once the upload is over, whatever happened: it deletes the spool file.
 */
export class ImageValidator {
  /** Undefined for types without a grammar (BMP, TIFF, JPEG XL), which only decode mode checks. */
  private readonly walker: ContainerWalker | undefined;
  /** The walk this validator feeds itself; undefined when the caller feeds it (or none). */
  private readonly ownWalker: ContainerWalker | undefined;
  /** Decode mode without a spool: sharp needs the whole file (its stream input buffers it too). */
  private readonly held: Buffer[] = [];
  /** Decode mode with a spool: the file, created with the first chunk. */
  private spool: Promise<SpoolFile> | undefined;
  private disposed = false;

  /**
   * `walker`: the walk the upload's body already passes every byte through (and ends), whose
   * facts this validator answers, so that no byte is walked twice; without one (an image held
   * in memory, `validateImage`), the validator walks the bytes written to it itself, with a
   * walk made as the upload's is (`createImageWalk`).
   */
  constructor(
    private readonly type: ImageMimeType,
    private readonly options: ImageValidationOptions,
    walker?: ContainerWalker,
  ) {
    this.ownWalker = walker === undefined ? createImageWalk(type, options.maxPixels) : undefined;
    this.walker = walker ?? this.ownWalker;
    if (this.walker === undefined && options.mode === 'structure') {
      throw undecodable(`${type} can only be verified with IMAGE_VALIDATION=decode`);
    }
  }

  async write(chunk: Buffer): Promise<void> {
    this.ownWalker?.write(chunk);
    if (this.options.mode !== 'decode' && this.options.keepCopy !== true) return;
    const directory = this.options.spoolDirectory;
    if (directory === undefined) {
      this.held.push(chunk);
      return;
    }
    // A write that was still on its way when the upload ended must not create a new file.
    if (this.disposed) throw new Error('write after the image validator was disposed');
    this.spool ??= SpoolFile.create(directory);
    await (await this.spool).write(chunk);
  }

  async finish(): Promise<ImageFacts> {
    try {
      return (await this.validate()).facts;
    } finally {
      await this.dispose();
    }
  }

  /**
   * As `finish`, but the copy (option `keepCopy`) stays until `dispose`, which the caller must
   * then await once it is done with `input`. On failure the copy is already gone.
   */
  async finishKeeping(): Promise<KeptImage> {
    try {
      return await this.validate();
    } catch (error) {
      await this.dispose();
      throw error;
    }
  }

  private async validate(): Promise<KeptImage> {
    this.ownWalker?.end();
    const spool = await this.spool;
    await spool?.close();
    const input = spool?.path ?? Buffer.concat(this.held);
    let decoded: ImageFacts | undefined;
    if (this.options.mode === 'decode') {
      decoded = await decodeFully(input, this.type, this.options);
    }
    // A type without a walker is only accepted in decode mode, which then read its facts.
    return { facts: this.walker?.facts() ?? decoded!, input };
  }

  /** Deletes the spool file and drops held bytes; safe to call more than once, at any time. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.held.length = 0;
    const spool = await this.spool?.catch(() => undefined);
    await spool?.remove();
  }
}

/** Validates an image already held in memory. */
export async function validateImage(
  image: Buffer,
  type: ImageMimeType,
  options: ImageValidationOptions,
): Promise<ImageFacts> {
  // Already in memory: sharp reads it from there, there is nothing to spool.
  const validator = new ImageValidator(type, { ...options, spoolDirectory: undefined });
  await validator.write(image);
  return validator.finish();
}

/**
 * Decodes every pixel (every frame of an animation) without keeping them: libvips streams the
 * decoded rows through a shrink to one pixel, so memory stays small whatever the image size,
 * and a broken or truncated stream of pixel data fails the decode. `image` is the bytes or the
 * path of a spool file, which libvips reads itself. For a type without a walker, its facts come
 * from libvips' reading of the header.
 */
async function decodeFully(
  image: Buffer | string,
  type: ImageMimeType,
  options: ImageValidationOptions,
): Promise<ImageFacts | undefined> {
  const animated = type === 'image/gif' || type === 'image/webp';
  let facts: ImageFacts | undefined;
  try {
    if (!structureCheckedTypes.includes(type)) {
      // No walker read the header, so read it here: sharp's own limit would only say "error".
      const header = await sharp(image, { limitInputPixels: false }).metadata();
      const { width = 0, height = 0, orientation = 1, pages = 1 } = header;
      if (width * height > options.maxPixels) throw tooManyPixels(width, height, options.maxPixels);
      facts = {
        width: header.autoOrient.width,
        height: header.autoOrient.height,
        frames: pages > 1 ? pages : undefined,
        orientation,
      };
    }
    // HEVC is not libvips': a HEIC/HEIF is decoded in full by the display rendition it always
    // gets (src/ingest/derived-images.ts), which ingest makes before the original is stored.
    if (heifImageTypes.includes(type)) return facts;
    await sharp(image, {
      failOn: 'warning',
      limitInputPixels: options.maxPixels,
      sequentialRead: true,
      ...(animated ? { pages: -1 } : {}),
    })
      .resize(1, 1, { fit: 'fill', fastShrinkOnLoad: false })
      .raw()
      .timeout({ seconds: options.decodeTimeoutSeconds })
      .toBuffer();
  } catch (error) {
    if (isAppError(error)) throw error;
    throw undecodable(`it does not decode as ${type}`);
  }
  return facts;
}
