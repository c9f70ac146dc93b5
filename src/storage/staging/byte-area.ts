import type { Readable } from 'node:stream';
import { StagingError } from './staging-error.js';

/**
 * Where the bytes of unfinished uploads wait (tus-node-server's DataStore), beside their
 * records (RecordStore), private, reachable from every instance: GCS keeps them under
 * STAGING_PREFIX (in GCS_STAGING_BUCKET if set), the local driver under
 * `<UPLOAD_DIR>/.staging/`, and neither matches objectNamePattern. Two kinds of writer:
 *
 * - the service, in pieces (tus): each PATCH one piece, read back in order at the finish;
 * - the client, as one object through a target the service hands out (a direct upload: a
 *   signed PUT or a resumable session), then looked at and read once whole.
 *
 * Bytes go into an upload that has a record: a driver may refuse a write for an id whose
 * record is gone (a StagingError of kind "conflict").
 */
export interface ByteArea {
  readonly driver: 'local' | 'gcs';
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
   * mid-PATCH leaves one no record names); an unknown id is not an error.
   */
  removePieces(id: string): Promise<void>;

  /**
   * Where and how the client sends the upload's one object; a PUT the driver cannot sign fails
   * with a StagingError of kind "cannot_sign".
   */
  target(request: TargetRequest, options: TargetOptions): Promise<UploadTarget>;
  /**
   * Whether a target of `method` can be had, as far as the area knows without a request: false
   * where `target` would fail with "cannot_sign" (GCS credentials found unable to sign), so a
   * caller refuses before it writes anything for the upload.
   */
  offers(method: UploadMethod): boolean;
  /** The client's object once it has arrived whole; undefined before. */
  stagedObject(id: string): Promise<StagedObject | undefined>;
  /** Reads the client's object, `object` being what stagedObject answered. */
  openStaged(id: string, object: StagedObject, signal?: AbortSignal): Readable;
  /** Removes the client's object (and what of it arrived so far). */
  removeStaged(id: string): Promise<void>;

  /** Removes every byte staged for the upload, pieces and object; an unknown id is not an error. */
  removeAll(id: string): Promise<void>;
  /** Every upload with staged bytes, and when its first were written, for the sweep. */
  list(): AsyncIterable<StagedBytes>;

  /**
   * A capability (absent where the driver has no way to do it without a copy): makes the
   * pieces, one after the other, the published object `name` of the store this area stages
   * for, as ObjectStore.put would (create-only, a StorageError of kind "exists" when the name
   * is taken; the same content type, cache headers and metadata), without the bytes passing
   * through this process where the driver can (GCS composes them). The pieces stay: the caller
   * removes them once the upload's record says it is done.
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

export type UploadMethod = 'put' | 'resumable';

/** What a target is made for: the upload's id, and what its signature (if any) covers. */
export interface TargetRequest {
  readonly id: string;
  readonly method: UploadMethod;
  /** Exactly this many bytes are taken. */
  readonly size: number;
  readonly createdAt: string;
  /** The URL may be started until then. */
  readonly expiresAt: string;
}

export interface TargetOptions {
  /** The request's Origin when CORS allows it: a GCS resumable session answers it only. */
  readonly origin: string | undefined;
  /** Where the service itself is reached (the local driver's URLs point back at it). */
  readonly serviceOrigin: string;
}

/** Where and how the client sends the bytes. */
export interface UploadTarget {
  readonly url: string;
  /** Headers the client must send with its PUT (signed ones among them). */
  readonly headers: Readonly<Record<string, string>>;
}

/** A client's object that has arrived whole, pinned to the version that was looked at. */
export interface StagedObject {
  readonly size: number;
  /** The GCS generation read; a later overwrite by the client is not read. */
  readonly generation?: string | undefined;
}

/** One upload's bytes, as the sweep sees them. */
export interface StagedBytes {
  readonly id: string;
  /** When its first staged bytes were written. */
  readonly createdAt: Date;
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
