import type { Context } from 'koa';
import type { Config } from '../config.js';
import type { RenditionLinker } from '../ingest/image-record.js';
import { renditionLinker } from '../renditions/rendition-links.js';

/**
 * The local driver's PUBLIC_BASE_URL names this very service (it serves the files); with GCS
 * it names the bucket or its CDN, so the request's own origin is the best guess there.
 */
function serviceOrigin(config: Config, ctx: Context): string {
  return config.storage.driver === 'local' && config.publicBaseUrl !== undefined
    ? config.publicBaseUrl
    : `${ctx.protocol}://${ctx.host}`;
}

/**
 * Where this request's answer says the renditions are: RENDER_BASE_URL, else this service's
 * origin.
 */
export function renditionLinksOf(config: Config, ctx: Context): RenditionLinker {
  return renditionLinker({
    baseUrl: config.renditions.baseUrl ?? serviceOrigin(config, ctx),
    widths: config.renditions.widths,
    presets: config.variants.specs,
    signingKey: config.renditions.signingKeys[0],
  });
}
