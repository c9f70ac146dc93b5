import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { addAbortSignal, Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { isErrno } from '../../files.js';
import {
  drainBody,
  type ByteArea,
  type PieceOptions,
  type PublishOptions,
  type StagedBytes,
  type StagedObject,
  type StagedPiece,
  type TargetOptions,
  type TargetRequest,
  type UploadTarget,
} from './byte-area.js';
import {
  StagingError,
  asStagingError,
  assertStagedNames,
  uploadIdPattern,
} from './staging-error.js';
import type { UploadUrlSigner } from './local-upload-urls.js';

/**
 * Staged bytes as files in the upload's folder, `<root>/<id>/`, which its record made
 * (LocalRecordStore): no folder, no upload, and a write fails as a conflict.
 *
 * Pieces are files `piece.<name>`, flushed before their length is reported. A client's object
 * is `data` once whole (a PUT's temp file `put-<random>` or a session's `partial`, flushed,
 * then renamed), never served (LocalStore opens only `<uuid>.<ext>` names), written through
 * the service's own upload route (its URLs: local-upload-urls.ts).
 */
export class LocalByteArea implements ByteArea {
  readonly driver = 'local';

  readonly publishPieces?: ByteArea['publishPieces'];

  /**
   * `publishTo`: the store whose uploads this area stages, on the same file system: a finished
   * upload's pieces are then published into it (publishPieces).
   */
  constructor(
    private readonly root: string,
    /** Signs the upload URLs this area hands out; the route that takes them verifies with it. */
    readonly signer: UploadUrlSigner,
    publishTo?: LocalPublishing,
  ) {
    if (publishTo !== undefined) {
      this.publishPieces = (id, pieces, name, options) =>
        this.publish(publishTo, id, pieces, name, options);
    }
  }

  async init(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
  }

  async writePiece(
    id: string,
    pieceName: string,
    body: Readable,
    options: PieceOptions,
  ): Promise<number> {
    assertStagedNames(id, pieceName);
    const file = path.join(this.folderOf(id), `piece.${pieceName}`);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'wx');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) {
        throw new StagingError('conflict', `staged upload ${id} is gone`, { cause: error });
      }
      throw asStagingError(error, `cannot write a piece of ${id}`);
    }
    // The stream owns the handle: it flushes it (fsync) before it closes it, after the last
    // write. Chunks queue in it (and go to disk together, writev) while the socket is read on.
    const out = handle.createWriteStream({ highWaterMark: pieceWriteBuffer, flush: true });
    let writeFailure: { error: unknown } | undefined;
    out.on('error', (error) => void (writeFailure ??= { error }));
    const flushing = new Flushing(handle);
    try {
      const { bytes } = await drainBody(body, options, async (chunk) => {
        if (writeFailure !== undefined) throw writeFailure.error;
        if (!out.write(chunk)) await once(out, 'drain');
        flushing.wrote(chunk.length);
      });
      out.end();
      // Flushed before the length is reported: an acknowledged byte survives a crash.
      await finished(out);
      await flushing.check();
      return bytes;
    } catch (error) {
      out.destroy();
      await finished(out).catch(() => undefined);
      await flushing.check().catch(() => undefined);
      await fs.unlink(file).catch(() => undefined);
      throw asStagingError(error, `cannot write a piece of ${id}`);
    }
  }

  readPieces(id: string, pieces: readonly StagedPiece[]): Readable {
    assertStagedNames(id);
    for (const piece of pieces) assertStagedNames(id, piece.name);
    const folder = this.folderOf(id);
    return Readable.from(
      (async function* () {
        for (const piece of pieces) {
          const handle = await fs.open(path.join(folder, `piece.${piece.name}`), 'r');
          try {
            // A piece may hold more than its recorded size only if a writer died past its
            // commit; what the record says is what counts.
            yield* handle.createReadStream({ start: 0, end: piece.size - 1, autoClose: false });
          } finally {
            await handle.close();
          }
        }
      })(),
      { objectMode: false },
    );
  }

  /**
   * One piece (a whole upload in one PATCH, as tus-js-client and Uppy send by default) is
   * linked into the store: not a byte copied. Several are copied into one new file of the
   * store (a file cannot be made of other files' bytes without a copy): read once, nothing
   * else done with them.
   */
  private async publish(
    into: LocalPublishing,
    id: string,
    pieces: readonly StagedPiece[],
    name: string,
    options: PublishOptions,
  ): Promise<void> {
    assertStagedNames(id);
    for (const piece of pieces) assertStagedNames(id, piece.name);
    if (pieces.length === 1) {
      const file = path.join(this.folderOf(id), `piece.${pieces[0]!.name}`);
      // Longer than recorded only if a writer died past its commit (see readPieces).
      const size = (await fs.stat(file).catch(() => undefined))?.size;
      if (size === pieces[0]!.size) return into.putLinked(name, file, options);
    }
    const folder = this.folderOf(id);
    const files = pieces.map((piece) => ({
      file: path.join(folder, `piece.${piece.name}`),
      size: piece.size,
    }));
    return into.putConcatenated(name, files, options);
  }

  async removePiece(id: string, piece: StagedPiece): Promise<void> {
    assertStagedNames(id, piece.name);
    await fs.unlink(path.join(this.folderOf(id), `piece.${piece.name}`)).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw asStagingError(error, `cannot remove a piece of ${id}`);
    });
  }

  async removePieces(id: string): Promise<void> {
    await this.removeFiles(id, (entry) => entry.startsWith('piece.'));
  }

  /** Both: the service signs its own upload URLs. */
  offers(): boolean {
    return true;
  }

  target(request: TargetRequest, options: TargetOptions): Promise<UploadTarget> {
    assertStagedNames(request.id);
    return Promise.resolve({
      url: this.signer.urlFor(request, options.serviceOrigin),
      headers: {},
    });
  }

  async stagedObject(id: string): Promise<StagedObject | undefined> {
    const stats = await fs.stat(this.objectPath(id, 'data')).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw asStagingError(error, `cannot look at the staged object of ${id}`);
    });
    return stats === undefined ? undefined : { size: stats.size };
  }

  openStaged(id: string, _object: StagedObject, signal?: AbortSignal): Readable {
    const stream = createReadStream(this.objectPath(id, 'data'));
    // Not createReadStream's own `signal` option: on Node 26, a signal that has fired (or
    // fires while the file is being opened) destroys the stream and leaves the file open for
    // good. Added afterwards, the same signal waits for the open and closes what it opened.
    return signal === undefined ? stream : addAbortSignal(signal, stream);
  }

  /**
   * Writes a whole object (a signed PUT): to a temp file, flushed, then renamed into place only
   * if it holds exactly `size` bytes, so a short body is never seen by a concurrent complete
   * (which would take the wrong size as a refused upload and remove it). Answers the bytes the
   * body held; an upload without its folder (its record gone) is a conflict.
   */
  async writeWhole(id: string, body: Readable, size: number): Promise<number> {
    const temp = this.objectPath(id, `put-${randomUUID()}`);
    try {
      // 0600: staged bytes are nobody's to read but this service's.
      await pipeline(body, createWriteStream(temp, { flags: 'wx', flush: true, mode: 0o600 }));
      const written = (await fs.stat(temp)).size;
      if (written === size) await fs.rename(temp, this.objectPath(id, 'data'));
      return written;
    } catch (error) {
      throw goneOr(error, id);
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  /** How many bytes of a resumable session have arrived (and are on disk). */
  async receivedBytes(id: string): Promise<number> {
    const stats = await fs.stat(this.objectPath(id, 'partial')).catch(() => undefined);
    return stats?.size ?? 0;
  }

  /**
   * Writes a session's chunk at `first` (at most the bytes received: a chunk sent again after
   * a lost answer overwrites its own bytes). Returns the bytes received after it, which may
   * be fewer than sent if the body broke off: the client resumes from there.
   */
  async writeChunk(id: string, first: number, body: Readable): Promise<number> {
    const file = this.objectPath(id, 'partial');
    try {
      // Made if need be, then cut back to `first`: what follows is this chunk's to write.
      await fs.writeFile(file, '', { flag: 'a', mode: 0o600 });
      await fs.truncate(file, first);
    } catch (error) {
      throw goneOr(error, id);
    }
    // 'r+', not 'a': positioned writes on a file opened for appending go to its end on Linux.
    // flush: the bytes acknowledged by the 308 that follows are on disk.
    const stream = createWriteStream(file, { flags: 'r+', start: first, flush: true });
    try {
      await pipeline(body, stream);
    } catch (error) {
      throw goneOr(error, id);
    } finally {
      if (!stream.closed)
        await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    }
    return (await fs.stat(file)).size;
  }

  /** The last chunk is in: the session's bytes become the staged object. */
  async finishChunks(id: string): Promise<void> {
    await fs
      .rename(this.objectPath(id, 'partial'), this.objectPath(id, 'data'))
      .catch((error: unknown) => {
        throw goneOr(error, id);
      });
  }

  async removeStaged(id: string): Promise<void> {
    await fs.rm(this.objectPath(id, 'data'), { force: true });
    await fs.rm(this.objectPath(id, 'partial'), { force: true });
  }

  /** Every byte file of the upload (pieces, object, a crashed PUT's temp file); the record stays. */
  async removeAll(id: string): Promise<void> {
    await this.removeFiles(id, isByteFile);
  }

  async *list(): AsyncIterable<StagedBytes> {
    const directory = await fs.opendir(this.root);
    for await (const entry of directory) {
      if (!entry.isDirectory() || !uploadIdPattern.test(entry.name)) continue;
      const folder = path.join(this.root, entry.name);
      let earliest: Date | undefined;
      for (const file of (await fs.readdir(folder).catch(() => [])).filter(isByteFile)) {
        const stats = await fs.stat(path.join(folder, file)).catch(() => undefined);
        if (stats !== undefined && (earliest === undefined || stats.mtime < earliest)) {
          earliest = stats.mtime;
        }
      }
      if (earliest !== undefined) yield { id: entry.name, createdAt: earliest };
    }
  }

  /** Removes the files of the upload's folder that `which` picks; a missing one is not an error. */
  private async removeFiles(id: string, which: (entry: string) => boolean): Promise<void> {
    assertStagedNames(id);
    const folder = this.folderOf(id);
    const entries = await fs.readdir(folder).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT')) return [];
      throw asStagingError(error, `cannot read staged upload ${id}`);
    });
    await Promise.all(
      entries.filter(which).map((entry) =>
        fs.unlink(path.join(folder, entry)).catch((error: unknown) => {
          if (!isErrno(error, 'ENOENT'))
            throw asStagingError(error, `cannot remove the bytes of ${id}`);
        }),
      ),
    );
  }

  private folderOf(id: string): string {
    return path.join(this.root, id);
  }

  private objectPath(id: string, name: string): string {
    // Ids come from URLs: only a UUID may become part of a path.
    assertStagedNames(id);
    return path.join(this.folderOf(id), name);
  }
}

/** The files of an upload's folder that are bytes (the others are its record's). */
function isByteFile(entry: string): boolean {
  return /^(?:piece\.|put-|data$|partial$)/.test(entry);
}

/** A write into a folder that is not there: the upload's record is gone. */
function goneOr(error: unknown, id: string): unknown {
  if (isErrno(error, 'ENOENT')) {
    return new StagingError('conflict', `staged upload ${id} is gone`, { cause: error });
  }
  return error;
}

/** What a piece's write stream holds before the body waits (chunks go to disk together). */
const pieceWriteBuffer = 1024 * 1024;
/** Written bytes after which a flush starts while the body goes on arriving. */
const flushEvery = 8 * 1024 * 1024;

/**
 * Flushes a piece while it is written, so the flush before the answer has only the tail
 * left: fdatasync of the first megabytes runs while the socket delivers the next ones.
 * One flush at a time; the write stream's own flush at its end covers the rest.
 */
class Flushing {
  private unflushed = 0;
  private running: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;

  constructor(private readonly handle: fs.FileHandle) {}

  wrote(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < flushEvery || this.running !== undefined) return;
    this.unflushed = 0;
    this.running = this.handle
      .datasync()
      .catch((error: unknown) => void (this.failure ??= { error }))
      .finally(() => (this.running = undefined));
  }

  /** Waits for the flush under way; fails if one failed (then the piece is not durable). */
  async check(): Promise<void> {
    await this.running;
    if (this.failure !== undefined) throw this.failure.error;
  }
}

/** The store a local staging publishes into (LocalStore's putConcatenated and putLinked). */
export interface LocalPublishing {
  putConcatenated(
    name: string,
    files: readonly { readonly file: string; readonly size: number }[],
    options: PublishOptions,
  ): Promise<void>;
  putLinked(name: string, file: string, options: PublishOptions): Promise<void>;
}
