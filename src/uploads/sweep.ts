import type { UploadStaging } from '../storage/staging/upload-staging.js';
import { isExpired, parseUploadRecord } from './upload-record.js';

export interface SweepResult {
  readonly checked: number;
  readonly removed: number;
  /** Uploads that could not be read or removed this time (the next sweep tries again). */
  readonly failed: number;
}

/**
 * Removes expired uploads (their records and pieces), and pieces whose record is gone (a
 * PATCH that wrote on while a DELETE ran). Safe to run on every instance at once: removing
 * what is already gone is not an error. On GCS a lifecycle rule on the staging prefix catches
 * what a sweep never reaches (docs/operations.md).
 */
export async function sweepUploads(
  staging: UploadStaging,
  now: Date = new Date(),
  concurrency = 8,
): Promise<SweepResult> {
  let checked = 0;
  let removed = 0;
  let failed = 0;
  const sweepOne = async (id: string): Promise<void> => {
    checked += 1;
    try {
      const found = await staging.read(id);
      if (found !== undefined && !isExpired(parseUploadRecord(found.record, id), now)) return;
      await staging.removeAll(id);
      removed += 1;
    } catch {
      failed += 1;
    }
  };
  const running = new Set<Promise<void>>();
  for await (const id of staging.listIds()) {
    const task = sweepOne(id).finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  return { checked, removed, failed };
}

/**
 * Runs `sweep` every `intervalMs` (one run at a time: a tick that finds the last one still
 * running is skipped; the timer never keeps the process alive); returns the function that
 * stops it, called on shutdown. Every sweep (tus, direct) runs through this one timer.
 */
export function sweepPeriodically(
  sweep: () => Promise<SweepResult>,
  intervalMs: number,
  onSwept: (result: SweepResult) => void,
  onError: (error: unknown) => void,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep()
      .then(onSwept, onError)
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
