import Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ObjectStore } from '../storage/object-store.js';
import { LocalStore } from '../storage/local-store.js';
import { renderErrors } from './middleware/errors.js';
import { healthRouter } from './routes/health.js';
import { imagesRouter } from './routes/images.js';
import { uploadsRouter } from './routes/uploads.js';

export interface AppDeps {
  readonly store: ObjectStore;
  readonly logger: Logger;
}

/** Builds the Koa app from a validated config and its dependencies; opens nothing itself. */
export function createApp(config: Config, { store, logger }: AppDeps): Koa {
  const app = new Koa();
  // Errors are logged by renderErrors; Koa's default handler would print them again.
  app.silent = true;

  app.use(renderErrors(logger));

  const routers = [healthRouter(), imagesRouter({ config, store })];
  if (store instanceof LocalStore) routers.push(uploadsRouter(store));
  for (const router of routers) {
    app.use(router.routes());
    // Not `throw: true`: the thrown 405 would lose the Allow header the router sets only
    // when it answers itself; renderErrors turns the bodiless 405/501 into our JSON error.
    app.use(router.allowedMethods());
  }
  return app;
}
