import {
  directUploadIdPattern,
  type DirectStaging,
} from '../storage/direct/direct-staging.js';

export interface DirectSweepOptions {
  /** DIRECT_UPLOAD_EXPIRES_SECONDS. */
  readonly expiresSeconds: number;
  readonly now?: Date | undefined;
}

/**
 * Removes the direct uploads that can no longer be completed: made more than twice their
 * expiry ago (the URL's life, then as long again for a transfer started in time; `complete`
 * refuses them from then on), with their staged bytes, whether or not any arrived. Returns
 * how many were removed. The bucket's lifecycle rule on the staging prefix is the backstop
 * for whatever a sweep misses (docs/operations.md).
 */
export async function sweepDirectUploads(
  staging: DirectStaging,
  { expiresSeconds, now = new Date() }: DirectSweepOptions,
): Promise<number> {
  const cutoff = now.valueOf() - 2 * expiresSeconds * 1000;
  let removed = 0;
  for await (const upload of staging.list()) {
    if (!directUploadIdPattern.test(upload.id) || upload.createdAt.valueOf() > cutoff) continue;
    await staging.remove(upload.id);
    removed += 1;
  }
  return removed;
}
