import { storageUnavailable } from '../errors.js';
import type { HeifDecoder } from '../images/codecs/heif/index.js';
import { needsDisplayRendition } from '../images/display-rendition.js';
import type { ImageMimeType } from '../images/image-types.js';
import type { Placeholder } from '../images/placeholder.js';
import type { ConcurrencyLimit } from '../images/semaphore.js';
import type { VariantFormat, VariantSpec } from '../images/variant-spec.js';
import { makeDerivatives, type Variant, type VariantOptions } from '../images/variants.js';
import { isStorageError, type ObjectStore } from '../storage/object-store.js';
import { variantObjectMetadata, variantObjectName, type StoredVariant } from './image-record.js';
import type { ImageValidationOptions } from './validate-image.js';

/** IMAGE_VARIANTS and IMAGE_PLACEHOLDERS, as the pipeline gets them. */
export interface IngestVariants {
  readonly specs: readonly VariantSpec[];
  readonly format: VariantFormat;
  readonly quality: number;
  readonly placeholders: boolean;
  /** One per app (IMAGE_VARIANT_CONCURRENCY): originals whose variants are made at once. */
  readonly limit: ConcurrencyLimit;
  /** HEIC_DECODER, chosen at start-up; the process-wide WebAssembly one when undefined. */
  readonly heifDecoder?: HeifDecoder | undefined;
}

/**
 * Whether an upload of `type` has anything made from it. An image browsers cannot show always
 * does: its display rendition, which is also the decode that proves it (decode mode).
 */
export function derivesImages(type: ImageMimeType, variants: IngestVariants | undefined): boolean {
  if (needsDisplayRendition(type)) return true;
  if (variants === undefined) return false;
  return variants.specs.length > 0 || variants.placeholders;
}

export interface DerivedImagesContext {
  readonly store: ObjectStore;
  readonly signal: AbortSignal | undefined;
  /** The name is shared by every retry of one idempotent request. */
  readonly idempotent: boolean;
  readonly variants: IngestVariants;
  /** The same pixel limit and time limit as validation. */
  readonly validation: ImageValidationOptions;
}

/**
 * What one upload makes from its validated image: the variants and the display rendition,
 * stored under names derived from the image's id before the original is, and the placeholder
 * that goes into the original's record. What it created is removed again if the original is
 * not stored.
 */
export class DerivedImages {
  /** The variants stored, once they are. */
  stored: StoredVariant[] | undefined;
  placeholder: Placeholder | undefined;
  /** The display rendition stored, for a type browsers cannot show. */
  display: StoredVariant | undefined;
  /** Variant objects this upload created. */
  private readonly created: string[] = [];

  constructor(
    private readonly id: string,
    private readonly type: ImageMimeType,
    private readonly context: DerivedImagesContext,
  ) {}

  /** Makes the variants and placeholder from `input` (the bytes or a spool file), stores the variants. */
  async makeAndStore(input: Buffer | string): Promise<void> {
    const { specs, format, quality, placeholders, limit, heifDecoder } = this.context.variants;
    const { signal, validation } = this.context;
    const options: VariantOptions & { placeholder: boolean } = {
      maxPixels: validation.maxPixels,
      timeoutSeconds: validation.decodeTimeoutSeconds,
      format,
      quality,
      limit,
      placeholder: placeholders,
      display: needsDisplayRendition(this.type),
      heifDecoder,
      ...(signal === undefined ? {} : { signal }),
    };
    const made = await makeDerivatives(input, this.type, specs, options);
    const stored: StoredVariant[] = [];
    // One at a time, in the order listed: a failure leaves only what came before to remove.
    if (made.display !== undefined) this.display = await this.put(made.display);
    for (const variant of made.variants) stored.push(await this.put(variant));
    this.stored = stored;
    this.placeholder = made.placeholder;
  }

  /** Removes the variants this upload stored, the original `originalName` having failed. */
  async removeCreated(originalName: string): Promise<void> {
    const names = this.created.splice(0);
    if (names.length === 0) return;
    const { store, idempotent } = this.context;
    if (idempotent) {
      // An original under this name is a concurrent request's, whose answer lists them.
      const original = await store.stat(originalName).catch(() => undefined);
      if (original !== undefined) return;
    }
    await Promise.all(names.map((name) => store.delete(name).catch(() => undefined)));
  }

  private async put(variant: Variant): Promise<StoredVariant> {
    const { store, signal, idempotent } = this.context;
    const objectName = variantObjectName(this.id, variant.name, variant.extension);
    try {
      await store.put(objectName, variant.bytes, {
        contentType: variant.contentType,
        metadata: variantObjectMetadata(this.id, variant.name),
        signal,
        sharedName: idempotent,
      });
      this.created.push(objectName);
    } catch (error) {
      // A concurrent request with the same key stored it (the same image makes the same
      // variant; another image is refused when its original meets the earlier one's name).
      if (!(idempotent && isStorageError(error) && error.kind === 'exists')) {
        throw isStorageError(error) ? storageUnavailable(error) : error;
      }
    }
    return {
      name: variant.name,
      objectName,
      width: variant.width,
      height: variant.height,
      frames: variant.frames > 1 ? variant.frames : undefined,
      bytes: variant.bytes.length,
      contentType: variant.contentType,
    };
  }
}
