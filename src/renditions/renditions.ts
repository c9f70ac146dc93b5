import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError, isAppError, storageUnavailable } from '../errors.js';
import type { HeifDecoder } from '../images/codecs/heif/index.js';
import type { ImageMimeType } from '../images/image-types.js';
import { extensionOf } from '../images/image-types.js';
import { canRender } from '../images/open-image.js';
import { contentTypes, renderImage, type Rendered } from '../images/render.js';
import type { ConcurrencyLimit } from '../images/semaphore.js';
import type { VariantSpec } from '../images/variant-spec.js';
import { findStoredImage, isImageId } from '../ingest/find-image.js';
import type { FocalPoint } from '../ingest/image-record.js';
import { isStorageError, type ObjectStore } from '../storage/object-store.js';
import {
  canonicalRendition,
  parseRenditionQuery,
  resolveRendition,
  type RenderFormat,
  type RenditionSpec,
} from './rendition-params.js';
import { renditionPath, renditionSignatureMatches } from './rendition-signing.js';

/**
 * Bumped when the renderer would draw the same parameters differently: every rendition then
 * gets a new name (and ETag), and the old ones go with their image.
 */
const rendererVersion = 'v1';

export interface RenditionsOptions {
  readonly store: ObjectStore;
  readonly allowedTypes: readonly ImageMimeType[];
  /** IMAGE_VARIANTS, as presets; written in IMAGE_VARIANT_FORMAT at IMAGE_VARIANT_QUALITY. */
  readonly presets: readonly VariantSpec[];
  readonly presetFormat: RenderFormat;
  readonly presetQuality: number;
  /** RENDER_SIGNING_KEYS; empty accepts unsigned URLs (config allows that only outside production). */
  readonly signingKeys: readonly string[];
  /** RENDER_MAX_PIXELS. */
  readonly maxPixels: number;
  /** MAX_IMAGE_PIXELS and DECODE_TIMEOUT_SECONDS, as for uploads. */
  readonly maxInputPixels: number;
  readonly decodeTimeoutSeconds: number;
  /** The app's image job limit, shared with the variants of uploads. */
  readonly limit: ConcurrencyLimit;
  /** HEIC_DECODER's decoder; the process-wide WebAssembly one when undefined. */
  readonly heifDecoder?: HeifDecoder | undefined;
  /** Counts what each request cost: a render (a decode) or a stored object served. */
  readonly count?: ((outcome: 'rendered' | 'stored') => void) | undefined;
}

/** One rendition, every choice made: what it is stored as and what its answer says. */
export interface PreparedRendition {
  readonly id: string;
  readonly spec: RenditionSpec;
  /** `<id>.r-<key>.<ext>`: under the image's id, so a delete of the image finds it by prefix. */
  readonly objectName: string;
  /** Strong: the object under one name never changes (ids are never reused). */
  readonly etag: string;
  /** format=auto: the answer depends on Accept. */
  readonly variesByAccept: boolean;
  readonly contentType: ImageMimeType;
}

export type RenditionBody =
  | { readonly kind: 'stored'; readonly body: Readable; readonly size: number }
  | { readonly kind: 'rendered'; readonly bytes: Buffer };

/** The object name of a rendition, derived from the id and its canonical parameters. */
function renditionKey(id: string, spec: RenditionSpec): string {
  return createHash('sha256')
    .update(`${rendererVersion}\n${id}\n${canonicalRendition(spec)}`)
    .digest('hex')
    .slice(0, 24);
}

/** What a render needs of its original. */
interface Original {
  readonly name: string;
  readonly contentType: string;
  /** Only when the rendition crops around it; never kept (PATCH changes it). */
  readonly focus?: FocalPoint | undefined;
}

/** Originals whose names are kept: one entry is ~200 bytes. */
const knownOriginals = 4096;
/** Rendition URLs whose checks are kept: under 2 KiB each (a query is <= 1 KiB). */
const preparedUrls = 4096;
const keptAcceptLength = 512;

/**
 * Renditions of stored images: rendered once from the original, written through to the store
 * under a name derived from the id and the canonical parameters, and served from there ever
 * after. Concurrent requests for one missing rendition share one render in this process;
 * across processes, the store's create-only write lets one of them keep its object.
 */
export class Renditions {
  private readonly inFlight = new Map<string, Promise<Rendered>>();
  /** URLs that passed prepare(), with their Accept, the oldest first. */
  private readonly prepared = new Map<string, PreparedRendition>();
  /** Originals found by id, the least recently used first (findOriginal). */
  private readonly originals = new Map<string, Original>();

  constructor(private readonly options: RenditionsOptions) {}

  /**
   * Reads the URL: its parameters (400 naming the one at fault), its signature (403), and the
   * format Accept picks. Touches no store.
   *
   * What a URL (with the Accept it came with) was found to be is kept: the answer is the same
   * every time (keys and presets are fixed for the process), and checking the signature again
   * was most of what a stored rendition cost beyond serving its file (docs/performance.md).
   * Only URLs that passed are kept, so a forged one is refused afresh each time.
   */
  prepare(id: string, rawQuery: string, accept: string | undefined): PreparedRendition {
    // An Accept no browser sends (browsers send under 200 bytes) is checked, not kept.
    if (accept !== undefined && accept.length > keptAcceptLength) {
      return this.prepareAfresh(id, rawQuery, accept);
    }
    const asked = `${accept ?? ''}\n${id}?${rawQuery}`;
    const known = this.prepared.get(asked);
    if (known !== undefined) return known;
    const prepared = this.prepareAfresh(id, rawQuery, accept);
    this.prepared.set(asked, prepared);
    // The oldest goes first: a page's URLs come back often while it is being viewed.
    if (this.prepared.size > preparedUrls) this.prepared.delete(this.prepared.keys().next().value!);
    return prepared;
  }

  private prepareAfresh(
    id: string,
    rawQuery: string,
    accept: string | undefined,
  ): PreparedRendition {
    if (!isImageId(id)) throw new AppError('not_found');
    const { presets, presetFormat, presetQuality, maxPixels, signingKeys } = this.options;
    const parsed = parseRenditionQuery(rawQuery, presets);
    const presetAlone = parsed.signed.size === 1 && parsed.signed.has('preset');
    if (signingKeys.length > 0 && !presetAlone) {
      const path = renditionPath(id);
      if (
        parsed.sig === undefined ||
        !renditionSignatureMatches(path, parsed.signed, parsed.sig, signingKeys)
      ) {
        throw new AppError('invalid_render_signature');
      }
    }
    const spec = resolveRendition(parsed.query, {
      presets,
      presetFormat,
      presetQuality,
      maxPixels,
      accept,
    });
    // The key names the rendition's bytes: its object's name and its ETag.
    const key = `r-${renditionKey(id, spec)}`;
    return {
      id,
      spec,
      objectName: `${id}.${key}.${extensionOf(contentTypes[spec.format])}`,
      etag: `"${key}"`,
      variesByAccept:
        (parsed.query.format ?? (parsed.query.preset ? presetFormat : 'auto')) === 'auto',
      contentType: contentTypes[spec.format],
    };
  }

  /**
   * Removes every stored rendition of an image, e.g. once its focal point changed (renditions
   * are named by their parameters, not by the focus they were cropped around).
   */
  async removeAll(id: string): Promise<void> {
    const { store } = this.options;
    const names = await fromStore(store.list(`${id}.r-`));
    await fromStore(Promise.all(names.map((name) => store.delete(name))));
  }

  /** Whether the rendition is stored (for a conditional request's 304). */
  async isStored(rendition: PreparedRendition, signal?: AbortSignal): Promise<boolean> {
    return (await fromStore(this.options.store.stat(rendition.objectName, signal))) !== undefined;
  }

  /** The stored rendition, or a new one rendered (once for all concurrent asks) and stored. */
  async open(rendition: PreparedRendition, signal?: AbortSignal): Promise<RenditionBody> {
    const stored = await fromStore(this.options.store.read(rendition.objectName, signal));
    if (stored !== undefined) {
      this.options.count?.('stored');
      return { kind: 'stored', body: stored.body, size: stored.size };
    }
    let render = this.inFlight.get(rendition.objectName);
    if (render === undefined) {
      // Not cancelled by this client going away: the others waiting on it, and the next
      // request for this size, still want it.
      render = this.renderAndStore(rendition);
      this.inFlight.set(rendition.objectName, render);
      const forget = (): void => void this.inFlight.delete(rendition.objectName);
      render.then(forget, forget);
    }
    return { kind: 'rendered', bytes: (await render).bytes };
  }

  /**
   * The original of `id`: its name and type, and its focal point when the rendition crops
   * around it. Finding it by its id takes one stat per allowed type (7 by default; on GCS, as
   * many requests); ids are never reused and an original never changes its name or type, so
   * what one render found serves the next ones. Whether it is still there is not known from
   * this: a deleted original is found missing when the render loads it, as it would be a
   * moment later; its entry goes then. The focal point can change (PATCH): read afresh.
   */
  private async findOriginal(rendition: PreparedRendition): Promise<Original> {
    const { id } = rendition;
    const needsFocus = rendition.spec.gravity === 'focus';
    const known = needsFocus ? undefined : this.originals.get(id);
    if (known !== undefined) {
      // Most recently used last: the first in the map is the one to let go.
      this.originals.delete(id);
      this.originals.set(id, known);
      return known;
    }
    const { store, allowedTypes } = this.options;
    const record = await fromStore(findStoredImage(store, id, allowedTypes));
    if (record === undefined) throw new AppError('not_found');
    this.originals.delete(id);
    this.originals.set(id, { name: record.name, contentType: record.contentType });
    while (this.originals.size > knownOriginals) {
      this.originals.delete(this.originals.keys().next().value!);
    }
    return { name: record.name, contentType: record.contentType, focus: record.focus };
  }

  private async renderAndStore(rendition: PreparedRendition): Promise<Rendered> {
    try {
      return await this.renderAndStoreFound(rendition, await this.findOriginal(rendition));
    } catch (error) {
      if (isAppError(error) && error.code === 'not_found') this.originals.delete(rendition.id);
      throw error;
    }
  }

  private async renderAndStoreFound(
    rendition: PreparedRendition,
    record: Original,
  ): Promise<Rendered> {
    const { store } = this.options;
    const type = record.contentType;
    if (!canRender(type)) {
      throw new AppError('undecodable_image', {
        message: `Renditions of ${type} images cannot be made by this server.`,
      });
    }
    const load = async (): Promise<Buffer | string> => {
      // A file sharp opens itself: no copy of the original in JavaScript, nothing to collect
      // (read into a Buffer, the original's bytes and their chunks were half of a render's
      // main-thread time, most of it the garbage collector's; docs/performance.md).
      if (store.filePath !== undefined) return store.filePath(record.name);
      const original = await fromStore(store.read(record.name));
      if (original === undefined) throw new AppError('not_found');
      return readWhole(original.body, original.size);
    };
    const spec = { ...rendition.spec, focus: record.focus };
    const rendered = await renderImage(load, type, spec, {
      maxInputPixels: this.options.maxInputPixels,
      maxOutputPixels: this.options.maxPixels,
      timeoutSeconds: this.options.decodeTimeoutSeconds,
      limit: this.options.limit,
      heifDecoder: this.options.heifDecoder,
    }).catch(async (error: unknown) => {
      // Deleted since it was found: its file is gone before sharp opened it. Not the image's fault.
      if (!(await fromStore(store.exists(record.name)))) throw new AppError('not_found');
      throw error;
    });
    this.options.count?.('rendered');
    try {
      await store.put(rendition.objectName, rendered.bytes, {
        contentType: rendered.contentType,
        metadata: { renditionOf: rendition.id, rendition: canonicalRendition(rendition.spec) },
      });
    } catch (error) {
      // Another instance stored this rendition first: the same parameters, the same image.
      if (!(isStorageError(error) && error.kind === 'exists')) throw asAppError(error);
      return rendered;
    }
    // The image may have been deleted while this was rendering. Its delete lists renditions
    // once more after removing the original, so one stored before that listing is removed by
    // it; one stored after it finds the original gone here and removes itself.
    if (!(await fromStore(store.exists(record.name)))) {
      await fromStore(store.delete(rendition.objectName));
      throw new AppError('not_found');
    }
    return rendered;
  }
}

async function fromStore<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw asAppError(error);
  }
}

function asAppError(error: unknown): unknown {
  return isStorageError(error) ? storageUnavailable(error) : error;
}

/**
 * The original's bytes, which sharp reads whole (a JPEG shrinks on load from a buffer as from
 * a file). `size` is what the store reported: an object never grows, so more is an error.
 */
async function readWhole(body: Readable, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let offset = 0;
  try {
    for await (const chunk of body) {
      const piece = chunk as Buffer;
      if (offset + piece.length > size) throw new Error('the object is larger than its size');
      piece.copy(bytes, offset);
      offset += piece.length;
    }
  } catch (error) {
    body.destroy();
    throw storageUnavailable(error);
  }
  if (offset !== size) throw storageUnavailable(new Error('the object ended before its size'));
  return bytes;
}
