import type { Readable } from 'node:stream';

/**
 * The one interface the pipeline writes through. Drivers get their dependencies through their
 * constructors, so tests can hand in a bucket that points at the emulator.
 */
export interface PutOptions {
  readonly contentType: string;
  /** Custom metadata kept with the object (GCS object metadata). */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * More custom metadata that is only known once a streamed body has ended (its hash): called
   * once the body ended cleanly (a Buffer: before it is written) and merged over `metadata`.
   * GCS sets it in the metadata update that follows the final chunk (so for a moment the new
   * object is without it); the local driver writes it into the object's sidecar before the
   * object becomes visible.
   */
  readonly finalMetadata?: (() => Readonly<Record<string, string>>) | undefined;
  /** Aborts the write; a driver then leaves nothing behind. */
  readonly signal?: AbortSignal | undefined;
  /**
   * The name is shared by every retry of one idempotent request, so a failed write whose
   * outcome is unknown must not be cleaned up later: a concurrent retry may already have
   * reported that very object as a success.
   */
  readonly sharedName?: boolean | undefined;
}

export type StoreOperation = 'put' | 'delete' | 'stat' | 'read' | 'list' | 'update';

/** What a store reports about its calls, for metrics. */
export interface StoreListener {
  /** A call finished (after all its retries), with how long it took. */
  called?(operation: StoreOperation, outcome: 'ok' | 'error', seconds: number): void;
  /** An attempt failed transiently and is being retried. */
  retried?(operation: StoreOperation): void;
}

/** What is known about a stored object, to tell our own earlier write from another one. */
export interface StoredObjectInfo {
  readonly size: number;
  readonly contentType: string | undefined;
  /** Base64 MD5 of the bytes, as GCS reports it. */
  readonly md5: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * A stored object opened for reading: its bytes as a stream, and how many there are. What
 * describes it (type, metadata) is stat()'s: a reader of the bytes does not need it, and the
 * local driver then opens one file, not the object and its sidecar (a stored rendition is
 * served from this, docs/performance.md).
 */
export interface StoredObjectBody {
  /** Read it or destroy it: an unread stream holds a file handle or a connection. */
  readonly body: Readable;
  readonly size: number;
}

export interface ObjectStore {
  readonly driver: 'local' | 'gcs';
  /**
   * Writes a new object, all or nothing: it never overwrites an existing name (a
   * StorageError of kind "exists" instead), and on any failure nothing remains.
   * A Buffer body may be retried by the driver; a stream is read once, and a driver retries
   * only from the bytes it still holds.
   */
  put(name: string, body: Buffer | Readable, options: PutOptions): Promise<void>;
  /** Removes the object and its metadata; a name with no object is not an error. */
  delete(name: string): Promise<void>;
  /** The URL where a stored object can be fetched. */
  publicUrl(name: string): string;
  /**
   * Size, content type and custom metadata of an object; undefined when there is no such
   * object. Content type and metadata are those the object was put with.
   */
  stat(name: string, signal?: AbortSignal): Promise<StoredObjectInfo | undefined>;
  /**
   * Whether an object is stored under the name: what `stat(name) !== undefined` says, without
   * reading what describes it (the local driver's sidecar). A render asks it once more after
   * its write, to find a delete that ran meanwhile (src/renditions/renditions.ts).
   */
  exists(name: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Opens an object for reading; undefined when there is no such object. The stream delivers
   * the bytes of the object as it was when opened, or fails (a StorageError).
   */
  read(name: string, signal?: AbortSignal): Promise<StoredObjectBody | undefined>;
  /**
   * Names of the objects whose names start with `prefix`, in no particular order. An object
   * whose put() has resolved is listed; one deleted before the call is not.
   */
  list(prefix: string, signal?: AbortSignal): Promise<string[]>;
  /**
   * Sets entries of an object's custom metadata, keeping the others; false when there is no
   * such object. The bytes never change: only what describes them (a focal point set later).
   */
  updateMetadata(name: string, metadata: Readonly<Record<string, string>>): Promise<boolean>;
  /** Whether the store can be written now (readiness); answers within `timeoutMs`. */
  checkReady(timeoutMs: number): Promise<boolean>;
  /**
   * Where an object's bytes lie on this machine's file system, for a reader that opens files
   * itself (sharp, which then reads with shrink-on-load and no JavaScript buffer at all). Only
   * a driver that keeps objects as files has it. Nothing is checked: the file may be missing,
   * or removed at any moment after, and a reader treats that as the object's absence.
   */
  filePath?(name: string): string;
  /** Registers a listener for metrics; returns a function that removes it. */
  observe?(listener: StoreListener): () => void;
  /**
   * Waits (up to `timeoutMs`) for background clean-ups to finish, e.g. before exit; those
   * still running then are abandoned (their retries stop).
   */
  settle?(timeoutMs: number): Promise<void>;
}

export type StorageErrorKind = 'exists' | 'unavailable';

/** Failures of a store, in the store's own terms; the pipeline maps them to API errors. */
export class StorageError extends Error {
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** By shape rather than `instanceof`, which breaks across jest's module realms. */
export function isStorageError(error: unknown): error is StorageError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'StorageError' &&
    'kind' in error
  );
}

/**
 * Names the service creates, and the only names the local file route will open: an original
 * `<id>.<ext>`, or one of its variants `<id>.<variant>.<ext>` (variant names as
 * src/images/variant-spec.ts allows them: a lower-case letter, then up to 31 of a-z, 0-9, _, -).
 */
export const objectNamePattern =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\.[a-z][a-z0-9_-]{0,31})?\.[a-z0-9]{2,5}$/;

/** Names are UUIDs: an object never changes, so caches may keep it for a year. */
export const immutableCacheControl = 'public, max-age=31536000, immutable';
