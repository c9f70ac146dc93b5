import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { isErrno, removeStaleTempFiles } from '../../files.js';
import {
  StagingError,
  asStagingError,
  assertStagedNames,
  drainBody,
  uploadIdPattern,
  type PieceOptions,
  type PublishOptions,
  type StagedPiece,
  type UploadStaging,
  type VersionedRecord,
} from './upload-staging.js';

/**
 * Staged uploads as folders, `<root>/<id>/`, on the upload folder's disk. The record is a
 * file `record.<n>`: a new version is written to a temp file, flushed, and linked to the next
 * number, and link() fails if that number exists, so of two writers (two processes on this
 * disk included) that read version n, one wins and the other sees a conflict. The newest
 * number is the record; the winner then removes the older ones, so one file stays. A writer
 * that read version n long ago may find n+1 freed and link it after others committed n+1 and
 * n+2 (ABA): so after its link it looks again, and a higher number there (the newest is never
 * removed) means it lost; it takes its file back and answers a conflict.
 *
 * A new upload's folder is made complete (its first record inside) under `.incoming/` and
 * renamed into place, so the sweep never sees a folder whose record is not written yet.
 * Pieces are files, flushed before their length is reported.
 */
export class LocalStaging implements UploadStaging {
  private readonly incoming: string;
  readonly publishPieces?: UploadStaging['publishPieces'];

  /**
   * `publishTo`: the store this staging belongs to, on the same file system: a finished
   * upload's pieces are then published into it (publishPieces).
   */
  constructor(
    private readonly root: string,
    publishTo?: LocalPublishing,
  ) {
    this.incoming = path.join(root, '.incoming');
    if (publishTo !== undefined) {
      this.publishPieces = (id, pieces, name, options) =>
        this.publish(publishTo, id, pieces, name, options);
    }
  }

  async init(): Promise<void> {
    await fs.mkdir(this.incoming, { recursive: true });
    // A crash mid-create or mid-replace leaves a folder or a `.record` file here.
    await removeStaleTempFiles(this.incoming);
  }

  async create(id: string, record: unknown): Promise<void> {
    assertStagedNames(id);
    const temp = path.join(this.incoming, randomUUID());
    try {
      await fs.mkdir(temp, { recursive: true });
      await writeFlushed(path.join(temp, 'record.1'), JSON.stringify(record));
      await fs.rename(temp, this.folderOf(id));
    } catch (error) {
      await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
      if (isErrno(error, 'EEXIST') || isErrno(error, 'ENOTEMPTY')) {
        throw new StagingError('exists', `staged upload ${id} exists`, { cause: error });
      }
      throw asStagingError(error, `cannot create staged upload ${id}`);
    }
  }

  async read(id: string): Promise<VersionedRecord | undefined> {
    assertStagedNames(id);
    // A newer version may replace the newest one between readdir and readFile: look again.
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const version = await this.newestVersion(id);
      if (version === undefined) return undefined;
      try {
        const text = await fs.readFile(this.recordFile(id, version), 'utf8');
        // Emptied: how this service once kept superseded versions (none are written now).
        if (text === '') continue;
        return { record: JSON.parse(text) as unknown, version: String(version) };
      } catch (error) {
        if (!isErrno(error, 'ENOENT'))
          throw asStagingError(error, `cannot read staged upload ${id}`);
      }
    }
    throw new StagingError('unavailable', `staged upload ${id} keeps changing`);
  }

  async replace(id: string, record: unknown, version: string): Promise<void> {
    assertStagedNames(id);
    const current = Number(version);
    const temp = path.join(this.incoming, `${randomUUID()}.record`);
    try {
      await writeFlushed(temp, JSON.stringify(record));
      await fs.link(temp, this.recordFile(id, current + 1));
    } catch (error) {
      if (isErrno(error, 'EEXIST') || isErrno(error, 'ENOENT')) {
        throw new StagingError('conflict', `staged upload ${id} changed`, { cause: error });
      }
      throw asStagingError(error, `cannot write staged upload ${id}`);
    } finally {
      await fs.unlink(temp).catch(() => undefined);
    }
    const versions = await this.versions(id);
    if (versions.some((other) => other > current + 1)) {
      // Linked into a freed number below the newest: this writer's version was superseded.
      await fs.unlink(this.recordFile(id, current + 1)).catch(() => undefined);
      throw new StagingError('conflict', `staged upload ${id} changed`);
    }
    await syncFolder(this.folderOf(id));
    // Best effort: a version left behind is older than the newest, never read as the record.
    await Promise.all(
      versions
        .filter((other) => other <= current)
        .map((other) => fs.unlink(this.recordFile(id, other)).catch(() => undefined)),
    );
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
   * linked into the store: not a byte copied. Several are streamed into one new file: read
   * once, and nothing else done with them (a file cannot be made of other files' bytes
   * without a copy).
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
    return into.put(name, this.readPieces(id, pieces), options);
  }

  async removePiece(id: string, piece: StagedPiece): Promise<void> {
    assertStagedNames(id, piece.name);
    await fs.unlink(path.join(this.folderOf(id), `piece.${piece.name}`)).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw asStagingError(error, `cannot remove a piece of ${id}`);
    });
  }

  async removePieces(id: string): Promise<void> {
    assertStagedNames(id);
    const folder = this.folderOf(id);
    const entries = await fs.readdir(folder).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT')) return [];
      throw asStagingError(error, `cannot read staged upload ${id}`);
    });
    const pieces = entries.filter((entry) => entry.startsWith('piece.'));
    await Promise.all(
      pieces.map((entry) =>
        fs.unlink(path.join(folder, entry)).catch((error: unknown) => {
          if (!isErrno(error, 'ENOENT'))
            throw asStagingError(error, `cannot remove a piece of ${id}`);
        }),
      ),
    );
  }

  async removeAll(id: string): Promise<void> {
    assertStagedNames(id);
    try {
      await fs.rm(this.folderOf(id), { recursive: true, force: true });
    } catch (error) {
      throw asStagingError(error, `cannot remove staged upload ${id}`);
    }
  }

  async *listIds(): AsyncIterable<string> {
    const directory = await fs.opendir(this.root);
    for await (const entry of directory) {
      if (entry.isDirectory() && uploadIdPattern.test(entry.name)) yield entry.name;
    }
  }

  private async newestVersion(id: string): Promise<number | undefined> {
    const versions = await this.versions(id);
    return versions.length === 0 ? undefined : Math.max(...versions);
  }

  /** The record versions on disk (none when the upload is gone). */
  private async versions(id: string): Promise<number[]> {
    let entries: string[];
    try {
      entries = await fs.readdir(this.folderOf(id));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw asStagingError(error, `cannot read staged upload ${id}`);
    }
    return entries.flatMap((entry) => {
      const match = /^record\.([0-9]+)$/.exec(entry);
      return match === null ? [] : [Number(match[1])];
    });
  }

  private folderOf(id: string): string {
    return path.join(this.root, id);
  }

  private recordFile(id: string, version: number): string {
    return path.join(this.folderOf(id), `record.${version}`);
  }
}

/** The store a local staging publishes into (LocalStore's put and putLinked). */
export interface LocalPublishing {
  put(name: string, body: Readable, options: PublishOptions): Promise<void>;
  putLinked(name: string, file: string, options: PublishOptions): Promise<void>;
}

async function writeFlushed(file: string, text: string): Promise<void> {
  await fs.writeFile(file, text, { flag: 'wx', flush: true });
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await fs.open(folder, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the link itself is then as durable as it gets.
  } finally {
    await handle.close();
  }
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
