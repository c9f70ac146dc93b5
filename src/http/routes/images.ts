import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Context } from 'koa';
import { ownerOf, type CallerState } from '../middleware/auth.js';
import type { Config } from '../../config.js';
import type { HeifDecoder } from '../../images/codecs/heif/index.js';
import type { ConcurrencyLimit } from '../../images/semaphore.js';
import type { HeldImageBuffers } from '../../ingest/held-image-buffers.js';
import type { UploaderKeys } from '../../ingest/uploader-keys.js';
import { parseIdempotencyKey } from '../../ingest/idempotency.js';
import { focusFromText } from '../../ingest/focal-point.js';
import type { FocalPoint } from '../../ingest/image-record.js';
import { createdImage, ingestImage, type IngestContext } from '../../ingest/ingest-image.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { anonymousCallerId } from '../client-address.js';
import { imageSourceOf } from '../image-body.js';
import { renditionLinksOf } from '../rendition-links.js';

export interface ImagesRouteDeps {
  readonly config: Config;
  readonly store: ObjectStore;
  readonly heldImageBuffers: HeldImageBuffers;
  /** One per app (IMAGE_VARIANT_CONCURRENCY): originals whose variants are made at once. */
  readonly variantLimit: ConcurrencyLimit;
  /** UPLOADER_SECRET's keys (uploaderKeysFor): owners kept as HMACs, delete tokens. */
  readonly uploaderKeys: UploaderKeys;
  /** HEIC_DECODER's decoder; the process-wide WebAssembly one when undefined. */
  readonly heifDecoder?: HeifDecoder | undefined;
}

/**
 * An AbortSignal that fires when the client goes away before the response is sent, or has
 * fired already: middleware before the route (a rate-limit store) may have awaited while the
 * client left, and a 'close' that has passed is never heard.
 */
export function clientGoneSignal(ctx: Context): AbortSignal {
  const gone = (): Error => new Error('client closed the connection');
  if (ctx.res.closed && !ctx.res.writableFinished) return AbortSignal.abort(gone());
  const controller = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) controller.abort(gone());
  });
  return controller.signal;
}

/** Who is counted for per-caller limits: the caller guardApi found (an address when anonymous). */
export function callerKeyOf(ctx: Context): string {
  return (ctx.state as Partial<CallerState>).caller?.id ?? anonymousCallerId(ctx);
}

/** Everything the pipeline needs to know about this request besides its body. */
export function ingestContextOf(
  ctx: Context,
  { config, store, heldImageBuffers, variantLimit, uploaderKeys, heifDecoder }: ImagesRouteDeps,
  signal: AbortSignal,
): IngestContext {
  const owner = ownerOf((ctx.state as Partial<CallerState>).caller);
  return {
    store,
    heldImageBuffers,
    limits: config,
    signal,
    validation: {
      mode: config.security.imageValidation,
      maxPixels: config.security.maxImagePixels,
      decodeTimeoutSeconds: config.security.decodeTimeoutSeconds,
      spoolDirectory: config.spoolDir,
    },
    idempotencyKey: parseIdempotencyKey(ctx.get('Idempotency-Key') || undefined),
    // Keys are per caller, so two callers picking the same key never meet. Anonymous callers
    // share one scope: their address changes as a phone moves between networks.
    scope: owner ?? '',
    owner,
    uploaderKeys,
    metadata: config.imageMetadata,
    // Presets not made eagerly are rendered on their first request (src/renditions/).
    variants: {
      ...config.variants,
      specs: config.variants.eager ? config.variants.specs : [],
      limit: variantLimit,
      heifDecoder,
    },
    focus: focusHeaderOf(ctx),
    renditionLinks: renditionLinksOf(config, ctx),
  };
}

/** The request header that carries an upload's focal point, `x,y` (each 0 to 1). */
const focusHeader = 'Image-Focus';

function focusHeaderOf(ctx: Context): FocalPoint | undefined {
  const text = ctx.get(focusHeader);
  if (text === '') return undefined;
  return focusFromText(text, `the ${focusHeader} header`);
}

export function imagesRouter(deps: ImagesRouteDeps): Router {
  const router = createRouter();

  router.post('/v1/images', async (ctx) => {
    const signal = clientGoneSignal(ctx);
    const context = ingestContextOf(ctx, deps, signal);
    const source = await imageSourceOf(ctx, deps.config, signal);
    const image = await ingestImage(source, context);
    ctx.status = 201;
    ctx.set('Location', image.url);
    ctx.body = createdImage(image);
  });

  return router;
}
