import { removeUpload, type Staging, type StagingArea } from '../storage/staging/staging.js';
import type { VersionedRecord } from '../storage/staging/record-store.js';
import { isDirectUploadDue, parseDirectUploadRecord } from './direct-upload-record.js';
import { isExpired, parseUploadRecord } from './upload-record.js';

export interface SweepResult {
  readonly checked: number;
  readonly removed: number;
  /** Uploads that could not be read or removed this time (the next sweep tries again). */
  readonly failed: number;
}

/** What the sweep needs to know of one kind of upload. */
export interface SweptArea {
  /** The kind of upload, as the log names it. */
  readonly name: string;
  readonly area: StagingArea;
  /** Whether the upload this record is of can no longer be used (expired, or long completed). */
  readonly isDue: (record: unknown, id: string, now: Date) => boolean;
  /**
   * How long bytes whose record is gone stay, from when they were written: a tus PATCH that
   * wrote on while a DELETE ran leaves them (none: they go at once); a direct upload's client
   * may still write through a session URL after its record went (GCS keeps one open a week),
   * so those count from their creation as a record would.
   */
  readonly orphanGraceMs: number;
}

export interface SweepOptions {
  readonly now?: Date | undefined;
  /** How many uploads are looked at at once. */
  readonly concurrency?: number | undefined;
  /** Told when an area could not be listed (counted as one failure; the next area goes on). */
  readonly onAreaFailed?: ((name: string, error: unknown) => void) | undefined;
}

/**
 * The areas of the staging layer as the sweep sees them: tus uploads are due once expired
 * (UPLOAD_EXPIRES_SECONDS after their last byte); direct ones once their `completeBy` passed
 * more than one expiry ago (isDirectUploadDue). A record this service did not write fails
 * loudly (counted as failed), never swept as if it were due.
 */
export function sweptAreasOf(staging: Staging, directExpiresSeconds: number): SweptArea[] {
  const expiryMs = directExpiresSeconds * 1000;
  return [
    {
      name: 'tus',
      area: staging.tus,
      isDue: (record, id, now) => isExpired(parseUploadRecord(record, id), now),
      orphanGraceMs: 0,
    },
    {
      name: 'direct',
      area: staging.direct,
      isDue: (value, id, now) => {
        const record = parseDirectUploadRecord(value, id);
        if (record === undefined) throw new Error(`the staged record of upload ${id} is not ours`);
        return isDirectUploadDue(record, directExpiresSeconds, now);
      },
      // completeBy is two expiries after creation, and one more margin as for a record.
      orphanGraceMs: 3 * expiryMs,
    },
  ];
}

/**
 * Removes what can no longer be used from every area: uploads that are due (their records and
 * bytes), and bytes whose record is gone once their grace has passed. Safe to run on every
 * instance at once: removing what is already gone is not an error. An upload that cannot be
 * read or removed is counted as failed and tried again next time. On GCS a lifecycle rule on
 * the staging prefix catches what a sweep never reaches (docs/operations.md).
 */
export async function sweepUploads(
  areas: readonly SweptArea[],
  { now = new Date(), concurrency = 8, onAreaFailed }: SweepOptions = {},
): Promise<SweepResult> {
  let checked = 0;
  let removed = 0;
  let failed = 0;
  const running = new Set<Promise<void>>();
  /**
   * Looks at one upload (at most `concurrency` at once): its record, if any, decides whether
   * it goes; one that has a record when `due` wants none, or that is not due, stays.
   */
  const sweepOne = async (
    area: StagingArea,
    id: string,
    due: (found: VersionedRecord | undefined) => boolean | 'not mine',
  ): Promise<void> => {
    const task = (async () => {
      try {
        const verdict = due(await area.records.read(id));
        if (verdict === 'not mine') return;
        checked += 1;
        if (!verdict) return;
        await removeUpload(area, id);
        removed += 1;
      } catch {
        checked += 1;
        failed += 1;
      }
    })().finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
  };
  for (const { name, area, isDue, orphanGraceMs } of areas) {
    try {
      for await (const id of area.records.listIds()) {
        // No record: bytes alone, which the second pass looks at.
        await sweepOne(area, id, (found) =>
          found === undefined ? 'not mine' : isDue(found.record, id, now),
        );
      }
      await Promise.all(running);
      for await (const { id, createdAt } of area.bytes.list()) {
        // Nothing written within the grace can be due: its record need not be read.
        if (createdAt.valueOf() + orphanGraceMs > now.valueOf()) continue;
        // With a record, the first pass looked at it.
        await sweepOne(area, id, (found) => (found === undefined ? true : 'not mine'));
      }
    } catch (error) {
      // A listing failed: this area waits for the next sweep, the others need not.
      failed += 1;
      onAreaFailed?.(name, error);
    }
    // Each upload's task catches its own failure.
    await Promise.all(running);
  }
  return { checked, removed, failed };
}

/**
 * Runs `sweep` every `intervalMs` (one run at a time: a tick that finds the last one still
 * running is skipped; the timer never keeps the process alive); returns the function that
 * stops it, called on shutdown.
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
