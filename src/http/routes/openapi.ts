import type Router from '@koa/router';
import { createRouter } from '../router.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Config } from '../../config.js';
import { buildOpenApiDocument, documentOptionsOf } from '../openapi/document.js';

const require = createRequire(import.meta.url);
const redocBundlePath = require.resolve('redoc/bundles/redoc.standalone.js');
const redocVersion = (
  JSON.parse(readFileSync(require.resolve('redoc/package.json'), 'utf8')) as { version: string }
).version;

/**
 * Redoc's bundle, read once when first asked for. Its one reference to a CDN, the Redocly logo
 * under the side menu, becomes an empty image (which Redoc hides when it fails to load), so the
 * page asks nothing of another host and the CSP has nothing to refuse.
 */
let redocBundle: Buffer | undefined;
function readRedocBundle(): Buffer {
  redocBundle ??= Buffer.from(
    readFileSync(redocBundlePath, 'utf8').replaceAll(
      'https://cdn.redoc.ly/redoc/logo-mini.svg',
      'data:,',
    ),
  );
  return redocBundle;
}

/**
 * The reference page may run only its own script (Redoc's bundle from node_modules, never a
 * CDN). Redoc's styled-components insert <style> elements and its search runs in a worker
 * made from a blob: URL; nothing else is let in.
 */
export const referencePageCsp = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  "connect-src 'self'",
  'worker-src blob:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

// Relative URLs, so the page works behind a path prefix too.
const referencePage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>image-ingest API reference</title>
    <link rel="icon" href="data:,">
  </head>
  <body>
    <redoc spec-url="openapi.json"></redoc>
    <script src="docs/redoc.standalone.js?v=${redocVersion}"></script>
  </body>
</html>
`;

/**
 * GET /openapi.json, built at start-up from the code's schemas (src/http/openapi/), and its
 * reading page at /docs. The servers entry is PUBLIC_BASE_URL for the local driver (which
 * serves from this host); with GCS that variable names the bucket's public URL instead, so
 * the request's own origin is used.
 */
export function openApiRouter(
  config: Config,
  served: { readonly staging: boolean; readonly directUploads: boolean },
): Router {
  const router = createRouter();
  const documents = new Map<string, string>();
  const documentFor = (serverUrl: string): string => {
    let document = documents.get(serverUrl);
    if (document === undefined) {
      document = JSON.stringify(buildOpenApiDocument(documentOptionsOf(config, serverUrl, served)));
      // Origins come from Host headers: keep only a few.
      if (documents.size >= 16) documents.clear();
      documents.set(serverUrl, document);
    }
    return document;
  };
  documentFor(config.storage.driver === 'local' ? (config.publicBaseUrl ?? '/') : '/');

  router.get('/openapi.json', (ctx) => {
    const serverUrl =
      config.storage.driver === 'local' && config.publicBaseUrl !== undefined
        ? config.publicBaseUrl
        : `${ctx.protocol}://${ctx.host}`;
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = documentFor(serverUrl);
  });

  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', referencePageCsp);
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = referencePage;
  });

  router.get('/docs/redoc.standalone.js', (ctx) => {
    ctx.type = 'text/javascript; charset=utf-8';
    // The page asks for it by Redoc's version, so a year's caching is safe.
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.body = readRedocBundle();
  });

  return router;
}
