import type { JsonSchema, Operation, PathPiece } from '../spec.js';

/** A file of the upload page (src/http/routes/upload-page.ts). */
function pageFile(
  operationId: string,
  summary: string,
  mediaType: string,
  notFound = false,
): { get: Operation } {
  return {
    get: {
      operationId,
      summary,
      tags: ['page'],
      responses: {
        '200': { description: summary, content: { [mediaType]: { schema: { type: 'string' } } } },
      },
      errors: notFound ? ['not_found'] : [],
    },
  };
}

const settingsSchema: JsonSchema = {
  type: 'object',
  required: ['authRequired', 'maxImageBytes', 'allowedTypes'],
  additionalProperties: false,
  properties: {
    authRequired: { type: 'boolean', description: 'Whether /v1/ needs an API key or token.' },
    maxImageBytes: { type: 'integer', minimum: 1 },
    allowedTypes: { type: 'array', items: { type: 'string' } },
  },
};

/** The upload page at `/`, its files and the settings it reads before an upload. */
export const uploadPagePaths: PathPiece = {
  '/': pageFile('getUploadPage', 'The upload page (HTML)', 'text/html'),
  '/page/page.js': pageFile('getUploadPageScript', 'The upload page’s script', 'text/javascript'),
  '/page/page.css': pageFile('getUploadPageStyle', 'The upload page’s style', 'text/css'),
  '/page/client/{file}': {
    get: {
      ...pageFile(
        'getUploadPageClientModule',
        'A module of the typed client’s browser build',
        'text/javascript',
        true,
      ).get,
      parameters: [
        {
          name: 'file',
          in: 'path',
          required: true,
          schema: { type: 'string', pattern: '^[a-z][a-z-]*\\.js$' },
          example: 'index.js',
        },
      ],
    },
  },
  '/page/tus.min.js': pageFile(
    'getUploadPageTusBundle',
    'tus-js-client’s browser bundle',
    'text/javascript',
    true,
  ),
  '/page/settings.json': {
    get: {
      operationId: 'getUploadPageSettings',
      summary: 'What the upload page needs to know: whether to ask for a key, the size limit',
      tags: ['page'],
      responses: {
        '200': {
          description: 'The settings, public by nature (no secret, no credential).',
          content: { 'application/json': { schema: settingsSchema } },
        },
      },
      errors: [],
    },
  },
};
