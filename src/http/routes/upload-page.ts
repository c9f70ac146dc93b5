import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Context } from 'koa';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';

/** The repository root, from src/http/routes or dist/http/routes alike. */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const pageDirectory = path.join(root, 'public');
/** The typed client's build (npm run build compiles it; prestart runs that). */
const clientDirectory = path.join(root, 'clients/typescript/dist');

function tusBundlePath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('tus-js-client/dist/tus.min.js');
  } catch {
    return undefined;
  }
}

const pageFiles: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/page/page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  '/page/page.css': { file: 'page.css', type: 'text/css; charset=utf-8' },
};

/** Where stored images are served from, for img-src: this host, PUBLIC_BASE_URL, the bucket. */
export function imageOriginsOf(config: Config): string[] {
  const origins = new Set<string>();
  if (config.publicBaseUrl !== undefined) origins.add(new URL(config.publicBaseUrl).origin);
  if (config.storage.driver === 'gcs' && config.publicBaseUrl === undefined) {
    origins.add(new URL(config.storage.apiEndpoint ?? 'https://storage.googleapis.com').origin);
  }
  return [...origins];
}

/**
 * The upload page runs only its own scripts (the page, the typed client, tus-js-client's
 * bundle) and talks only to this host; it shows images from where they are stored and the
 * previews it makes itself (blob: URLs).
 */
export function uploadPageCsp(config: Config): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' blob: ${imageOriginsOf(config).join(' ')}`.trim(),
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * GET / (the upload page), its script and style, the typed client's browser build under
 * /page/client/, tus-js-client's browser bundle, and /page/settings.json: what the page must
 * know before an upload (whether to ask for an API key, the size limit). Served from files,
 * with no build step beyond `npm run build`.
 */
export function uploadPageRouter(config: Config): Router {
  const router = createRouter();
  const csp = uploadPageCsp(config);
  const tusBundle = tusBundlePath();

  const send = async (ctx: Context, file: string | undefined, type: string): Promise<void> => {
    const body = file === undefined ? undefined : await readFile(file).catch(() => undefined);
    if (body === undefined) throw new AppError('not_found');
    ctx.set('Content-Security-Policy', csp);
    // The page changes with the service; the browser revalidates rather than guesses.
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = type;
    ctx.body = body;
  };

  for (const [route, { file, type }] of Object.entries(pageFiles)) {
    router.get(route, (ctx) => send(ctx, path.join(pageDirectory, file), type));
  }
  router.get('/page/client/:file', async (ctx) => {
    const name = ctx.params.file ?? '';
    // Only the build's own module names; nothing a request names reaches another path.
    const file = /^[a-z][a-z-]*\.js$/.test(name) ? path.join(clientDirectory, name) : undefined;
    await send(ctx, file, 'text/javascript; charset=utf-8');
  });
  router.get('/page/tus.min.js', (ctx) => send(ctx, tusBundle, 'text/javascript; charset=utf-8'));
  router.get('/page/settings.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = {
      authRequired: !config.security.auth.anonymous,
      maxImageBytes: config.maxImageBytes,
      allowedTypes: config.allowedTypes,
    };
  });
  return router;
}
