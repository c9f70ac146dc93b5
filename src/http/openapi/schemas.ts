import * as z from 'zod';
import { errorCatalogue, type ErrorCode } from '../../errors.js';
import type { Placeholder } from '../../images/placeholder.js';
import type {
  DisplayDescription,
  ImageDescription,
  VariantDescription,
} from '../../ingest/image-record.js';
import type { CreatedImage } from '../../ingest/ingest-image.js';

/**
 * The shapes the API answers and takes, once: the routes type their bodies with them (a drift
 * fails typecheck) and the OpenAPI document (document.ts) converts them with z.toJSONSchema.
 * Each `id` becomes a component under #/components/schemas.
 */

const count = z.int().nonnegative();

export const placeholderSchema = z
  .object({
    thumbhash: z.string().describe('ThumbHash, base64: keeps the aspect ratio and alpha.'),
    blurhash: z.string().describe('BlurHash, 4 x 3 components (3 x 4 for a portrait image).'),
    color: z
      .string()
      .regex(/^#[0-9a-f]{6}$/)
      .describe('The average colour, weighted by alpha.'),
  })
  .meta({ id: 'Placeholder', description: 'What a page shows while the image loads.' });

export const variantSchema = z
  .object({
    url: z.url(),
    width: count,
    height: count,
    frames: count.optional().describe('Frames of an animated variant; absent for a still one.'),
    bytes: count,
    contentType: z.string(),
  })
  .meta({ id: 'Variant', description: 'A resized copy of the image (IMAGE_VARIANTS).' });

const unit = z.number().min(0).max(1);

export const focalPointSchema = z
  .object({
    x: unit.describe('From the left edge (0) to the right (1).'),
    y: unit.describe('From the top edge (0) to the bottom (1).'),
  })
  .meta({
    id: 'FocalPoint',
    description: 'What a crop with gravity=focus keeps in view (upright image).',
  });

/** The focal point as text (`x,y`, each from 0 to 1): what parseFocalPoint accepts, unpadded. */
export const focusPattern = '^(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?),(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)$';

export const renditionLinksSchema = z
  .object({
    srcset: z
      .string()
      .describe('For `<img srcset>`: each URL below with its width (`<url> 320w, ...`).'),
    widths: z
      .array(z.object({ width: count, url: z.url() }))
      .describe(
        'A signed rendition URL per RENDER_WIDTHS width narrower than the image, and one at its own width.',
      ),
    presets: z
      .record(z.string(), z.url())
      .optional()
      .describe('The URL of each preset (IMAGE_VARIANTS), which needs no signature.'),
  })
  .meta({
    id: 'RenditionLinks',
    description:
      'Where the image’s renditions are (GET /v1/images/{id}/render): made when first asked for, in the format Accept picks.',
  });

export const displaySchema = z
  .object({
    url: z.url().describe('The original’s URL, or its display rendition’s (`<id>.display.jpg`).'),
    width: count,
    height: count,
    contentType: z.string(),
  })
  .meta({
    id: 'Display',
    description:
      'What to put in an <img> for every browser: the original when browsers show its type ' +
      '(JPEG, PNG, GIF, WebP, AVIF, BMP), else a JPEG rendition made at upload (HEIC, HEIF, ' +
      'TIFF): full size, upright, sRGB, no metadata.',
  });

export const imageSchema = z
  .object({
    id: z.uuid(),
    name: z.string().describe('`<id>.<extension>`, the stored object’s name.'),
    url: z.url().describe('Where the stored image is served.'),
    contentType: z.string().describe('The type sniffed from the bytes.'),
    extension: z.string(),
    bytes: count,
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    width: count.describe('As displayed (EXIF orientation already applied).'),
    height: count,
    frames: count.optional().describe('Frames of an animation; absent for a still image.'),
    orientation: z.int().min(1).max(8).describe('The EXIF orientation the stored image carries.'),
    createdAt: z.iso.datetime(),
    variants: z.record(z.string(), variantSchema).optional(),
    placeholder: placeholderSchema.optional(),
    focus: focalPointSchema.optional(),
    renditions: renditionLinksSchema
      .optional()
      .describe('Absent for a type no rendition can be made of.'),
    display: displaySchema,
  })
  .meta({ id: 'Image', description: 'A stored image, as GET /v1/images/{id} describes it.' });

export const createdImageSchema = imageSchema
  .extend({
    deleteToken: z
      .string()
      .optional()
      .describe(
        'Handed out once, to an anonymous uploader: send it as Delete-Token to delete the image.',
      ),
  })
  .meta({ id: 'CreatedImage', description: 'The answer to an accepted upload.' });

export const compatFilesSchema = z
  .object({
    url: z.array(z.url()),
    images: z.array(createdImageSchema),
  })
  .meta({
    id: 'CompatFiles',
    description: 'The answer to several `files[]` parts: their URLs and their descriptions.',
  });

export const uploadProgressSchema = z
  .object({
    id: z.string(),
    state: z.literal('receiving'),
    offset: count,
    length: count.nullable().describe('null while the length is deferred.'),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'UploadProgress', description: 'A tus upload that is still receiving.' });

export const imageJsonRequestSchema = z
  .object({
    data: z.string().describe('The image as a base64 data URI: data:<type>;base64,<payload>.'),
    focus: focalPointSchema
      .optional()
      .describe('The image’s focal point (or the Image-Focus header; not both).'),
  })
  .loose()
  .meta({
    id: 'ImageJsonRequest',
    description: 'Other members are ignored; the type is taken from the bytes, not the label.',
  });

export const directUploadRequestSchema = z
  .object({
    size: z
      .int()
      .min(1)
      .describe('The image’s exact size in bytes, at most MAX_IMAGE_BYTES (413 above).'),
    type: z
      .string()
      .max(255)
      .optional()
      .describe('A hint for the pipeline, never trusted: the bytes decide the type.'),
    method: z
      .enum(['put', 'resumable'])
      .optional()
      .describe('`put` (the default): one PUT to a signed URL; `resumable`: a chunked session.'),
  })
  .loose()
  .meta({
    id: 'DirectUploadRequest',
    description: 'What POST /v1/uploads/direct takes (at most 4 KiB); other members are ignored.',
  });

export const directUploadCreatedSchema = z
  .object({
    id: z.uuid(),
    method: z.enum(['put', 'resumable']),
    url: z.url().describe('Where the bytes go: a signed URL or a resumable session URI.'),
    headers: z
      .record(z.string(), z.string())
      .describe('Send exactly these with the PUT (signed ones among them).'),
    expiresAt: z.iso.datetime().describe('The URL may be started until then.'),
    completeUrl: z.url().describe('POST here once the bytes have arrived.'),
  })
  .meta({ id: 'DirectUpload', description: 'Where and how to send the bytes, then complete.' });

export const directUploadReceivedSchema = z
  .object({ id: z.uuid(), size: count.describe('The bytes the upload now holds: all of them.') })
  .meta({ id: 'DirectUploadReceived', description: 'The local driver took the whole upload.' });

const errorCodes = Object.keys(errorCatalogue) as [ErrorCode, ...ErrorCode[]];

/** The error body for the given codes; every error the service renders has this shape. */
export function errorBodySchema(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.object({
    error: z.object({
      code: z.enum(codes),
      message: z.string().describe('Safe to show; the code is what programs should read.'),
    }),
  });
}

export const errorSchema = errorBodySchema(errorCodes).meta({
  id: 'Error',
  description: 'Every failure: a stable code from the error catalogue and a message.',
});

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

export const readySchema = z
  .object({
    status: z.enum(['ready', 'draining', 'store_unreachable']),
    // Only with REDIS_URL. Not a reason to be unready: without Redis each instance counts alone.
    rateLimitStore: z.enum(['reachable', 'unreachable']).optional(),
  })
  .meta({ id: 'Readiness' });

export type ErrorBody = z.infer<typeof errorSchema>;
export type CompatFilesBody = z.infer<typeof compatFilesSchema>;
/** The members POST /v1/uploads/direct reads (its body is checked member by member). */
export type DirectUploadRequestMember = keyof typeof directUploadRequestSchema.shape;
export type DirectUploadCreatedBody = z.infer<typeof directUploadCreatedSchema>;
export type DirectUploadReceivedBody = z.infer<typeof directUploadReceivedSchema>;
export type HealthBody = z.infer<typeof healthSchema>;
export type ReadyBody = z.infer<typeof readySchema>;

/** True when each type can stand for the other, and both name the same members (optional ones too). */
type SameShape<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false;
type Assert<T extends true> = T;
/** Fail typecheck when the schemas and the types describeImage and createdImage build drift apart. */
export type SchemasMatchCode = [
  Assert<SameShape<z.infer<typeof imageSchema>, ImageDescription>>,
  Assert<SameShape<z.infer<typeof createdImageSchema>, CreatedImage>>,
  Assert<SameShape<z.infer<typeof variantSchema>, VariantDescription>>,
  Assert<SameShape<z.infer<typeof placeholderSchema>, Placeholder>>,
  Assert<SameShape<z.infer<typeof displaySchema>, DisplayDescription>>,
];
