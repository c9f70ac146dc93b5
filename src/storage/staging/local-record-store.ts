import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isErrno, removeStaleTempFiles } from '../../files.js';
import type { RecordStore, VersionedRecord } from './record-store.js';
import {
  StagingError,
  asStagingError,
  assertStagedNames,
  uploadIdPattern,
} from './staging-error.js';

/**
 * Records as files in one folder per upload, `<root>/<id>/record.<n>`, on the upload folder's
 * disk; the upload's bytes (LocalByteArea) live in the same folder. A new version is written
 * to a temp file, flushed, and linked to the next number, and link() fails if that number
 * exists, so of two writers (two processes on this disk included) that read version n, one
 * wins and the other sees a conflict. The newest number is the record; the winner then
 * removes the older ones, so one file stays. A writer that read version n long ago may find
 * n+1 freed and link it after others committed n+1 and n+2 (ABA): so after its link it looks
 * again, and a higher number there (the newest is never removed) means it lost; it takes its
 * file back and answers a conflict.
 *
 * A new upload's folder is made complete (its first record inside) under `.incoming/` and
 * renamed into place, so the sweep never sees a folder whose record is not written yet.
 */
export class LocalRecordStore implements RecordStore {
  private readonly incoming: string;

  constructor(private readonly root: string) {
    this.incoming = path.join(root, '.incoming');
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

  /**
   * Removes the upload's folder, with whatever is in it (bytes a PATCH wrote while the upload
   * was being removed included). It is first renamed into `.incoming/` (whose stale entries
   * init clears): from then on a writer that read the record before, and opens a piece or
   * links its next version, finds no folder and gets a conflict. Removed in place, the folder
   * would outlive such a piece, and that writer's link would bring the upload back.
   */
  async remove(id: string): Promise<void> {
    assertStagedNames(id);
    const away = path.join(this.incoming, randomUUID());
    try {
      await fs.rename(this.folderOf(id), away);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw asStagingError(error, `cannot remove staged upload ${id}`);
    }
    // Best effort: the folder is out of every upload's way already, and init clears it later.
    await fs.rm(away, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Every upload folder: one whose record is gone (bytes only) reads as undefined. */
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
