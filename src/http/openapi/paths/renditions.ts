import {
  renderFits,
  renderFormats,
  renderGravities,
} from '../../../renditions/rendition-params.js';
import { exampleImage } from '../examples.js';
import { pathParameter, type JsonSchema, type PathPiece } from '../spec.js';

function queryParameter(name: string, description: string, schema: JsonSchema): JsonSchema {
  return { name, in: 'query', required: false, description, schema };
}

const servedHeaders = {
  'Cache-Control': {
    description:
      'public, max-age=31536000, immutable: a rendition’s URL always means the same bytes.',
    schema: { type: 'string' },
  },
  ETag: {
    description: 'Strong; send it back in If-None-Match for a 304.',
    schema: { type: 'string' },
  },
  Vary: {
    description: '`Accept` when the format was chosen from it (format=auto).',
    schema: { type: 'string' },
  },
};

/** GET /v1/images/{id}/render (src/http/routes/renditions.ts). */
export const renditionPaths: PathPiece = {
  '/v1/images/{id}/render': {
    get: {
      operationId: 'renderImage',
      summary: 'A rendition of a stored image, made on first request and stored',
      description:
        'Signed with HMAC-SHA256 (RENDER_SIGNING_KEYS) over the path and the query without ' +
        '`sig`, its parameters sorted by name; a `preset` alone needs no signature. Never ' +
        'enlarged; upright, sRGB, no metadata. The first request renders from the original ' +
        'and stores the result; every later one is served from the store. Public: no ' +
        'credentials, no rate limit (the signature is the authorisation).',
      tags: ['images'],
      parameters: [
        pathParameter('id', 'The image’s id, as its upload answered it.', exampleImage.id),
        queryParameter('w', 'Width of the box in CSS pixels (before dpr).', {
          type: 'integer',
          minimum: 1,
          maximum: 8192,
        }),
        queryParameter('h', 'Height of the box in CSS pixels (before dpr).', {
          type: 'integer',
          minimum: 1,
          maximum: 8192,
        }),
        queryParameter('fit', 'How the image meets the box (default inside).', {
          type: 'string',
          enum: [...renderFits],
        }),
        queryParameter(
          'format',
          'Output format; auto picks AVIF, WebP or JPEG from Accept (the default).',
          { type: 'string', enum: [...renderFormats] },
        ),
        queryParameter('q', 'Quality, 1 to 100 (ignored for PNG).', {
          type: 'integer',
          minimum: 1,
          maximum: 100,
        }),
        queryParameter('dpr', 'Device pixel ratio, 1 to 4, at most two decimals.', {
          type: 'number',
          minimum: 1,
          maximum: 4,
        }),
        queryParameter(
          'gravity',
          'What a cover crop keeps (default centre; focus: the image’s focal point).',
          { type: 'string', enum: [...renderGravities] },
        ),
        queryParameter('preset', 'A configured preset (IMAGE_VARIANTS) by name.', {
          type: 'string',
        }),
        queryParameter('sig', 'Unpadded base64url HMAC-SHA256 signature.', { type: 'string' }),
        { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } },
      ],
      responses: {
        '200': {
          description: 'The rendition.',
          headers: servedHeaders,
          content: { 'image/*': { schema: { type: 'string', contentMediaType: 'image/*' } } },
        },
        '304': {
          description: 'The rendition named by If-None-Match is still current.',
          headers: servedHeaders,
        },
      },
      errors: [
        'invalid_render_parameter',
        'invalid_render_signature',
        'not_found',
        'undecodable_image',
        'too_many_pixels',
        'storage_unavailable',
      ],
    },
  },
};
