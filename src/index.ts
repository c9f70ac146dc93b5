import { pino } from 'pino';
import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './http/app.js';
import { createHttpServer } from './http/server.js';
import { connectRateLimitStore } from './http/middleware/connect-rate-limit-store.js';
import { createStore } from './storage/create-store.js';
import { prepareSpoolDirectory } from './ingest/spool.js';
import { Lifecycle } from './lifecycle.js';
import { shutDownGracefully } from './shutdown.js';
import { createMetrics } from './metrics.js';
import { sweepPeriodically } from './uploads/sweep.js';

async function main(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
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

  const store = await createStore(config);
  if (config.security.imageValidation === 'decode') await prepareSpoolDirectory(config.spoolDir);
  const lifecycle = new Lifecycle();
  const rateLimitStore = await connectRateLimitStore(config, logger);
  const app = createApp(config, {
    store,
    logger,
    lifecycle,
    rateLimitStore,
    metrics: createMetrics(),
  });
  const server = createHttpServer(app, config.security);
  if (config.security.auth.anonymous) {
    logger.warn(
      'no API_KEYS, JWT_SECRET or JWT_JWKS_URL configured: anyone can upload (fine for local development only)',
    );
  }

  const { sweepIntervalSeconds } = config.staging;
  const stopSweeping =
    store.staging === undefined || sweepIntervalSeconds === 0
      ? () => undefined
      : sweepPeriodically(
          store.staging.area('tus'),
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
