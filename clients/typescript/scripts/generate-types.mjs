// Generates src/schema.d.ts from the service's OpenAPI document with openapi-typescript.
// `node clients/typescript/scripts/generate-types.mjs` needs the service built (dist/; `npm run
// build:client` does both); `--check` fails when the committed file differs from a fresh one.
// __tests__/client/schema.test.ts makes the same comparison from the sources.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const clientRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const schemaTypesFile = path.join(clientRoot, 'src/schema.d.ts');

/** Every optional part on (auth, rate limits, local files, tus, direct uploads): the client knows every answer. */
export const fullDocumentOptions = {
  serverUrl: 'http://localhost:3000',
  authRequired: true,
  rateLimited: true,
  localFiles: true,
  staging: true,
  directUploads: true,
};

const header =
  '// Generated from the OpenAPI document by clients/typescript/scripts/generate-types.mjs\n' +
  '// (openapi-typescript). Do not edit: run `npm run build:client` and commit the result.\n\n';

/** The TypeScript declarations of a document, as committed in src/schema.d.ts. */
export async function schemaTypesOf(document) {
  return header + astToString(await openapiTS(document));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const serviceRoot = path.dirname(path.dirname(clientRoot));
  const { buildOpenApiDocument } = await import(
    pathToFileURL(path.join(serviceRoot, 'dist/http/openapi/document.js')).href
  );
  const fresh = await schemaTypesOf(buildOpenApiDocument(fullDocumentOptions));
  if (process.argv.includes('--check')) {
    if (readFileSync(schemaTypesFile, 'utf8') !== fresh) {
      console.error(`${schemaTypesFile} is out of date: run npm run build:client and commit it`);
      process.exit(1);
    }
  } else {
    writeFileSync(schemaTypesFile, fresh);
  }
}
