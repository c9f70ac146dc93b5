import { pathParameter, type PathPiece } from '../spec.js';

const requestHeader = (name: string, description: string) => ({
  name,
  in: 'header',
  required: false,
  description,
  schema: { type: 'string' },
});

const validators = {
  ETag: {
    description: 'Strong: the same tag always means the same bytes.',
    schema: { type: 'string' },
  },
  'Last-Modified': { schema: { type: 'string' } },
};

const image = { 'image/*': { schema: { type: 'string', contentMediaType: 'image/*' } } };

/** GET /uploads/{name}: only when the local driver stores the images (src/http/routes/uploads.ts). */
export const localFilePaths: PathPiece = {
  '/uploads/{name}': {
    get: {
      operationId: 'getStoredFile',
      summary: 'A stored image or variant (local driver)',
      description:
        'Served with its sniffed type, immutable caching and a sandboxing CSP; with validators ' +
        '(`ETag`, `Last-Modified`) for conditional requests, and one byte range per request ' +
        '(several ranges get the whole file).',
      tags: ['files'],
      parameters: [
        pathParameter('name', 'The `name` (or a variant’s file name) from an image’s description.'),
        requestHeader('If-None-Match', 'ETags the client holds: 304 if one matches.'),
        requestHeader('If-Modified-Since', 'Without If-None-Match: 304 if not modified since.'),
        requestHeader('Range', 'One range, `bytes=first-last`, `bytes=first-` or `bytes=-length`.'),
        requestHeader(
          'If-Range',
          'The ETag or Last-Modified the range is for; else the whole file.',
        ),
      ],
      responses: {
        '200': {
          description: 'The stored bytes.',
          headers: {
            'Cache-Control': {
              description: 'Immutable: a name is never reused for other bytes.',
              schema: { type: 'string' },
            },
            ...validators,
            'Accept-Ranges': { schema: { type: 'string', enum: ['bytes'] } },
          },
          content: image,
        },
        '206': {
          description: 'The range asked for.',
          headers: {
            'Content-Range': {
              description: '`bytes first-last/size`',
              schema: { type: 'string' },
            },
            ...validators,
          },
          content: image,
        },
        '304': { description: 'The client’s copy is current.', headers: validators },
      },
      errors: ['not_found', 'range_not_satisfiable'],
    },
  },
};
