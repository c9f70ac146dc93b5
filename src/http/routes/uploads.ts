import type Router from '@koa/router';
import { createRouter } from '../router.js';
import { AppError } from '../../errors.js';
import { typeOfExtensionName } from '../../images/image-types.js';
import type { LocalStore } from '../../storage/local-store.js';
import {
  serveStoredObject,
  storedImageHeaders,
  type ServingLimits,
} from '../serve-stored-object.js';

/**
 * Serves what the local driver stored. Only names the service itself creates are opened, and
 * only with an image type: nothing a client names can reach another path, and nothing is
 * ever served as a type a browser would run. Validators and ranges as a CDN in front, or a
 * client resuming a download, expects them (serveStoredObject).
 */
export function uploadsRouter(store: LocalStore, limits: ServingLimits): Router {
  const router = createRouter();

  router.get('/uploads/:name', async (ctx) => {
    const name = ctx.params.name ?? '';
    const extension = name.slice(name.lastIndexOf('.') + 1);
    const contentType = typeOfExtensionName(extension);
    if (contentType === undefined) throw new AppError('not_found');

    await serveStoredObject(
      ctx,
      () => store.open(name),
      {
        'Content-Type': contentType,
        ...storedImageHeaders,
      },
      limits,
    );
  });

  return router;
}
