/**
 * Small JSON records of unfinished uploads, reachable from every instance (tus-node-server's
 * KvStore): one per upload, created once and replaced only with compare-and-swap, so two
 * instances serving one upload agree on its state. The store keeps whatever JSON it is given;
 * each kind of upload parses its own records (src/uploads). Nothing here is ever public.
 *
 * Ids are made by the service (UUIDs); a driver checks their shape before it builds a path or
 * an object name from one.
 */
export interface RecordStore {
  /** Creates the record; a StagingError of kind "exists" if the id is taken. */
  create(id: string, record: unknown): Promise<void>;
  /** The record and the version it was read at; undefined when there is none. */
  read(id: string): Promise<VersionedRecord | undefined>;
  /**
   * Replaces the record if nobody wrote it since `version` was read; otherwise (or when it is
   * gone) a StagingError of kind "conflict".
   */
  replace(id: string, record: unknown, version: string): Promise<void>;
  /** Removes the record; an unknown id is not an error. */
  remove(id: string): Promise<void>;
  /** Every id with a record, for the sweep (bytes without one: ByteArea.list). */
  listIds(): AsyncIterable<string>;
}

export interface VersionedRecord {
  readonly record: unknown;
  /** Opaque: the GCS generation, or the local record's sequence number. */
  readonly version: string;
}
