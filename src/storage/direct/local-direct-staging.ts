import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isErrno, keptSecret } from '../../files.js';
import { uploadIdPattern } from '../staging/upload-staging.js';
import {
  parseDirectUploadRecord,
  type DirectStaging,
  type DirectUploadMethod,
  type DirectUploadRecord,
  type DirectUploadTarget,
  type StagedObject,
  type StagedUpload,
  type TargetOptions,
} from './direct-staging.js';

export interface LocalDirectStagingOptions {
  /** DIRECT_UPLOAD_SECRET; when unset, one kept in the staging folder (made once). */
  readonly secret?: string | undefined;
}

/** The fields of a local upload URL that its signature covers. */
export interface SignedUploadUrl {
  readonly id: string;
  readonly method: DirectUploadMethod;
  /** Unix seconds. */
  readonly expires: number;
  readonly size: number;
}

/** The path of the local driver's upload URLs; the route that takes their PUTs matches it. */
export function localUploadPath(id: string): string {
  return `/v1/uploads/direct/${id}`;
}

/**
 * Direct uploads on the local driver, in `<UPLOAD_DIR>/.staging/direct/`: `<id>.json` the
 * record, `<id>.data` the bytes once whole (a PUT's temp file or a session's `<id>.partial`,
 * flushed, then renamed), never served (LocalStore opens only `<uuid>.<ext>` names). The
 * upload URLs point at the service itself, signed with an HMAC over id, method, expiry and
 * size, so a client's code is the same as against GCS.
 */
export class LocalDirectStaging implements DirectStaging {
  readonly driver = 'local';
  readonly folder: string;
  private secret: Buffer | undefined;

  constructor(
    uploadDir: string,
    private readonly options: LocalDirectStagingOptions = {},
  ) {
    this.folder = path.join(uploadDir, '.staging', 'direct');
    if (options.secret !== undefined) this.secret = Buffer.from(options.secret, 'utf8');
  }

  /** Creates the folder, and the secret that instances sharing this disk then all read. */
  async init(): Promise<void> {
    await fs.mkdir(this.folder, { recursive: true });
    if (this.secret !== undefined) return;
    const file = path.join(this.folder, '..', 'direct-upload-secret');
    this.secret = Buffer.from(await keptSecret(file), 'utf8');
  }

  sign(url: SignedUploadUrl): string {
    if (this.secret === undefined) throw new Error('LocalDirectStaging.init() was not called');
    return createHmac('sha256', this.secret)
      .update(`${url.id}\n${url.method}\n${url.expires}\n${url.size}`)
      .digest('hex');
  }

  /** Whether `signature` is this service's for these fields (constant time). */
  verify(url: SignedUploadUrl, signature: string): boolean {
    const expected = Buffer.from(this.sign(url), 'hex');
    const presented = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : '', 'hex');
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  }

  async create(record: DirectUploadRecord, options: TargetOptions): Promise<DirectUploadTarget> {
    await fs.writeFile(this.recordPath(record.id), JSON.stringify(record), {
      flag: 'wx',
      flush: true,
    });
    const fields: SignedUploadUrl = {
      id: record.id,
      method: record.method,
      expires: Math.floor(Date.parse(record.expiresAt) / 1000),
      size: record.size,
    };
    const query = new URLSearchParams({
      method: fields.method,
      expires: String(fields.expires),
      size: String(fields.size),
      signature: this.sign(fields),
    });
    return {
      url: `${options.serviceOrigin}${localUploadPath(record.id)}?${query.toString()}`,
      headers: {},
    };
  }

  async loadRecord(id: string): Promise<DirectUploadRecord | undefined> {
    if (!uploadIdPattern.test(id)) return undefined;
    try {
      const record = parseDirectUploadRecord(await fs.readFile(this.recordPath(id), 'utf8'));
      return record?.id === id ? record : undefined;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async stagedObject(id: string): Promise<StagedObject | undefined> {
    const stats = await fs.stat(this.dataPath(id)).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    });
    return stats === undefined ? undefined : { size: stats.size };
  }

  openStaged(id: string, _object: StagedObject, signal?: AbortSignal): Readable {
    const stream = createReadStream(this.dataPath(id));
    // Not createReadStream's own `signal` option: on Node 26, a signal that has fired (or
    // fires while the file is being opened) destroys the stream and leaves the file open for
    // good. Added afterwards, the same signal waits for the open and closes what it opened.
    return signal === undefined ? stream : addAbortSignal(signal, stream);
  }

  /**
   * Writes a whole upload (a signed PUT): to a temp file, flushed, then renamed into place only
   * if it holds exactly `size` bytes, so a short body is never seen by a concurrent complete
   * (which would take the wrong size as a refused upload and remove it). Answers the bytes the
   * body held.
   */
  async writeWhole(id: string, body: Readable, size: number): Promise<number> {
    const temp = path.join(this.folder, `${id}.put-${randomUUID()}`);
    try {
      // 0600: staged bytes are nobody's to read but this service's.
      await pipeline(body, createWriteStream(temp, { flags: 'wx', flush: true, mode: 0o600 }));
      const written = (await fs.stat(temp)).size;
      if (written === size) await fs.rename(temp, this.dataPath(id));
      return written;
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  /** How many bytes of a resumable session have arrived (and are on disk). */
  async receivedBytes(id: string): Promise<number> {
    const stats = await fs.stat(this.partialPath(id)).catch(() => undefined);
    return stats?.size ?? 0;
  }

  /**
   * Writes a session's chunk at `first` (at most the bytes received: a chunk sent again after
   * a lost answer overwrites its own bytes). Returns the bytes received after it, which may
   * be fewer than sent if the body broke off: the client resumes from there.
   */
  async writeChunk(id: string, first: number, body: Readable): Promise<number> {
    const file = this.partialPath(id);
    // Made if need be, then cut back to `first`: what follows is this chunk's to write.
    await fs.writeFile(file, '', { flag: 'a', mode: 0o600 });
    await fs.truncate(file, first);
    // 'r+', not 'a': positioned writes on a file opened for appending go to its end on Linux.
    // flush: the bytes acknowledged by the 308 that follows are on disk.
    const stream = createWriteStream(file, { flags: 'r+', start: first, flush: true });
    try {
      await pipeline(body, stream);
    } finally {
      if (!stream.closed)
        await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    }
    return (await fs.stat(file)).size;
  }

  /** The last chunk is in: the session's bytes become the staged object. */
  async finishChunks(id: string): Promise<void> {
    await fs.rename(this.partialPath(id), this.dataPath(id));
  }

  async removeStaged(id: string): Promise<void> {
    await fs.rm(this.dataPath(id), { force: true });
    await fs.rm(this.partialPath(id), { force: true });
  }

  async remove(id: string): Promise<void> {
    await this.removeStaged(id);
    // Temp files of PUTs cut off by a crash (a failed PUT removes its own).
    const temps = (await fs.readdir(this.folder)).filter((entry) =>
      entry.startsWith(`${this.checked(id)}.put-`),
    );
    await Promise.all(temps.map((entry) => fs.rm(path.join(this.folder, entry), { force: true })));
    await fs.rm(this.recordPath(id), { force: true });
  }

  async *list(): AsyncIterable<StagedUpload> {
    const seen = new Map<string, Date>();
    for (const entry of await fs.readdir(this.folder)) {
      const id = entry.slice(0, 36);
      if (!uploadIdPattern.test(id)) continue;
      const stats = await fs.stat(path.join(this.folder, entry)).catch(() => undefined);
      if (stats === undefined) continue;
      const earlier = seen.get(id);
      // The record's mtime is its creation: it is written once.
      if (earlier === undefined || stats.mtime < earlier) seen.set(id, stats.mtime);
    }
    for (const [id, createdAt] of seen) yield { id, createdAt };
  }

  private recordPath(id: string): string {
    return path.join(this.folder, `${this.checked(id)}.json`);
  }

  private dataPath(id: string): string {
    return path.join(this.folder, `${this.checked(id)}.data`);
  }

  private partialPath(id: string): string {
    return path.join(this.folder, `${this.checked(id)}.partial`);
  }

  private checked(id: string): string {
    // Ids come from URLs: only a UUID may become part of a path.
    if (!uploadIdPattern.test(id)) throw new Error(`not a direct upload id: ${id}`);
    return id;
  }
}
