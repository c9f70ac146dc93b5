import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Config } from '../../config.js';
import { AppError, storageUnavailable } from '../../errors.js';
import { deleteStoredImage, findStoredImage } from '../../ingest/find-image.js';
import { describeImage, variantUrlsOf, type ImageRecord } from '../../ingest/image-record.js';
import type { UploaderKeys } from '../../ingest/uploader-keys.js';
import { isStorageError, type ObjectStore } from '../../storage/object-store.js';
import { ownerOf, type CallerState } from '../middleware/auth.js';

export interface ImageByIdRouteDeps {
  readonly config: Config;
  readonly store: ObjectStore;
  readonly uploaderKeys: UploaderKeys;
}

/** The request header that carries the delete token handed out with the upload's 201. */
export const deleteTokenHeader = 'Delete-Token';

async function fromStore<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (isStorageError(error)) {
      throw storageUnavailable(error);
    }
    throw error;
  }
}

/** GET and DELETE of one stored image by its id; both sit behind guardApi, as all of /v1/. */
export function imageByIdRouter({
  config,
  store,
  uploaderKeys,
}: ImageByIdRouteDeps): Router<CallerState> {
  const router = createRouter<CallerState>();
  const find = async (id: string | undefined): Promise<ImageRecord> => {
    const record = await fromStore(findStoredImage(store, id ?? '', config.allowedTypes));
    if (record === undefined) throw new AppError('not_found');
    return record;
  };

  router.get('/v1/images/:id', async (ctx) => {
    // A description outlives nothing: after a DELETE it must be a 404 at once, for every cache.
    ctx.set('Cache-Control', 'no-store');
    const record = await find(ctx.params.id);
    ctx.body = describeImage(
      record,
      store.publicUrl(record.name),
      variantUrlsOf(record, (name) => store.publicUrl(name)),
    );
  });

  router.delete('/v1/images/:id', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const record = await find(ctx.params.id);
    // Its uploader, by the identity it authenticated with, or whoever holds the delete token;
    // never someone who only knows the id: it is in the image's public URL.
    const owner = ownerOf(ctx.state.caller);
    if (!(await uploaderKeys.mayDelete(record, owner, ctx.get(deleteTokenHeader)))) {
      throw new AppError('forbidden');
    }
    await fromStore(deleteStoredImage(store, record));
    ctx.status = 204;
  });

  return router;
}
