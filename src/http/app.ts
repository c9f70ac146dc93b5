import Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ObjectStore } from '../storage/object-store.js';
import { Lifecycle } from '../lifecycle.js';
import { trackLifecycle } from './middleware/lifecycle.js';
import { readyRouter } from './routes/ready.js';
import { createMetrics, observeStore, type Metrics } from '../metrics.js';
import { logRequests } from './middleware/request-log.js';
import { measureRequests } from './middleware/metrics.js';
import { metricsRouter } from './routes/metrics.js';
import { LocalStore } from '../storage/local-store.js';
import { renderErrors } from './middleware/errors.js';
import { corsForOrigins } from './middleware/cors.js';
import { buildOpenApiDocument, documentOptionsOf, requestHeadersOf } from './openapi/document.js';
import { guardApi } from './middleware/guard-api.js';
import { MemoryRateLimitStore, type RateLimitStore } from './middleware/rate-limit.js';
import { securityHeaders } from './middleware/security-headers.js';
import { healthRouter } from './routes/health.js';
import { imagesRouter } from './routes/images.js';
import { compatRouter } from './routes/compat.js';
import { imageByIdRouter } from './routes/image-by-id.js';
import { sharedHeldImageBuffers, type HeldImageBuffers } from '../ingest/held-image-buffers.js';
import { uploadsRouter } from './routes/uploads.js';
import { openApiRouter } from './routes/openapi.js';
import { uploadPageRouter } from './routes/upload-page.js';
import { tusMethodOverride, tusResumable, tusUploadsRouter } from './routes/tus-uploads.js';
import { Semaphore, type ConcurrencyLimit } from '../images/semaphore.js';
import type { HeifDecoder } from '../images/codecs/heif/index.js';
import type { Staging } from '../storage/staging/staging.js';
import { directUploadsRouter } from './routes/direct-uploads.js';
import { uploaderKeysFor, type UploaderKeys } from '../ingest/uploader-keys.js';
import { Renditions } from '../renditions/renditions.js';
import { renditionsRouter } from './routes/renditions.js';
import { OpenUploads } from '../uploads/open-uploads.js';

export interface AppDeps {
  readonly store: ObjectStore;
  readonly logger: Logger;
  /** Shared request counts when several instances run; in memory by default. */
  readonly rateLimitStore?: RateLimitStore | undefined;
  /** Shared with the shutdown sequence; tests may leave it out. */
  readonly lifecycle?: Lifecycle | undefined;
  /** Prometheus metrics; when left out, a fresh registry per app without process metrics. */
  readonly metrics?: Metrics | undefined;
  /** Reused buffers for images held in memory, and their hashing worker; one per process by default. */
  readonly heldImageBuffers?: HeldImageBuffers | undefined;
  /** Originals whose variants are made at once; by default IMAGE_VARIANT_CONCURRENCY, per app. */
  readonly variantLimit?: ConcurrencyLimit | undefined;
  /** HEIC_DECODER's decoder (openHeifDecoder); by default the process-wide WebAssembly one. */
  readonly heifDecoder?: HeifDecoder | undefined;
  /**
   * Where unfinished uploads wait (createStaging): tus and direct uploads. Without it neither
   * /v1/uploads (tus) nor /v1/uploads/direct is served.
   */
  readonly staging?: Staging | undefined;
  /** UPLOADER_SECRET's keys; by default uploaderKeysFor(config). */
  readonly uploaderKeys?: UploaderKeys | undefined;
}

/** Builds the Koa app from a validated config and its dependencies; opens nothing itself. */
export function createApp(
  config: Config,
  {
    store,
    logger,
    rateLimitStore,
    lifecycle = new Lifecycle(),
    metrics = createMetrics({ processMetrics: false }),
    heldImageBuffers = sharedHeldImageBuffers(),
    variantLimit = new Semaphore(config.variants.concurrency),
    heifDecoder,
    staging,
    uploaderKeys = uploaderKeysFor(config),
  }: AppDeps,
): Koa {
  const app = new Koa();
  // ctx.ip believes X-Forwarded-For only as far back as the proxies we run ourselves.
  app.proxy = config.security.trustedProxyCount > 0;
  app.maxIpsCount = config.security.trustedProxyCount;
  // Errors are logged by renderErrors; Koa's default handler would print them again.
  app.silent = true;

  observeStore(store, metrics);
  app.use(logRequests(logger));
  app.use(measureRequests(metrics));
  app.use(trackLifecycle(lifecycle));
  app.use(
    renderErrors(logger, {
      // Every body within the limit, and one up to twice it (the photo a little too large,
      // answered 413), is taken in whole, so a client that reads only once it has sent all
      // still reads its answer; what sends more is cut.
      maxBytes: 2 * config.maxBodyBytes,
      maxMs: config.security.lingeringTimeMs,
    }),
  );
  app.use(securityHeaders());
  const documented = documentOptionsOf(config, '', {
    staging: staging !== undefined,
    directUploads: staging !== undefined,
  });
  app.use(
    corsForOrigins(config.security.corsOrigins, requestHeadersOf(buildOpenApiDocument(documented))),
  );
  app.use(tusMethodOverride());
  app.use(tusResumable());
  app.use(
    guardApi(
      config.security,
      rateLimitStore ?? new MemoryRateLimitStore(),
      (error) => logger.warn({ err: error }, 'rate-limit store unavailable; request let through'),
      (inFlight) => metrics.uploadSlotsInUse.set(inFlight),
    ),
  );

  const renditions = new Renditions({
    store,
    allowedTypes: config.allowedTypes,
    presets: config.variants.specs,
    presetFormat: config.variants.format,
    presetQuality: config.variants.quality,
    signingKeys: config.renditions.signingKeys,
    maxPixels: config.renditions.maxPixels,
    maxInputPixels: config.security.maxImagePixels,
    decodeTimeoutSeconds: config.security.decodeTimeoutSeconds,
    limit: variantLimit,
    heifDecoder,
    count: (outcome) => metrics.renditions.inc({ outcome }),
  });
  // One count for tus and direct uploads (MAX_OPEN_UPLOADS_PER_CALLER).
  const openUploads = new OpenUploads(config.security.maxOpenUploadsPerCaller);
  // One cap for everything served from the store: originals and renditions.
  const servingLimits = {
    sendTimeoutMs: config.security.sendTimeoutMs,
    openObjects: new Semaphore(config.security.maxServedFiles),
  };
  const images = { config, store, heldImageBuffers, variantLimit, uploaderKeys, heifDecoder };
  const routers = [
    renditionsRouter(renditions, servingLimits),
    healthRouter(),
    readyRouter({ store, lifecycle, timeoutMs: config.readyTimeoutMs, rateLimitStore }),
    metricsRouter(metrics),
    imagesRouter(images),
    compatRouter(images),
    imageByIdRouter({ config, store, uploaderKeys, renditions }),
    openApiRouter(config, {
      staging: staging !== undefined,
      directUploads: staging !== undefined,
    }),
    uploadPageRouter(config),
  ];
  if (staging !== undefined) {
    routers.push(directUploadsRouter({ ...images, staging, openUploads }));
  }
  if (store instanceof LocalStore) routers.push(uploadsRouter(store, servingLimits));
  if (staging !== undefined) {
    // Last: its /v1/uploads/:id routes end every path of that shape they do not own as a 404,
    // so the routes of /v1/uploads/direct and the like must come first.
    routers.push(tusUploadsRouter({ ...images, staging: staging.tus, openUploads }));
  }
  for (const router of routers) {
    app.use(router.routes());
    // Not `throw: true`: the thrown 405 would lose the Allow header the router sets only
    // when it answers itself; renderErrors turns the bodiless 405/501 into our JSON error.
    app.use(router.allowedMethods());
  }
  return app;
}
