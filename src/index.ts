import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './http/app.js';
import { createHttpServer } from './http/server.js';
import { connectRateLimitStore } from './http/middleware/connect-rate-limit-store.js';
import { createStore, storageClient } from './storage/create-store.js';
import { openHeifDecoder } from './images/codecs/heif/index.js';
import { prepareSpoolDirectory } from './ingest/spool.js';
import { Lifecycle } from './lifecycle.js';
import { shutDownGracefully } from './shutdown.js';
import { createMetrics } from './metrics.js';
import { guardProcess } from './process-guard.js';
import { chooseLogFormat, createLogger } from './logger.js';
import { readNodeEngine, unmetNodeEngine } from './node-engine.js';
import { createStaging } from './storage/create-staging.js';
import { uploaderKeysFor } from './ingest/uploader-keys.js';
import { sweepPeriodically, sweepUploads, sweptAreasOf } from './uploads/sweep.js';

async function main(): Promise<void> {
  // At `info` until the configuration, LOG_LEVEL included, is read and checked.
  const logger = await createLogger({
    level: 'info',
    pretty: chooseLogFormat(process.env, process.stdout.isTTY),
  });
  const oldNode = unmetNodeEngine(await readNodeEngine(), process.versions.node);
  if (oldNode !== undefined) {
    logger.fatal({ node: process.versions.node }, oldNode);
    process.exit(1);
  }
  const metrics = createMetrics();
  guardProcess(process, logger, metrics);
  // A .env file fills in what the environment leaves unset; it never overrides it.
  loadDotenv({ quiet: true });

  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.fatal({ variable: error.variable }, error.message);
      process.exit(1);
    }
    throw error;
  }
  logger.level = config.logLevel;

  // One GCS client for the store and the staging layer.
  const client = config.storage.driver === 'gcs' ? await storageClient(config.storage) : undefined;
  const store = await createStore(config, { client });
  if (config.security.imageValidation === 'decode') await prepareSpoolDirectory(config.spoolDir);
  const staging = await createStaging(config, { client, logger, store });
  const uploaderKeys = uploaderKeysFor(config);
  await uploaderKeys.ready();
  if (config.uploaderSecret === undefined && config.storage.driver === 'gcs') {
    logger.warn(
      'no UPLOADER_SECRET: delete tokens and image ownership hold only while this process runs (fine for local development only)',
    );
  }
  const lifecycle = new Lifecycle();
  const rateLimitStore = connectRateLimitStore(config, logger);
  let heifDecoder;
  try {
    heifDecoder = await openHeifDecoder(config.heicDecoder, {
      workers: config.variants.concurrency,
    });
  } catch (error) {
    // HEIC_DECODER=native on a machine without heif-convert: say so now, not at the first photo.
    logger.fatal({ variable: 'HEIC_DECODER', err: error }, (error as Error).message);
    process.exit(1);
  }
  logger.info({ heicDecoder: config.heicDecoder }, `HEIC decoded by ${heifDecoder.description}`);
  const app = createApp(config, {
    store,
    logger,
    lifecycle,
    rateLimitStore,
    metrics,
    heifDecoder,
    staging,
    uploaderKeys,
  });
  const server = createHttpServer(app, config.security);
  if (config.security.auth.anonymous) {
    logger.warn(
      'no API_KEYS, JWT_SECRET or JWT_JWKS_URL configured: anyone can upload (fine for local development only)',
    );
  }

  const { sweepIntervalSeconds, directExpiresSeconds } = config.staging;
  const swept = sweptAreasOf(staging, directExpiresSeconds);
  const stopSweeping =
    sweepIntervalSeconds === 0
      ? () => undefined
      : sweepPeriodically(
          () =>
            sweepUploads(swept, {
              onAreaFailed: (area, error) =>
                logger.warn({ err: error, area }, `sweeping the ${area} staging area failed`),
            }),
          sweepIntervalSeconds * 1000,
          (result) => {
            if (result.removed > 0 || result.failed > 0)
              logger.info(result, 'swept staged uploads');
          },
          (error) => logger.warn({ err: error }, 'sweeping staged uploads failed'),
        );

  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    logger.info(
      { port, host: config.host, storage: config.storage.driver },
      `image-ingest listening on http://${config.host}:${port}`,
    );
  });

  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    stopSweeping();
    void shutDownGracefully({
      server,
      lifecycle,
      store,
      logger,
      delayMs: config.shutdownDelayMs,
      graceMs: config.shutdownGraceMs,
    }).then((code) => process.exit(code));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

await main();
