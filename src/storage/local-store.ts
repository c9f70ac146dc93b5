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
  type StoredObjectBody,
  type StoredObjectInfo,
} from './object-store.js';
import { isErrno, removeStaleTempFiles, staleTempFileMs } from '../files.js';

/** A stored object opened for reading: its file handle is held until it is read or closed. */
export interface LocalFile {
  readonly size: number;
  readonly modified: Date;
  /**
   * Strong: a name is never reused for other bytes, and a file is never written in place
   * (it is linked into place whole), so its size and time name its bytes, as nginx's do.
   */
  readonly etag: string;
  /** Bytes `start` to `end` (both included), or all; the stream closes the handle when done. */
  read(range?: { readonly start: number; readonly end: number }): Readable;
  /** Closes the handle when the bytes are not read. */
  close(): Promise<void>;
}

/** What a sidecar holds: the object's content type and custom metadata, as GCS keeps them. */
interface Sidecar {
  readonly contentType: string;
  readonly metadata: Record<string, string>;
}

/**
 * Stores objects as files under one folder. Each write goes to a temp file in a sub-folder
 * on the same file system, is flushed to disk, then linked into place: a reader never sees a
 * half-written file, and link() fails instead of overwriting an existing name.
 *
 * Content type and custom metadata live in a sidecar, `.meta/<name>.json`, linked into place
 * before the object itself: a visible object always has its sidecar, and the sidecar's link()
 * is the one that decides whether a name is taken. Neither dot-folder matches
 * `objectNamePattern`, so the file route can never serve them.
 */
export class LocalStore implements ObjectStore {
  readonly driver = 'local';
  private readonly tempDir: string;
  private readonly metaDir: string;

  constructor(
    private readonly directory: string,
    private readonly publicBaseUrl: string,
  ) {
    this.tempDir = path.join(directory, '.incoming');
    this.metaDir = path.join(directory, '.meta');
  }

  /** Creates the folders and removes temp files that a crashed process left behind. */
  async init(): Promise<void> {
    await fs.mkdir(this.tempDir, { recursive: true });
    await fs.mkdir(this.metaDir, { recursive: true });
    await removeStaleTempFiles(this.tempDir);
  }

  async put(name: string, body: Buffer | Readable, options: PutOptions): Promise<void> {
    await this.writeThenLink(name, options, async (tempFile) => {
      if (Buffer.isBuffer(body)) {
        // One write call for a buffer: a stream around it would only add overhead.
        await fs.writeFile(tempFile, body, { flag: 'wx', flush: true, signal: options.signal });
      } else {
        await pipeline(body, createWriteStream(tempFile, { flags: 'wx', flush: true }), {
          signal: options.signal,
        });
      }
    });
  }

  /**
   * As put, with the first `size` bytes of each file in turn as the body (a staged upload's
   * pieces; a file may be longer than what counts of it). Copied through one reused buffer in
   * large reads and writes rather than streamed: a stream makes each 64 KiB read a new buffer
   * for the garbage collector, and each write a request of its own, for bytes that only pass.
   */
  async putConcatenated(
    name: string,
    files: readonly { readonly file: string; readonly size: number }[],
    options: PutOptions,
  ): Promise<void> {
    await this.writeThenLink(name, options, (tempFile) =>
      concatenateInto(tempFile, files, options.signal),
    );
  }

  /** Has `write` make a new flushed temp file, then links it into place as `name`. */
  private async writeThenLink(
    name: string,
    options: PutOptions,
    write: (tempFile: string) => Promise<void>,
  ): Promise<void> {
    this.assertName(name);
    const tempFile = path.join(this.tempDir, `${randomUUID()}.part`);
    try {
      await write(tempFile);
    } catch (error) {
      await removeIfPresent(tempFile);
      throw asUnavailable(error, `cannot write ${name}`);
    }
    try {
      // The body has ended cleanly: only now is what finalMetadata reports (its hash) known.
      await this.linkInto(name, tempFile, options);
    } finally {
      // unlink, not rm: rm would lstat first, one more system call on every upload.
      await removeIfPresent(tempFile);
    }
  }

  /**
   * As put, from a file on this store's file system (a staged upload's piece), flushed
   * already: it is linked into place, so not a byte is copied. The file is left where it is;
   * the object shares its bytes, which nothing may write to again.
   */
  async putLinked(name: string, file: string, options: PutOptions): Promise<void> {
    this.assertName(name);
    await this.linkInto(name, file, options);
  }

  /** Writes the sidecar, then links it and `file` into place. */
  private async linkInto(name: string, file: string, options: PutOptions): Promise<void> {
    const tempSidecar = path.join(this.tempDir, `${randomUUID()}.json.part`);
    try {
      const sidecar: Sidecar = {
        contentType: options.contentType,
        metadata: { ...options.metadata, ...options.finalMetadata?.() },
      };
      await fs.writeFile(tempSidecar, JSON.stringify(sidecar), {
        flag: 'wx',
        flush: true,
        signal: options.signal,
      });
      // The last moment a client that went away can still stop the write.
      options.signal?.throwIfAborted();
      await this.linkSidecar(tempSidecar, name);
      try {
        await fs.link(file, this.pathOf(name));
      } catch (error) {
        // EEXIST here: an object stored before sidecars existed. Ours must not describe it.
        await fs.unlink(this.sidecarOf(name)).catch(() => undefined);
        throw error;
      }
    } catch (error) {
      if (isErrno(error, 'EEXIST')) {
        throw new StorageError('exists', `object ${name} already exists`, { cause: error });
      }
      throw asUnavailable(error, `cannot write ${name}`);
    } finally {
      await removeIfPresent(tempSidecar);
    }
  }

  /**
   * Links the sidecar into place; EEXIST means the name is taken. A sidecar without its object
   * is either a write between its two links (a moment) or what a crash in delete() left; only
   * an old one is taken for the latter and replaced, so a crash cannot block a name forever.
   */
  private async linkSidecar(tempSidecar: string, name: string): Promise<void> {
    const sidecar = this.sidecarOf(name);
    try {
      await fs.link(tempSidecar, sidecar);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      const [object, existing] = await Promise.all([
        fs.lstat(this.pathOf(name)).catch(() => undefined),
        fs.lstat(sidecar).catch(() => undefined),
      ]);
      const orphan =
        object === undefined &&
        existing !== undefined &&
        Date.now() - existing.mtimeMs > staleTempFileMs;
      if (!orphan) throw error;
      await removeIfPresent(sidecar);
      await fs.link(tempSidecar, sidecar);
    }
  }

  /** The object first, then its sidecar: a visible object never lacks its sidecar. */
  async delete(name: string): Promise<void> {
    this.assertName(name);
    try {
      await removeIfPresent(this.pathOf(name));
      await removeIfPresent(this.sidecarOf(name));
    } catch (error) {
      throw asUnavailable(error, `cannot delete ${name}`);
    }
  }

  publicUrl(name: string): string {
    return `${this.publicBaseUrl}/uploads/${name}`;
  }

  /** Size, content type and metadata of an object, from the file and its sidecar. */
  async stat(name: string): Promise<StoredObjectInfo | undefined> {
    this.assertName(name);
    try {
      const stats = await fs.stat(this.pathOf(name)).catch((error: unknown) => {
        if (isErrno(error, 'ENOENT')) return undefined;
        throw error;
      });
      if (stats === undefined || !stats.isFile()) return undefined;
      const sidecar = await this.readSidecar(name);
      if (sidecar === undefined) return await this.statWithoutSidecar(name, stats.size);
      // md5 stays unknown: callers look for metadata.sha256 first, which the pipeline sets.
      return { size: stats.size, ...sidecar, md5: undefined };
    } catch (error) {
      // Deleted while it was being read: gone, as it would be a moment later.
      if (isErrno(error, 'ENOENT')) return undefined;
      throw asUnavailable(error, `cannot read ${name}`);
    }
  }

  /** The file alone: a visible object always has its sidecar (or predates sidecars). */
  async exists(name: string): Promise<boolean> {
    this.assertName(name);
    try {
      return (await fs.stat(this.pathOf(name))).isFile();
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw asUnavailable(error, `cannot read ${name}`);
    }
  }

  private async readSidecar(name: string): Promise<Sidecar | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.sidecarOf(name), 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
    const sidecar = parseSidecar(text);
    if (sidecar === undefined) {
      throw new Error(`the sidecar of ${name} is not one this store wrote`);
    }
    return sidecar;
  }

  /**
   * An object stored before sidecars existed: its hashes are computed from the bytes, as they
   * used to be, so idempotent retries of such uploads are still recognised.
   */
  private async statWithoutSidecar(name: string, size: number): Promise<StoredObjectInfo> {
    const hash = createHash('sha256');
    const md5 = createHash('md5');
    const handle = await fs.open(this.pathOf(name), 'r');
    for await (const chunk of handle.createReadStream()) {
      hash.update(chunk as Buffer);
      md5.update(chunk as Buffer);
    }
    return {
      size,
      contentType: undefined,
      md5: md5.digest('base64'),
      metadata: { sha256: hash.digest('hex') },
    };
  }

  /**
   * The file alone, not its sidecar: an open handle reads the bytes as they were when opened,
   * even if the object is deleted a moment later (unlinked files stay readable).
   */
  async read(name: string): Promise<StoredObjectBody | undefined> {
    this.assertName(name);
    const file = await this.open(name).catch((error: unknown) => {
      throw asUnavailable(error, `cannot read ${name}`);
    });
    return file === undefined ? undefined : { body: file.read(), size: file.size };
  }

  /**
   * The sidecar is rewritten whole: a temp file renamed over it, so a reader sees the old one
   * or the new one. Two updates at once: the last rename wins.
   */
  async updateMetadata(name: string, metadata: Readonly<Record<string, string>>): Promise<boolean> {
    this.assertName(name);
    const tempSidecar = path.join(this.tempDir, `${randomUUID()}.json.part`);
    try {
      const exists = await fs.stat(this.pathOf(name)).then(
        () => true,
        (error: unknown) => {
          if (isErrno(error, 'ENOENT')) return false;
          throw error;
        },
      );
      const sidecar = exists ? await this.readSidecar(name) : undefined;
      if (sidecar === undefined) return false;
      const updated: Sidecar = { ...sidecar, metadata: { ...sidecar.metadata, ...metadata } };
      await fs.writeFile(tempSidecar, JSON.stringify(updated), { flag: 'wx', flush: true });
      await fs.rename(tempSidecar, this.sidecarOf(name));
      return true;
    } catch (error) {
      throw asUnavailable(error, `cannot update ${name}`);
    } finally {
      await removeIfPresent(tempSidecar);
    }
  }

  /**
   * One pass over the folder: the local driver is for one machine and a modest number of
   * images; a large collection belongs in a bucket, whose listing is by prefix.
   */
  async list(prefix: string): Promise<string[]> {
    try {
      const entries = await fs.readdir(this.directory);
      return entries.filter((entry) => entry.startsWith(prefix) && objectNamePattern.test(entry));
    } catch (error) {
      throw asUnavailable(error, `cannot list ${prefix}`);
    }
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

  filePath(name: string): string {
    this.assertName(name);
    return this.pathOf(name);
  }

  /** Opens a stored object for reading; undefined when there is no such object. */
  async open(name: string): Promise<LocalFile | undefined> {
    if (!objectNamePattern.test(name)) return undefined;
    const file = this.pathOf(name);
    try {
      const handle = await fs.open(file, 'r');
      let handedOver = false;
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) return undefined;
        handedOver = true;
        return {
          size: stats.size,
          modified: stats.mtime,
          etag: `"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`,
          read: (range) => handle.createReadStream(range === undefined ? {} : range),
          close: () => handle.close(),
        };
      } finally {
        // Whatever stat did, a handle not handed to the caller is closed here.
        if (!handedOver) await handle.close();
      }
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  private pathOf(name: string): string {
    return path.join(this.directory, name);
  }

  private sidecarOf(name: string): string {
    return path.join(this.metaDir, `${name}.json`);
  }

  private assertName(name: string): void {
    // Names are made by the service, never by clients; this guards against a future caller.
    if (!objectNamePattern.test(name)) throw new Error(`refusing unsafe object name ${name}`);
  }
}

async function removeIfPresent(file: string): Promise<void> {
  await fs.unlink(file).catch((error: unknown) => {
    if (!isErrno(error, 'ENOENT')) throw error;
  });
}

/** The reads and writes of concatenateInto: large, so 100 MiB is about a hundred of each. */
const concatenateBuffer = 1024 * 1024;

/** Writes the first `size` bytes of each of `files` into the new file `into`, and flushes it. */
async function concatenateInto(
  into: string,
  files: readonly { readonly file: string; readonly size: number }[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const out = await fs.open(into, 'wx');
  try {
    const buffer = Buffer.allocUnsafe(concatenateBuffer);
    let position = 0;
    for (const { file, size } of files) {
      signal?.throwIfAborted();
      const handle = await fs.open(file, 'r');
      try {
        for (let read = 0; read < size;) {
          const { bytesRead } = await handle.read(
            buffer,
            0,
            Math.min(buffer.length, size - read),
            read,
          );
          if (bytesRead === 0) throw new Error(`${file} holds fewer than ${size} bytes`);
          for (let written = 0; written < bytesRead;) {
            const chunk = buffer.subarray(written, bytesRead);
            const { bytesWritten } = await out.write(chunk, 0, chunk.length, position + written);
            written += bytesWritten;
          }
          read += bytesRead;
          position += bytesRead;
        }
      } finally {
        await handle.close();
      }
    }
    // Linked into place next: flushed first, as put's `flush: true` does.
    await out.sync();
  } finally {
    await out.close();
  }
}

/** File-system failures a retry later may not meet, in the store's terms. */
function asUnavailable(error: unknown, message: string): unknown {
  const codes = ['EACCES', 'EIO', 'EMFILE', 'ENFILE', 'ENOSPC', 'EROFS'];
  return codes.some((code) => isErrno(error, code))
    ? new StorageError('unavailable', message, { cause: error })
    : error;
}

function parseSidecar(text: string): Sidecar | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  if (!('contentType' in parsed) || typeof parsed.contentType !== 'string') return undefined;
  if (!('metadata' in parsed)) return undefined;
  const { contentType, metadata } = parsed;
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const entries = Object.entries(metadata);
  const strings = entries.filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  if (strings.length !== entries.length) return undefined;
  return { contentType, metadata: Object.fromEntries(strings) };
}
