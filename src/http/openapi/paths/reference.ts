import type { PathPiece } from '../spec.js';

/** This document and its reading page (src/http/routes/openapi.ts). */
export const referencePaths: PathPiece = {
  '/openapi.json': {
    get: {
      operationId: 'getOpenApiDocument',
      summary: 'This OpenAPI document',
      tags: ['reference'],
      responses: {
        '200': {
          description: 'OpenAPI 3.1, built from the same schemas the service answers with.',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
      errors: [],
    },
  },
  '/docs': {
    get: {
      operationId: 'getReferencePage',
      summary: 'The API reference page (Redoc)',
      tags: ['reference'],
      responses: {
        '200': {
          description: 'An HTML page that renders /openapi.json.',
          content: { 'text/html': { schema: { type: 'string' } } },
        },
      },
      errors: [],
    },
  },
  '/docs/redoc.standalone.js': {
    get: {
      operationId: 'getReferencePageScript',
      summary: 'The Redoc bundle the reference page loads',
      tags: ['reference'],
      responses: {
        '200': {
          description: 'Redoc’s standalone bundle, served from node_modules.',
          content: { 'text/javascript': { schema: { type: 'string' } } },
        },
      },
      errors: [],
    },
  },
};
