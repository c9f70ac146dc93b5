import { randomUUID } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isErrno, removeStaleTempFiles } from '../files.js';

/** The names this service gives spool files; nothing else in SPOOL_DIR is ever removed. */
const spoolFileName = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.spool$/;

/** Creates the spool folder and removes the spool files a crashed process left in it. */
export async function prepareSpoolDirectory(directory: string): Promise<void> {
  await fs.mkdir(directory, { recursive: true, mode: 0o700 });
  await removeStaleTempFiles(directory, spoolFileName);
}

/**
 * The compressed bytes of one streamed image, written to disk as they pass so that sharp can
 * decode the image from its path at the end without the process holding it in memory. Each
 * write is awaited by the caller: the disk sets the pace, nothing queues up in memory.
 */
export class SpoolFile {
  private position = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** A new file with a random name, created exclusively: never someone else's file. */
  static async create(directory: string): Promise<SpoolFile> {
    const file = path.join(directory, `${randomUUID()}.spool`);
    let handle: FileHandle;
    try {
      handle = await fs.open(file, 'wx', 0o600);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      // A tmp cleaner may have removed the folder while it sat empty since start-up.
      await fs.mkdir(directory, { recursive: true, mode: 0o700 });
      handle = await fs.open(file, 'wx', 0o600);
    }
    return new SpoolFile(file, handle);
  }

  async write(chunk: Buffer): Promise<void> {
    // A write to a file may take fewer bytes than offered; go on until all are written.
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(
        chunk,
        offset,
        chunk.length - offset,
        this.position,
      );
      offset += bytesWritten;
      this.position += bytesWritten;
    }
  }

  /** Ends the writing: the whole image is then at `path`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  /** Closes and deletes the file; safe to call more than once, and after close(). */
  async remove(): Promise<void> {
    try {
      await this.close();
    } finally {
      await fs.rm(this.path, { force: true });
    }
  }
}
