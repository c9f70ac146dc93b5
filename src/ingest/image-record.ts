import { displayRendition } from '../images/display-rendition.js';
import { isKnownImageType, extensionOf } from '../images/image-types.js';
import type { Placeholder } from '../images/placeholder.js';
import type { StoredObjectInfo } from '../storage/object-store.js';

/** A resized copy of an image, stored beside it as `<id>.<name>.<extension>`. */
export interface StoredVariant {
  /** The variant's name in IMAGE_VARIANTS. */
  readonly name: string;
  readonly objectName: string;
  /** Size of one frame. */
  readonly width: number;
  readonly height: number;
  /** Frames of an animated variant; undefined for a still one. */
  readonly frames: number | undefined;
  readonly bytes: number;
  readonly contentType: string;
}

/** The object name of a variant: derived from the id, so it never needs to be looked up. */
export function variantObjectName(id: string, variant: string, extension: string): string {
  return `${id}.${variant}.${extension}`;
}

/** What a variant object carries, so that nothing mistakes it for an original. */
export function variantObjectMetadata(id: string, variant: string): Record<string, string> {
  return { variantOf: id, variant };
}

/**
 * What the service knows about one stored image, and how that is kept: in the object's own
 * custom metadata (GCS object metadata; the local driver's sidecar), so that an image can be
 * described again later without any database. The service stays stateless.
 */
export interface ImageRecord {
  readonly id: string;
  /** `<id>.<extension>`, the object's name. */
  readonly name: string;
  readonly contentType: string;
  readonly extension: string;
  /** Size and hash of the stored bytes. */
  readonly bytes: number;
  readonly sha256: string;
  /** As the image is displayed (EXIF orientations 5 to 8 swap the stored axes). */
  readonly width: number;
  readonly height: number;
  /** Frames of an animation; undefined for a still image. */
  readonly frames: number | undefined;
  /**
   * The EXIF orientation the stored image carries (1 to 8; 1 when it has none). Browsers apply
   * it; `width` and `height` already have.
   */
  readonly orientation: number;
  /** ISO 8601, when the upload was accepted. */
  readonly createdAt: string;
  /**
   * Who uploaded it, as an HMAC of the id and the uploader that only this service can check
   * (UploaderKeys in uploader-keys.ts); it names nobody, though the object's metadata is
   * public. Undefined on an image stored before it was kept.
   */
  readonly uploader: string | undefined;
  /** Kept, in clear, by images stored before `uploader`: read and compared, never written. */
  readonly legacyOwner?: string | undefined;
  /** SHA-256 (hex) of the delete token, kept by images stored before `uploader`; never written. */
  readonly legacyDeleteTokenSha256?: string | undefined;
  /** Its variants (IMAGE_VARIANTS), in the order listed; undefined or empty when none. */
  readonly variants?: readonly StoredVariant[] | undefined;
  /** Its placeholder (IMAGE_PLACEHOLDERS); undefined when none was made. */
  readonly placeholder?: Placeholder | undefined;
  /** Its focal point (0..1 from the left and the top), for crops with gravity=focus. */
  readonly focus?: FocalPoint | undefined;
  /**
   * The rendition every browser shows, for a type they cannot (HEIC, HEIF, TIFF); undefined
   * when the original itself is shown.
   */
  readonly display?: StoredVariant | undefined;
}

/** What a browser is shown of an image: the original, or its display rendition. */
export interface DisplayDescription {
  readonly url: string;
  readonly width: number;
  readonly height: number;
  readonly contentType: string;
}

export interface FocalPoint {
  readonly x: number;
  readonly y: number;
}

/**
 * Reads a focal point as written in a header, a form field or tus metadata: `x,y`, each a
 * number from 0 to 1 (`0.5,0.3`). Undefined when it is not one.
 */
export function parseFocalPoint(text: string): FocalPoint | undefined {
  const match =
    /^\s*(0(?:\.[0-9]{1,6})?|1(?:\.0{1,6})?)\s*,\s*(0(?:\.[0-9]{1,6})?|1(?:\.0{1,6})?)\s*$/.exec(
      text,
    );
  return match === null ? undefined : { x: Number(match[1]), y: Number(match[2]) };
}

/** The metadata entry that keeps a focal point (set at upload, or by PATCH later). */
export function focusMetadata(focus: FocalPoint): Record<string, string> {
  return { [keys.focus]: `${focus.x},${focus.y}` };
}

/** A variant as the JSON describes it. */
export interface VariantDescription {
  readonly url: string;
  readonly width: number;
  readonly height: number;
  readonly frames?: number;
  readonly bytes: number;
  readonly contentType: string;
}

/**
 * Where the image's renditions are (src/renditions/rendition-links.ts makes them): an
 * `<img srcset>` value, each of its widths with its URL, and the URL of each preset.
 */
export interface RenditionLinks {
  readonly srcset: string;
  readonly widths: { readonly width: number; readonly url: string }[];
  readonly presets?: Readonly<Record<string, string>>;
}

/** Makes an image's rendition links; undefined for an image no rendition can be made of. */
export type RenditionLinker = (record: ImageRecord) => RenditionLinks | undefined;

/** The JSON every 201 and GET /v1/images/{id} answers with. */
export interface ImageDescription {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly contentType: string;
  readonly extension: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
  readonly frames?: number;
  readonly orientation: number;
  readonly createdAt: string;
  readonly variants?: Readonly<Record<string, VariantDescription>>;
  readonly placeholder?: Placeholder;
  readonly focus?: FocalPoint;
  readonly renditions?: RenditionLinks;
  readonly display: DisplayDescription;
}

/** Metadata keys, as kept on the object. */
const keys = {
  sha256: 'sha256',
  width: 'width',
  height: 'height',
  frames: 'frames',
  orientation: 'orientation',
  createdAt: 'createdAt',
  uploader: 'uploader',
  /** Written by earlier versions, read only: they named the uploader to whoever fetched the image. */
  legacyOwner: 'owner',
  legacyDeleteTokenSha256: 'deleteTokenSha256',
  /** One compact JSON string: GCS keeps at most 8 KiB of custom metadata per object. */
  variants: 'variants',
  /** The display rendition, a VariantEntry as JSON. */
  display: 'display',
  thumbhash: 'thumbhash',
  blurhash: 'blurhash',
  color: 'color',
  focus: 'focus',
} as const;

/** One variant in the `variants` key; its object name follows from the id and its type. */
interface VariantEntry {
  readonly width: number;
  readonly height: number;
  readonly frames?: number;
  readonly bytes: number;
  readonly contentType: string;
}

/** The record's facts as custom object metadata (strings only, as GCS keeps them). */
export function toObjectMetadata(
  record: Omit<
    ImageRecord,
    | 'id'
    | 'name'
    | 'contentType'
    | 'extension'
    | 'bytes'
    | 'sha256'
    | 'legacyOwner'
    | 'legacyDeleteTokenSha256'
  >,
): Record<string, string> {
  return {
    [keys.width]: String(record.width),
    [keys.height]: String(record.height),
    ...(record.frames === undefined ? {} : { [keys.frames]: String(record.frames) }),
    [keys.orientation]: String(record.orientation),
    [keys.createdAt]: record.createdAt,
    ...(record.uploader === undefined ? {} : { [keys.uploader]: record.uploader }),
    ...(record.variants === undefined || record.variants.length === 0
      ? {}
      : { [keys.variants]: JSON.stringify(Object.fromEntries(record.variants.map(entryOf))) }),
    ...(record.display === undefined
      ? {}
      : { [keys.display]: JSON.stringify(entryOf(record.display)[1]) }),
    ...(record.placeholder === undefined
      ? {}
      : {
          [keys.thumbhash]: record.placeholder.thumbhash,
          [keys.blurhash]: record.placeholder.blurhash,
          [keys.color]: record.placeholder.color,
        }),
    ...(record.focus === undefined ? {} : focusMetadata(record.focus)),
  };
}

function entryOf(variant: StoredVariant): [string, VariantEntry] {
  return [
    variant.name,
    {
      width: variant.width,
      height: variant.height,
      ...(variant.frames === undefined ? {} : { frames: variant.frames }),
      bytes: variant.bytes,
      contentType: variant.contentType,
    },
  ];
}

const variantNamePattern = /^[a-z][a-z0-9_-]{0,31}$/;

/** The variants a record lists; entries this service would not have written are dropped. */
function variantsOf(id: string, text: string | undefined): StoredVariant[] | undefined {
  const parsed = parseJsonObject(text);
  if (parsed === undefined) return undefined;
  const variants: StoredVariant[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    const variant = storedVariantOf(id, name, value);
    if (variant !== undefined) variants.push(variant);
  }
  return variants;
}

/** The display rendition a record names, if it is one this service would have written. */
function displayOf(id: string, text: string | undefined): StoredVariant | undefined {
  const parsed = parseJsonObject(text);
  return parsed === undefined ? undefined : storedVariantOf(id, displayRendition.name, parsed);
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return parsed as Record<string, unknown>;
}

function storedVariantOf(id: string, name: string, value: unknown): StoredVariant | undefined {
  const entry = value as Partial<VariantEntry> | null;
  const counts = [entry?.width, entry?.height, entry?.bytes];
  if (!variantNamePattern.test(name) || entry === null || typeof entry !== 'object') return;
  if (!counts.every((count) => Number.isSafeInteger(count) && (count as number) >= 0)) return;
  const contentType = entry.contentType;
  if (typeof contentType !== 'string' || !isKnownImageType(contentType)) return;
  return {
    name,
    objectName: variantObjectName(id, name, extensionOf(contentType)),
    width: entry.width!,
    height: entry.height!,
    frames: Number.isSafeInteger(entry.frames) ? entry.frames : undefined,
    bytes: entry.bytes!,
    contentType,
  };
}

function placeholderOf(meta: Readonly<Record<string, string>>): Placeholder | undefined {
  const thumbhash = meta[keys.thumbhash];
  const blurhash = meta[keys.blurhash];
  const color = meta[keys.color];
  if (!thumbhash || !blurhash || !color) return undefined;
  return { thumbhash, blurhash, color };
}

/** The sha256 entry, set once the stored bytes are known in full. */
export function sha256Metadata(sha256: string): Record<string, string> {
  return { [keys.sha256]: sha256 };
}

const nonNegativeInteger = /^(0|[1-9][0-9]{0,9})$/;

/**
 * Reads a record back from a stored object. Undefined when the object does not carry the
 * facts this service writes (it was not stored by this service, or not completely).
 */
export function fromStoredObject(
  name: string,
  contentType: string,
  info: StoredObjectInfo,
): ImageRecord | undefined {
  const meta = info.metadata;
  const dot = name.lastIndexOf('.');
  const width = meta[keys.width];
  const height = meta[keys.height];
  const sha256 = meta[keys.sha256];
  const createdAt = meta[keys.createdAt];
  if (width === undefined || !nonNegativeInteger.test(width)) return undefined;
  if (height === undefined || !nonNegativeInteger.test(height)) return undefined;
  if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  if (createdAt === undefined || Number.isNaN(Date.parse(createdAt))) return undefined;
  const frames = meta[keys.frames];
  const id = name.slice(0, dot);
  return {
    id,
    name,
    contentType,
    extension: name.slice(dot + 1),
    bytes: info.size,
    sha256,
    width: Number(width),
    height: Number(height),
    frames: frames !== undefined && nonNegativeInteger.test(frames) ? Number(frames) : undefined,
    orientation: orientationOf(meta[keys.orientation]),
    createdAt,
    uploader: meta[keys.uploader] || undefined,
    legacyOwner: meta[keys.legacyOwner] || undefined,
    legacyDeleteTokenSha256: meta[keys.legacyDeleteTokenSha256] || undefined,
    variants: variantsOf(id, meta[keys.variants]),
    placeholder: placeholderOf(meta),
    focus: parseFocalPoint(meta[keys.focus] ?? ''),
    display: displayOf(id, meta[keys.display]),
  };
}

/** An object stored before orientation was recorded displays as its pixels are: 1. */
function orientationOf(value: string | undefined): number {
  return value !== undefined && /^[1-8]$/.test(value) ? Number(value) : 1;
}

/**
 * The URL of each of the record's variants, and of its display rendition (under its name,
 * which no variant may take), by name; undefined when it has none.
 */
export function variantUrlsOf(
  record: ImageRecord,
  publicUrl: (objectName: string) => string,
): Readonly<Record<string, string>> | undefined {
  const derived = [
    ...(record.variants ?? []),
    ...(record.display === undefined ? [] : [record.display]),
  ];
  if (derived.length === 0) return undefined;
  return Object.fromEntries(
    derived.map((variant) => [variant.name, publicUrl(variant.objectName)]),
  );
}

/**
 * The public description of a record; owner and delete token stay private. `variantUrls`
 * (variantUrlsOf) holds the URL of each of its variants, `renditions` where its renditions are.
 */
export function describeImage(
  record: ImageRecord,
  url: string,
  variantUrls?: Readonly<Record<string, string>>,
  renditions?: RenditionLinks,
): ImageDescription {
  const urlOf = (variant: StoredVariant): string => {
    const variantUrl = variantUrls?.[variant.name];
    if (variantUrl === undefined) throw new Error(`no URL given for variant ${variant.name}`);
    return variantUrl;
  };
  return {
    id: record.id,
    name: record.name,
    url,
    contentType: record.contentType,
    extension: record.extension,
    bytes: record.bytes,
    sha256: record.sha256,
    width: record.width,
    height: record.height,
    ...(record.frames === undefined ? {} : { frames: record.frames }),
    orientation: record.orientation,
    createdAt: record.createdAt,
    ...(record.variants === undefined || record.variants.length === 0
      ? {}
      : {
          variants: Object.fromEntries(
            record.variants.map((variant) => [
              variant.name,
              {
                url: urlOf(variant),
                width: variant.width,
                height: variant.height,
                ...(variant.frames === undefined ? {} : { frames: variant.frames }),
                bytes: variant.bytes,
                contentType: variant.contentType,
              },
            ]),
          ),
        }),
    ...(record.placeholder === undefined ? {} : { placeholder: record.placeholder }),
    ...(record.focus === undefined ? {} : { focus: record.focus }),
    ...(renditions === undefined ? {} : { renditions }),
    display:
      record.display === undefined
        ? { url, width: record.width, height: record.height, contentType: record.contentType }
        : {
            url: urlOf(record.display),
            width: record.display.width,
            height: record.display.height,
            contentType: record.display.contentType,
          },
  };
}
