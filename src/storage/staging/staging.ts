import type { ByteArea } from './byte-area.js';
import type { RecordStore } from './record-store.js';

/** The records and the bytes of one kind of upload (`tus`, `direct`), side by side. */
export interface StagingArea {
  readonly records: RecordStore;
  readonly bytes: ByteArea;
}

/**
 * The staging layer (createStaging): one area per kind of upload, on the same drivers, so the
 * ids of one kind never name the other's uploads.
 */
export interface Staging {
  readonly driver: 'local' | 'gcs';
  readonly tus: StagingArea;
  readonly direct: StagingArea;
}

/**
 * Removes an upload from its area: its bytes first, then its record (an id without its record
 * is only ever an orphan). The local record store takes the upload's folder with the record,
 * so bytes a late writer put there go too, and that writer's next step is a conflict.
 */
export async function removeUpload(area: StagingArea, id: string): Promise<void> {
  await area.bytes.removeAll(id);
  await area.records.remove(id);
}
