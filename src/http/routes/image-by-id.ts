import Router from '@koa/router';
import type { Config } from '../../config.js';
import { AppError, storageUnavailable } from '../../errors.js';
import { deleteStoredImage, findStoredImage } from '../../ingest/find-image.js';
import {
  deleteTokenMatches,
  describeImage,
  variantUrlsOf,
  type ImageRecord,
} from '../../ingest/image-record.js';
import { isStorageError, type ObjectStore } from '../../storage/object-store.js';
import { ownerOf, type Caller, type CallerState } from '../middleware/auth.js';
import { renditionLinksOf } from '../rendition-links.js';

export interface ImageByIdRouteDeps {
  readonly config: Config;
  readonly store: ObjectStore;
}

/** The request header that carries the delete token handed out with the upload's 201. */
export const deleteTokenHeader = 'Delete-Token';

/**
 * Its uploader, by the identity it authenticated with, or whoever holds the delete token.
 * Never someone who only knows the id: it is in the image's public URL.
 */
function mayDelete(record: ImageRecord, caller: Caller | undefined, token: string): boolean {
  const owner = ownerOf(caller);
  if (owner !== undefined && owner === record.owner) return true;
  return token !== '' && deleteTokenMatches(record, token);
}

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
export function imageByIdRouter({ config, store }: ImageByIdRouteDeps): Router<CallerState> {
  const router = new Router<CallerState>();
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
      renditionLinksOf(config, ctx)(record),
    );
  });

  router.delete('/v1/images/:id', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const record = await find(ctx.params.id);
    if (!mayDelete(record, ctx.state.caller, ctx.get(deleteTokenHeader))) {
      throw new AppError('forbidden');
    }
    await fromStore(deleteStoredImage(store, record));
    ctx.status = 204;
  });

  return router;
}
