import type { DirectStaging } from '../storage/direct/direct-staging.js';
import { uploadIdPattern } from '../storage/staging/upload-staging.js';
import type { SweepResult } from './sweep.js';

export interface DirectSweepOptions {
  /** DIRECT_UPLOAD_EXPIRES_SECONDS. */
  readonly expiresSeconds: number;
  readonly now?: Date | undefined;
  /** How many uploads are looked at at once. */
  readonly concurrency?: number | undefined;
}

/**
 * Removes the direct uploads that can no longer be completed, with their staged bytes, whether
 * or not any arrived: those whose `completeBy` passed more than one expiry ago. The margin is
 * for a complete admitted just before `completeBy` that is still reading the bytes through the
 * pipeline; swept at `completeBy` itself, its bytes would go from under it. Bytes whose record
 * is gone count from their creation as a record would (completeBy is two expiries after it).
 * An upload that cannot be read or removed is counted as failed and tried again next time. The
 * bucket's lifecycle rule on the staging prefix is the backstop for whatever a sweep misses
 * (docs/operations.md).
 */
export async function sweepDirectUploads(
  staging: DirectStaging,
  { expiresSeconds, now = new Date(), concurrency = 8 }: DirectSweepOptions,
): Promise<SweepResult> {
  const expiryMs = expiresSeconds * 1000;
  let checked = 0;
  let removed = 0;
  let failed = 0;
  const sweepOne = async (id: string, createdAt: Date): Promise<void> => {
    checked += 1;
    try {
      const record = await staging.loadRecord(id);
      const completeBy =
        record === undefined ? createdAt.valueOf() + 2 * expiryMs : Date.parse(record.completeBy);
      if (completeBy + expiryMs > now.valueOf()) return;
      await staging.remove(id);
      removed += 1;
    } catch {
      failed += 1;
    }
  };
  const running = new Set<Promise<void>>();
  for await (const upload of staging.list()) {
    // Nothing made less than one expiry ago can be due: its record need not be read.
    if (!uploadIdPattern.test(upload.id) || upload.createdAt.valueOf() + expiryMs > now.valueOf()) {
      continue;
    }
    const task = sweepOne(upload.id, upload.createdAt).finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  return { checked, removed, failed };
}
