import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  StorageError,
  objectNamePattern,
  type ObjectStore,
  type PutOptions,
  type StoredObjectInfo,
} from './object-store.js';
import { isErrno, removeStaleTempFiles } from '../files.js';

export interface LocalFile {
  readonly stream: Readable;
  readonly size: number;
  readonly modified: Date;
}

/**
 * Stores objects as files under one folder. Each write goes to a temp file in a sub-folder
 * on the same file system, is flushed to disk, then linked into place: a reader never sees a
 * half-written file, and link() fails instead of overwriting an existing name.
 */
export class LocalStore implements ObjectStore {
  readonly driver = 'local';
  private readonly tempDir: string;

  constructor(
    private readonly directory: string,
    private readonly publicBaseUrl: string,
  ) {
    this.tempDir = path.join(directory, '.incoming');
  }

  /** Creates the folders and removes temp files that a crashed process left behind. */
  async init(): Promise<void> {
    await fs.mkdir(this.tempDir, { recursive: true });
    await removeStaleTempFiles(this.tempDir);
  }

  async put(name: string, body: Buffer | Readable, options: PutOptions): Promise<void> {
    this.assertName(name);
    const tempFile = path.join(this.tempDir, `${randomUUID()}.part`);
    try {
      if (Buffer.isBuffer(body)) {
        // One write call for a buffer: a stream around it would only add overhead.
        await fs.writeFile(tempFile, body, { flag: 'wx', flush: true, signal: options.signal });
      } else {
        await pipeline(body, createWriteStream(tempFile, { flags: 'wx', flush: true }), {
          signal: options.signal,
        });
      }
      await fs.link(tempFile, this.pathOf(name));
    } catch (error) {
      if (isErrno(error, 'EEXIST')) {
        throw new StorageError('exists', `object ${name} already exists`, { cause: error });
      }
      if (isErrno(error, 'ENOSPC') || isErrno(error, 'EACCES') || isErrno(error, 'EROFS')) {
        throw new StorageError('unavailable', `cannot write ${name}`, { cause: error });
      }
      throw error;
    } finally {
      // unlink, not rm: rm would lstat first, one more system call on every upload.
      await fs.unlink(tempFile).catch((error: unknown) => {
        if (!isErrno(error, 'ENOENT')) throw error;
      });
    }
  }

  async delete(name: string): Promise<void> {
    this.assertName(name);
    await fs.rm(this.pathOf(name), { force: true });
  }

  publicUrl(name: string): string {
    return `${this.publicBaseUrl}/uploads/${name}`;
  }

  /** Files keep no metadata, so the sha256 a GCS object carries is computed from the bytes. */
  async stat(name: string): Promise<StoredObjectInfo | undefined> {
    this.assertName(name);
    const hash = createHash('sha256');
    const md5 = createHash('md5');
    try {
      const handle = await fs.open(this.pathOf(name), 'r');
      for await (const chunk of handle.createReadStream()) {
        hash.update(chunk as Buffer);
        md5.update(chunk as Buffer);
      }
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
    const stats = await fs.stat(this.pathOf(name));
    return {
      size: stats.size,
      contentType: undefined,
      md5: md5.digest('base64'),
      metadata: { sha256: hash.digest('hex') },
    };
  }

  /** Ready when a temp file could be created: the folder exists and is writable. */
  async checkReady(): Promise<boolean> {
    try {
      await fs.access(this.tempDir, fsConstants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** Opens a stored object for reading; undefined when there is no such object. */
  async open(name: string): Promise<LocalFile | undefined> {
    if (!objectNamePattern.test(name)) return undefined;
    const file = this.pathOf(name);
    try {
      const handle = await fs.open(file, 'r');
      const stats = await handle.stat();
      if (!stats.isFile()) {
        await handle.close();
        return undefined;
      }
      return { stream: handle.createReadStream(), size: stats.size, modified: stats.mtime };
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  private pathOf(name: string): string {
    return path.join(this.directory, name);
  }

  private assertName(name: string): void {
    // Names are made by the service, never by clients; this guards against a future caller.
    if (!objectNamePattern.test(name)) throw new Error(`refusing unsafe object name ${name}`);
  }
}
