import { pathParameter, type PathPiece } from '../spec.js';

/** GET /uploads/{name}: only when the local driver stores the images (src/http/routes/uploads.ts). */
export const localFilePaths: PathPiece = {
  '/uploads/{name}': {
    get: {
      operationId: 'getStoredFile',
      summary: 'A stored image or variant (local driver)',
      description: 'Served with its sniffed type, immutable caching and a sandboxing CSP.',
      tags: ['files'],
      parameters: [
        pathParameter('name', 'The `name` (or a variant’s file name) from an image’s description.'),
      ],
      responses: {
        '200': {
          description: 'The stored bytes.',
          headers: {
            'Cache-Control': {
              description: 'Immutable: a name is never reused for other bytes.',
              schema: { type: 'string' },
            },
            'Last-Modified': { schema: { type: 'string' } },
          },
          content: { 'image/*': { schema: { type: 'string', contentMediaType: 'image/*' } } },
        },
      },
      errors: ['not_found'],
    },
  },
};
