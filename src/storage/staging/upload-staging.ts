import type { Readable } from 'node:stream';

/**
 * Where unfinished uploads wait, reachable from every instance: a small JSON record per
 * upload, written with compare-and-swap, and the upload's bytes as pieces. Nothing here is
 * ever public: GCS keeps it under STAGING_PREFIX, the local driver under
 * `<UPLOAD_DIR>/.staging/`, and neither matches objectNamePattern.
 *
 * Ids and piece names are made by the service (UUIDs, `<offset>-<random hex>`); each driver
 * checks their shape before it builds a path or an object name from them.
 */
export interface UploadStaging {
  /** Creates the record; a StagingError of kind "exists" if the id is taken. */
  create(id: string, record: unknown): Promise<void>;
  /** The record and the version it was read at; undefined when there is none. */
  read(id: string): Promise<VersionedRecord | undefined>;
  /**
   * Replaces the record if nobody wrote it since `version` was read; otherwise (or when it is
   * gone) a StagingError of kind "conflict".
   */
  replace(id: string, record: unknown, version: string): Promise<void>;
  /**
   * Writes the body as one piece, up to `maxBytes`, and answers how many bytes it kept. A body
   * that fails or is cut part-way is not an error: what arrived before is kept and counted
   * (tus: the server SHOULD keep them). A body longer than `maxBytes` fails with a StagingError
   * of kind "too_large", and nothing of it is kept.
   */
  writePiece(id: string, pieceName: string, body: Readable, options: PieceOptions): Promise<number>;
  /** The pieces' bytes one after the other, streamed. */
  readPieces(id: string, pieces: readonly StagedPiece[]): Readable;
  /** Removes one piece (a refused or superseded write); a missing piece is not an error. */
  removePiece(id: string, piece: StagedPiece): Promise<void>;
  /**
   * Removes every piece of the upload, named by its record or not (an instance killed
   * mid-PATCH leaves one no record names), and keeps the record; an unknown id is not an error.
   */
  removePieces(id: string): Promise<void>;
  /** Removes the upload's pieces, then its record; an unknown id is not an error. */
  removeAll(id: string): Promise<void>;
  /** Every staged id, records or pieces alike, for the sweep. */
  listIds(): AsyncIterable<string>;
  /**
   * A capability (absent where the driver has no way to do it without a copy): makes the
   * pieces, one after the other, the published object `name` of the store this staging
   * belongs to, as ObjectStore.put would (create-only, a StorageError of kind "exists" when
   * the name is taken; the same content type, cache headers and metadata), without the bytes
   * passing through this process (GCS composes them). The pieces stay: the caller removes them
   * once the upload's record says it is done.
   */
  readonly publishPieces?: (
    id: string,
    pieces: readonly StagedPiece[],
    name: string,
    options: PublishOptions,
  ) => Promise<void>;
}

/** What publishPieces writes with the object: ObjectStore's PutOptions for bytes at rest. */
export interface PublishOptions {
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
}

export interface VersionedRecord {
  readonly record: unknown;
  /** Opaque: the GCS generation, or the local record's sequence number. */
  readonly version: string;
}

export interface StagedPiece {
  readonly name: string;
  /** Its length in bytes, as writePiece answered. */
  readonly size: number;
}

export interface PieceOptions {
  /** Stops reading the body, as a cut would: what arrived is kept. */
  readonly signal?: AbortSignal | undefined;
  readonly maxBytes: number;
}

export type StagingErrorKind = 'exists' | 'conflict' | 'too_large' | 'unavailable';

export class StagingError extends Error {
  constructor(
    readonly kind: StagingErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StagingError';
  }
}

/** By shape rather than `instanceof`, which breaks across jest's module realms. */
export function isStagingError(error: unknown, kind?: StagingErrorKind): error is StagingError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'StagingError' &&
    'kind' in error &&
    (kind === undefined || error.kind === kind)
  );
}

/** A failure as the staging's own: a StagingError stays what it is, anything else is `unavailable`. */
export function asStagingError(error: unknown, message: string): StagingError {
  return isStagingError(error) ? error : new StagingError('unavailable', message, { cause: error });
}

/** Every upload id, tus and direct: lower-case UUIDs the service created. */
export const uploadIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Piece names: the offset the piece starts at and a random suffix, made by the service. */
const pieceNamePattern = /^[0-9]{1,15}-[0-9a-f]{8,32}$/;

export function assertStagedNames(id: string, pieceName?: string): void {
  if (!uploadIdPattern.test(id)) throw new Error(`refusing unsafe staged id ${id}`);
  if (pieceName !== undefined && !pieceNamePattern.test(pieceName)) {
    throw new Error(`refusing unsafe piece name ${pieceName}`);
  }
}

/**
 * The staging areas of one store: tus uploads. (Direct uploads keep their own small record and
 * one staged object, src/storage/direct/, under `<prefix>direct/`.)
 */
export interface StagingAreas {
  area(name: 'tus'): UploadStaging;
}

/**
 * Reads a body until it ends, is cut, or passes `maxBytes`; hands each chunk to `write`.
 * Answers whether the body ended cleanly.
 */
export async function drainBody(
  body: Readable,
  { signal, maxBytes }: PieceOptions,
  write: (chunk: Buffer) => Promise<void>,
): Promise<{ bytes: number; ended: boolean }> {
  let bytes = 0;
  /** A failure of our own write, as opposed to the body's: that one is never swallowed. */
  let ownFailure: { error: unknown } | undefined;
  const stop = (): void => void body.destroy(new Error('upload stopped'));
  signal?.addEventListener('abort', stop, { once: true });
  try {
    if (signal?.aborted === true) stop();
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      if (bytes + buffer.length > maxBytes) {
        ownFailure = { error: new StagingError('too_large', `the piece passes ${maxBytes} bytes`) };
        body.destroy();
        throw ownFailure.error;
      }
      try {
        await write(buffer);
      } catch (error) {
        ownFailure = { error };
        throw error;
      }
      bytes += buffer.length;
    }
    return { bytes, ended: true };
  } catch {
    if (ownFailure !== undefined) throw ownFailure.error;
    // The body was cut or failed: what arrived so far stays.
    return { bytes, ended: false };
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
