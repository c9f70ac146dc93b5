import { expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { buildOpenApiDocument } from '../../src/http/openapi/document.js';
import {
  fullDocumentOptions,
  schemaTypesFile,
  schemaTypesOf,
} from '../../clients/typescript/scripts/generate-types.mjs';

/** The client's committed types are what openapi-typescript makes of today's document. */
it('clients/typescript/src/schema.d.ts matches a fresh generation (npm run client:types)', async () => {
  const fresh = await schemaTypesOf(buildOpenApiDocument(fullDocumentOptions));
  expect(await readFile(schemaTypesFile, 'utf8')).toBe(fresh);
});
