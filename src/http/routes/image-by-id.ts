import type Router from '@koa/router';
import { createRouter } from '../router.js';
import type { Config } from '../../config.js';
import { AppError, storageUnavailable } from '../../errors.js';
import { deleteStoredImage, findStoredImage } from '../../ingest/find-image.js';
import { focusFromJson } from '../../ingest/focal-point.js';
import {
  describeImage,
  focusMetadata,
  variantUrlsOf,
  type FocalPoint,
  type ImageDescription,
  type ImageRecord,
} from '../../ingest/image-record.js';
import { isStorageError, type ObjectStore } from '../../storage/object-store.js';
import type { Context } from 'koa';
import type { Renditions } from '../../renditions/renditions.js';
import type { UploaderKeys } from '../../ingest/uploader-keys.js';
import { ownerOf, type CallerState } from '../middleware/auth.js';
import { smallJsonBody } from './direct-uploads.js';
import { renditionLinksOf } from '../rendition-links.js';

export interface ImageByIdRouteDeps {
  readonly config: Config;
  readonly store: ObjectStore;
  readonly uploaderKeys: UploaderKeys;
  /** Its renditions go when its focal point changes. */
  readonly renditions: Renditions;
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
  renditions,
}: ImageByIdRouteDeps): Router<CallerState> {
  const router = createRouter<CallerState>();
  const find = async (id: string | undefined): Promise<ImageRecord> => {
    const record = await fromStore(findStoredImage(store, id ?? '', config.allowedTypes));
    if (record === undefined) throw new AppError('not_found');
    return record;
  };

  const describe = (record: ImageRecord, ctx: Context): ImageDescription =>
    describeImage(
      record,
      store.publicUrl(record.name),
      variantUrlsOf(record, (name) => store.publicUrl(name)),
      renditionLinksOf(config, ctx)(record),
    );

  /**
   * The image, if the caller may change it: its uploader, by the identity it authenticated
   * with, or whoever holds the delete token; never someone who only knows the id, which is in
   * the image's public URL.
   */
  const findOwned = async (ctx: Context, id: string | undefined): Promise<ImageRecord> => {
    const record = await find(id);
    const owner = ownerOf((ctx.state as CallerState).caller);
    if (!(await uploaderKeys.mayDelete(record, owner, ctx.get(deleteTokenHeader)))) {
      throw new AppError('forbidden');
    }
    return record;
  };

  router.get('/v1/images/:id', async (ctx) => {
    // A description outlives nothing: after a DELETE it must be a 404 at once, for every cache.
    ctx.set('Cache-Control', 'no-store');
    ctx.body = describe(await find(ctx.params.id), ctx);
  });

  // Sets the focal point (as DELETE, its owner only); the crops made around the old one go.
  router.patch('/v1/images/:id', smallJsonBody(), async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const record = await findOwned(ctx, ctx.params.id);
    const focus = focalPointOf(ctx.request.body);
    if (!(await fromStore(store.updateMetadata(record.name, focusMetadata(focus))))) {
      throw new AppError('not_found');
    }
    await renditions.removeAll(record.id);
    ctx.body = describe({ ...record, focus }, ctx);
  });

  router.delete('/v1/images/:id', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const record = await findOwned(ctx, ctx.params.id);
    await fromStore(deleteStoredImage(store, record));
    ctx.status = 204;
  });

  return router;
}

/** `{"focus": {"x": 0.5, "y": 0.3}}`, each from 0 to 1. */
function focalPointOf(body: unknown): FocalPoint {
  const focus =
    typeof body === 'object' && body !== null && 'focus' in body ? body.focus : undefined;
  return focusFromJson(focus, 'the member "focus"');
}
