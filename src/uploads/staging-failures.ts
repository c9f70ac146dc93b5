import { AppError, isAppError, storageUnavailable } from '../errors.js';
import { isStagingError } from '../storage/staging/staging-error.js';

/**
 * The one mapping from the staging layer's failures to the catalogue, for tus and direct
 * uploads alike: our own errors stay what they are, a PUT the driver cannot sign is 501
 * (the client should ask for a resumable session instead: retrying never helps), and anything
 * else is the store's (503). A step that means something else by a conflict (an upload gone,
 * another writer first) looks for it before it calls this.
 */
export function stagingFailure(error: unknown): unknown {
  if (isAppError(error)) return error;
  if (isStagingError(error, 'cannot_sign')) {
    return new AppError('signed_put_unavailable', { cause: error });
  }
  return storageUnavailable(error);
}

/** A staging call whose failure is mapped by stagingFailure. */
export async function fromStaging<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw stagingFailure(error);
  }
}
