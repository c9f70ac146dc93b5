import type { Readable } from 'node:stream';
import { v4 as uuidv4 } from 'uuid';
import { AppError, isAppError, storageUnavailable } from '../errors.js';
import type { ImageMimeType } from '../images/image-types.js';
import { createImageWalk, type ContainerWalker, type ImageFacts } from '../images/formats/index.js';
import { canMakeVariants } from '../images/variants.js';
import { isStorageError, type ObjectStore, type PutOptions } from '../storage/object-store.js';
import { BodyReader } from './body-reader.js';
import { DerivedImages, derivesImages, type IngestVariants } from './derived-images.js';
import { oneFocus } from './focal-point.js';
import { sharedImageJobLimit } from '../images/open-image.js';
import { fingerprintOf, type ImageFingerprint } from './fingerprint.js';
import type { HeldImageBuffers } from './held-image-buffers.js';
import {
  findEarlierObject,
  idFromIdempotencyKey,
  isSameUpload,
  lacksSha256,
  type EarlierObject,
} from './idempotency.js';
import { ImageBytes } from './image-bytes.js';
import type { UploaderKeys } from './uploader-keys.js';
import {
  describeImage,
  fromStoredObject,
  sha256Metadata,
  toObjectMetadata,
  variantUrlsOf,
  type ImageDescription,
  type ImageRecord,
  type FocalPoint,
  type RenditionLinker,
  type RenditionLinks,
} from './image-record.js';
import type { ExpectedImageBytes, ImageHints, ImageSource } from './image-source.js';
import { sniffImageType, sniffSampleBytes, type SniffedType } from './sniff.js';
import { ValidatedStream } from './validated-stream.js';
import { ImageValidator, type ImageValidationOptions } from './validate-image.js';

export interface IngestLimits {
  readonly maxImageBytes: number;
  readonly allowedTypes: readonly ImageMimeType[];
  /**
   * Images up to this size are held in memory and handed to the store as one buffer, which
   * the store may retry; larger ones are streamed to the store as they arrive.
   */
  readonly streamingThresholdBytes: number;
}

export interface IngestContext {
  readonly store: ObjectStore;
  /** Where held images are kept and how they are hashed; one per app, reused. */
  readonly heldImageBuffers: HeldImageBuffers;
  readonly limits: IngestLimits;
  readonly signal?: AbortSignal | undefined;
  /** How deeply the image is verified before it is published; strict by default. */
  readonly validation?: ImageValidationOptions | undefined;
  /**
   * From the Idempotency-Key header: the id is derived from it (and `scope`), and a repeat of
   * the same upload returns the object the first one stored instead of a second one.
   */
  readonly idempotencyKey?: string | undefined;
  /** Who is asking, so that keys never collide between callers. */
  readonly scope?: string | undefined;
  /** The authenticated caller, recorded as the image's owner; undefined when anonymous. */
  readonly owner?: string | undefined;
  /**
   * UPLOADER_SECRET's keys (uploaderKeysFor): the uploader is kept as an HMAC, and an
   * anonymous upload's delete token is one.
   */
  readonly uploaderKeys: UploaderKeys;
  /**
   * IMAGE_METADATA: `strip` (the default) stores the image without its location and personal
   * metadata (src/images/formats/), `keep` stores the bytes as they came.
   */
  readonly metadata?: 'strip' | 'keep' | undefined;
  /**
   * IMAGE_VARIANTS and IMAGE_PLACEHOLDERS: what is made from each image once it is validated,
   * and stored before the original is. Undefined (or nothing to make): nothing is decoded.
   */
  readonly variants?: IngestVariants | undefined;
  /**
   * The focal point the Image-Focus header gave (any door); one the body carries comes in its
   * source's hints, and both at once are refused (focal-point.ts).
   */
  readonly focus?: FocalPoint | undefined;
  /** Where the answer says the image's renditions are; left out, it says nothing of them. */
  readonly renditionLinks?: RenditionLinker | undefined;
}

/** A stored image: its record, its URL, and the uploader's delete token when it gets one. */
export interface IngestedImage {
  readonly record: ImageRecord;
  readonly url: string;
  /** For anonymous uploads: the secret that lets this uploader delete the image. */
  readonly deleteToken: string | undefined;
  /** The URL of each variant, by name; undefined when there are none. */
  readonly variantUrls?: Readonly<Record<string, string>> | undefined;
  /** Where its renditions are (IngestContext.renditionLinks). */
  readonly renditions?: RenditionLinks | undefined;
}

/** A stored image as the pipeline answers it: its URL, its variants' and its renditions'. */
export function ingestedImage(
  record: ImageRecord,
  deleteToken: string | undefined,
  { store, renditionLinks }: Pick<IngestContext, 'store' | 'renditionLinks'>,
): IngestedImage {
  return {
    record,
    url: store.publicUrl(record.name),
    deleteToken,
    variantUrls: variantUrlsOf(record, (name) => store.publicUrl(name)),
    renditions: renditionLinks?.(record),
  };
}

/** The 201 body: the image's description, and the delete token of an anonymous upload. */
export type CreatedImage = ImageDescription & { readonly deleteToken?: string };

export function createdImage(image: IngestedImage): CreatedImage {
  return {
    ...describeImage(image.record, image.url, image.variantUrls, image.renditions),
    ...(image.deleteToken === undefined ? {} : { deleteToken: image.deleteToken }),
  };
}

/** Without IMAGE_VARIANTS: only what a type browsers cannot show needs (its display rendition). */
const noVariants: IngestVariants = {
  specs: [],
  format: 'webp',
  quality: 80,
  placeholders: false,
  limit: sharedImageJobLimit,
};

export const defaultImageValidation: ImageValidationOptions = {
  mode: 'decode',
  maxPixels: 100_000_000,
  decodeTimeoutSeconds: 10,
};

/**
 * The one upload path, whatever door the image came through: read the body until its type can
 * be decided, sniff it from the bytes, name it, then validate and store it, held in memory or
 * streamed. Nothing is handed to the store before the type is known to be allowed, and any
 * failure, however late, leaves no object behind.
 */
export async function ingestImage(
  source: ImageSource,
  context: IngestContext,
): Promise<IngestedImage> {
  const { limits, heldImageBuffers } = context;
  // A body that declares more than the threshold goes to the store as soon as its type is
  // known: holding its first megabytes would only cost memory.
  const streamEarly = (source.expectedBytes.atLeast ?? 0) > limits.streamingThresholdBytes;
  const image = new ImageBytes(
    limits.maxImageBytes,
    heldImageBuffers,
    initialCapacity(source.expectedBytes, streamEarly),
  );
  const upload = new Upload(source, image, context);
  try {
    return await upload.run(streamEarly);
  } catch (error) {
    source.abandon?.(error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    // After a failed write the store may still be reading the held buffer for a moment.
    image.dispose(upload.writeFailed);
  }
}

/** How much to make room for at first: the whole image, when the body declared its length. */
function initialCapacity(expected: ExpectedImageBytes, streamEarly: boolean): number | undefined {
  return streamEarly ? undefined : expected.atMost;
}

/**
 * An image checked as its bytes arrived (a tus upload's arrival check, src/uploads/): its type,
 * facts and the fingerprint of the bytes staged for it, which `write` makes the object `name`
 * as ObjectStore.put would (create-only, the same content type and metadata), without this
 * process reading them again.
 */
export interface CheckedImage {
  readonly type: SniffedType;
  readonly facts: ImageFacts;
  readonly fingerprint: ImageFingerprint;
  readonly hints: ImageHints;
  readonly write: (name: string, options: PutOptions) => Promise<void>;
}

/**
 * Whether a checked image is published as it was staged: nothing is left to learn from its
 * bytes. Decode mode decodes them, and variants and a display rendition are made from them:
 * those go through the pipeline (`ingestImage`), which reads them once.
 */
export function publishesAsChecked(type: ImageMimeType, context: IngestContext): boolean {
  return (
    (context.validation ?? defaultImageValidation).mode === 'structure' &&
    !derivesImages(type, context.variants)
  );
}

/**
 * The end of the one upload path for an image checked as it arrived: named, replayed under an
 * idempotency key, described and written as `ingestImage` does, from the facts and hash the
 * check found.
 */
export async function publishCheckedImage(
  image: CheckedImage,
  context: IngestContext,
): Promise<IngestedImage> {
  const noBody: ImageSource = {
    hints: image.hints,
    expectedBytes: {},
    readMore: () => Promise.resolve(false),
  };
  const bytes = new ImageBytes(context.limits.maxImageBytes, context.heldImageBuffers, 1);
  try {
    return await new Upload(noBody, bytes, context).publishChecked(image);
  } finally {
    bytes.dispose(false);
  }
}

/** Where an image goes: its type, id and name, and what its record will say of its upload. */
interface Target {
  readonly type: SniffedType;
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly deleteToken: string | undefined;
  /** What the record keeps of its uploader (UploaderKeys.uploaderOf). */
  readonly uploader: string;
}

/** One upload's steps, in the order `run` takes them. */
class Upload {
  writeFailed = false;
  private readonly body: BodyReader;
  private readonly validation: ImageValidationOptions;
  private readonly idempotent: boolean;
  private heldFingerprint: ImageFingerprint | undefined;
  private storeStream: ValidatedStream | undefined;
  /** The one walk of the image's container, which the body passes every byte through. */
  private walker: ContainerWalker | undefined;
  /** The variants and placeholder made from the image, once variants are on. */
  private derivatives: DerivedImages | undefined;
  /** Variants being made and stored (streamed: inside the store's stream). */
  private deriving: Promise<void> | undefined;

  constructor(
    private readonly source: ImageSource,
    private readonly image: ImageBytes,
    private readonly context: IngestContext,
  ) {
    this.idempotent = context.idempotencyKey !== undefined;
    this.body = new BodyReader(source, image, context.heldImageBuffers);
    this.validation = context.validation ?? defaultImageValidation;
  }

  async run(streamEarly: boolean): Promise<IngestedImage> {
    await this.readHead(streamEarly);
    const type = await sniffImageType(
      this.image.heldImage().subarray(0, sniffSampleBytes),
      this.context.limits.allowedTypes,
    );
    this.walkImage(type);
    const target = await this.targetFor(type);
    if (this.idempotent) {
      const earlier = await this.findEarlier(target, this.context.limits.allowedTypes);
      if (earlier !== undefined) {
        // MD5 only for an earlier object without a sha256 to compare; known before any hashing.
        if (lacksSha256(earlier)) this.body.alsoMd5();
        return this.replay(target, earlier);
      }
    }
    return this.body.ended ? this.storeHeld(target) : this.storeStreamed(target);
  }

  /** An image checked as it arrived (publishCheckedImage): its bytes are staged already. */
  async publishChecked(image: CheckedImage): Promise<IngestedImage> {
    // Whatever asks for the whole image's fingerprint (a replay) gets the check's.
    this.heldFingerprint = image.fingerprint;
    const target = await this.targetFor(image.type);
    if (this.idempotent) {
      const earlier = await this.findEarlier(target, this.context.limits.allowedTypes);
      if (earlier !== undefined) return this.replay(target, earlier);
    }
    const record = this.recordOf(target, image.facts, image.fingerprint);
    return this.put(
      target,
      image.write,
      { metadata: { ...toObjectMetadata(record), ...sha256Metadata(record.sha256) } },
      () => record,
    );
  }

  /** Reads until the type can be decided and it is known whether the image fits in memory. */
  private async readHead(streamEarly: boolean): Promise<void> {
    const threshold = this.context.limits.streamingThresholdBytes;
    await this.body.readUpTo(
      streamEarly ? sniffSampleBytes : Math.max(sniffSampleBytes, threshold + 1),
    );
    if (this.image.bytes === 0) throw new AppError('empty_image');
  }

  /**
   * From here on every byte of the body passes once through the walk of its format, which
   * checks its structure, reads its facts and hands on the image as it will be stored: without
   * location and personal metadata, unless IMAGE_METADATA=keep. Config refuses to start with
   * an allowed type that has metadata and no lossless route, so a type without one carries
   * none; a type without a grammar is checked by decoding alone.
   */
  private walkImage(type: SniffedType): void {
    this.walker = createImageWalk(type.contentType, this.validation.maxPixels, {
      strip: this.context.metadata !== 'keep',
    });
    if (this.walker !== undefined) this.body.walkWith(this.walker);
  }

  private async targetFor(type: SniffedType): Promise<Target> {
    const { idempotencyKey, scope, owner } = this.context;
    const keys = this.context.uploaderKeys;
    const id =
      idempotencyKey === undefined ? uuidv4() : idFromIdempotencyKey(idempotencyKey, scope ?? '');
    return {
      type,
      id,
      name: `${id}.${type.extension}`,
      createdAt: new Date().toISOString(),
      // An authenticated owner deletes as itself; only an anonymous uploader needs a secret.
      // Derived from the id under the server's secret: a replay hands back the same one.
      deleteToken: owner === undefined ? await keys.deleteToken(id) : undefined,
      uploader: await keys.uploaderOf(id, owner),
    };
  }

  /** An image that ended within the threshold: validated and hashed whole, stored in one write. */
  private async storeHeld(target: Target): Promise<IngestedImage> {
    const image = this.image.heldImage();
    // A slab's hash runs on the worker thread while the event loop walks the container.
    const fingerprinting = fingerprintOf(image, false, this.context.heldImageBuffers);
    let facts: ImageFacts;
    try {
      // Already in memory: sharp reads it from there, there is nothing to spool.
      const validator = new ImageValidator(
        target.type.contentType,
        { ...this.validation, spoolDirectory: undefined },
        this.walker,
      );
      await validator.write(image);
      facts = await validator.finish();
    } finally {
      // Settled either way, so a failed validation leaves no unhandled rejection behind.
      await fingerprinting.catch(() => undefined);
    }
    const fingerprint = await fingerprinting;
    this.heldFingerprint = fingerprint;
    try {
      // From the held buffer, which goes back to the pool only once `run` has returned.
      if (this.makesVariants(target)) await this.deriveAndStore(target, image);
      const record = this.recordOf(target, facts, fingerprint);
      return await this.put(
        target,
        image,
        {
          metadata: { ...toObjectMetadata(record), ...sha256Metadata(fingerprint.sha256) },
        },
        () => record,
      );
    } catch (error) {
      await this.removeVariants(target);
      throw error;
    }
  }

  /**
   * An image past the threshold: streamed to the store as it arrives, each chunk hashed and
   * validated on its way. Its facts and hash are known only once the stream has ended, and
   * reach the store then (`finalMetadata`).
   */
  private async storeStreamed(target: Target): Promise<IngestedImage> {
    const variants = this.makesVariants(target);
    // Variants are made from a copy: the spool file, in structure mode too.
    const validator = new ImageValidator(
      target.type.contentType,
      { ...this.validation, keepCopy: variants },
      this.walker,
    );
    const stream = new ValidatedStream(
      this.body,
      validator,
      // Once the whole image is proven and before its stream ends: the original is not
      // committed yet, and a failure here fails its write.
      variants ? (kept) => this.deriveAndStore(target, kept.input) : undefined,
    );
    this.storeStream = stream;
    const recordAtEnd = (): ImageRecord =>
      this.recordOf(target, stream.facts!, this.body.streamedFingerprint());
    try {
      return await this.put(
        target,
        stream.readable,
        {
          metadata: {},
          finalMetadata: () => {
            const record = recordAtEnd();
            return { ...toObjectMetadata(record), ...sha256Metadata(record.sha256) };
          },
        },
        recordAtEnd,
        () => stream.storeFinished(),
      );
    } catch (error) {
      // The store may give up while variants are still being stored: let them land first.
      await this.deriving?.catch(() => undefined);
      await this.removeVariants(target);
      // Belt and braces: should a driver ever commit a stream that ended in an error, the
      // image must still not stay published. Not for an idempotent name, which may belong to
      // a concurrent request's valid upload.
      if (stream.bodyFailure !== undefined && !this.idempotent) {
        await this.context.store.delete(target.name).catch(() => undefined);
      }
      throw error;
    } finally {
      // However the upload ended (the store failed, the client left, a chunk was refused),
      // the spool file goes with it.
      await validator.dispose();
    }
  }

  /** Writes the object, turning the store's failures (or the body's, which caused them) into API errors. */
  private async put(
    target: Target,
    content: Buffer | Readable | CheckedImage['write'],
    options: Pick<PutOptions, 'metadata' | 'finalMetadata'>,
    record: () => ImageRecord,
    onSettled?: () => void,
  ): Promise<IngestedImage> {
    const { store, signal } = this.context;
    try {
      const putOptions: PutOptions = {
        ...options,
        contentType: target.type.contentType,
        signal,
        sharedName: this.idempotent,
      };
      await (typeof content === 'function'
        ? content(target.name, putOptions)
        : store.put(target.name, content, putOptions));
    } catch (error) {
      this.writeFailed = true;
      onSettled?.();
      const cause = this.storeStream?.bodyFailure;
      if (cause !== undefined) throw cause;
      if (isAppError(error)) throw error;
      if (this.idempotent && isStorageError(error) && error.kind === 'exists') {
        // A concurrent request with the same key won the race to the name (the precondition
        // refused our write): answer as if it had come first.
        return this.replay(target, await this.findEarlier(target, [target.type.contentType]));
      }
      if (isStorageError(error)) throw storageUnavailable(error);
      throw error;
    }
    onSettled?.();
    return ingestedImage(record(), target.deleteToken, this.context);
  }

  private makesVariants(target: Target): boolean {
    const type = target.type.contentType;
    // A type sharp cannot decode (none today among the allowed ones) is stored without them.
    return derivesImages(type, this.context.variants) && canMakeVariants(type);
  }

  /** Makes the variants and placeholder from the validated image, and stores the variants. */
  private deriveAndStore(target: Target, input: Buffer | string): Promise<void> {
    this.derivatives = new DerivedImages(target.id, target.type.contentType, {
      store: this.context.store,
      signal: this.context.signal,
      idempotent: this.idempotent,
      variants: this.context.variants ?? noVariants,
      validation: this.validation,
    });
    this.deriving = this.derivatives.makeAndStore(input);
    return this.deriving;
  }

  /** Removes the variants this upload stored, its original having failed (or never come). */
  private async removeVariants(target: Target): Promise<void> {
    await this.derivatives?.removeCreated(target.name);
  }

  private async findEarlier(
    target: Target,
    types: readonly ImageMimeType[],
  ): Promise<EarlierObject | undefined> {
    try {
      return await findEarlierObject(this.context.store, target.id, types, this.context.signal);
    } catch (error) {
      throw storageUnavailable(error);
    }
  }

  /** The answer for a key seen before: the earlier object if it is this very upload, else 422. */
  private async replay(target: Target, earlier: EarlierObject | undefined): Promise<IngestedImage> {
    // Only the hash of the whole image can say "same upload".
    const upload = { name: target.name, ...(await this.wholeFingerprint()) };
    if (earlier !== undefined && lacksSha256(earlier) && upload.md5 === undefined) {
      // Found only after this body was hashed without MD5: a concurrent first upload whose
      // sha256 is not written yet (a streamed GCS object gets it after its last chunk).
      throw new AppError('storage_unavailable', { headers: { 'Retry-After': '1' } });
    }
    if (earlier === undefined || !isSameUpload(earlier, upload)) {
      throw new AppError('idempotency_key_reused');
    }
    const record = fromStoredObject(earlier.name, target.type.contentType, earlier.info);
    if (record === undefined) {
      // The first upload's bytes are in, its facts not yet (a streamed GCS object gets them in
      // the update after its last chunk): a moment later the replay can answer in full.
      throw new AppError('storage_unavailable', { headers: { 'Retry-After': '1' } });
    }
    return ingestedImage(record, target.deleteToken, this.context);
  }

  /** The fingerprint of the whole image, reading the rest of the body if need be. */
  private async wholeFingerprint(): Promise<ImageFingerprint> {
    if (this.heldFingerprint !== undefined) return this.heldFingerprint;
    if (this.storeStream !== undefined) {
      // The store gave up on its stream: let that reader stop before this one goes on.
      const failure = await this.storeStream.stop();
      if (failure !== undefined) throw failure;
    }
    return this.body.readToEnd();
  }

  private recordOf(target: Target, facts: ImageFacts, fingerprint: ImageFingerprint): ImageRecord {
    return {
      id: target.id,
      name: target.name,
      contentType: target.type.contentType,
      extension: target.type.extension,
      bytes: fingerprint.bytes,
      sha256: fingerprint.sha256,
      width: facts.width,
      height: facts.height,
      frames: facts.frames,
      orientation: facts.orientation,
      createdAt: target.createdAt,
      uploader: target.uploader,
      variants: this.derivatives?.stored,
      placeholder: this.derivatives?.placeholder,
      // The body has ended by now: a form field after the image is known.
      focus: oneFocus(this.context.focus, this.source.hints.focus),
      display: this.derivatives?.display,
    };
  }
}
