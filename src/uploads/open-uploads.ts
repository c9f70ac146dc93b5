import { AppError } from '../errors.js';

/** A place taken for an upload being created: opened once its id is known, or given back. */
export interface OpenUploadTicket {
  /** The upload exists: it counts as open until `close(id)` or `expiresAt` (ms since epoch). */
  opened(id: string, expiresAt: number): void;
  /** Its creation failed: the place is free again. */
  cancel(): void;
}

/**
 * MAX_OPEN_UPLOADS_PER_CALLER: the tus and direct uploads each caller has created and not yet
 * finished, refused or removed, and that have not expired. Without a bound, one caller can
 * create thousands of uploads and never send a byte, each a record (a folder on the local
 * driver) until the sweep, which is not a cost the caller pays.
 *
 * Counted in this process's memory: with several instances each keeps its own count (a caller
 * may hold up to instances × the limit), and a restart forgets them. One way it is stricter
 * than the truth: a tus upload created here and finished through another instance counts here
 * until its expiry (UPLOAD_EXPIRES_SECONDS after its last chunk sent here). A shared count
 * (the staging records, or Redis) would be exact; this bounds one instance's cost. 0 turns it
 * off.
 */
export class OpenUploads {
  /** Per caller: upload id → expiry (ms); pending creations under unique placeholder keys. */
  private readonly byCaller = new Map<string, Map<string, number>>();
  private readonly callerOf = new Map<string, string>();
  private pending = 0;

  constructor(
    private readonly maxPerCaller: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a place for a new upload of `caller`, or refuses with too_many_open_uploads. */
  admit(caller: string): OpenUploadTicket {
    if (this.maxPerCaller === 0) return { opened: () => undefined, cancel: () => undefined };
    const uploads = this.uploadsOf(caller);
    if (uploads.size >= this.maxPerCaller) throw new AppError('too_many_open_uploads');
    const placeholder = `pending:${(this.pending += 1)}`;
    // Until it is opened, a creation under way holds its place for a minute at most.
    uploads.set(placeholder, this.now() + 60_000);
    this.byCaller.set(caller, uploads);
    return {
      opened: (id, expiresAt) => {
        uploads.delete(placeholder);
        uploads.set(id, expiresAt);
        this.callerOf.set(id, caller);
      },
      cancel: () => {
        uploads.delete(placeholder);
        if (uploads.size === 0) this.byCaller.delete(caller);
      },
    };
  }

  /** The upload took more bytes: it expires later. */
  extend(id: string, expiresAt: number): void {
    const caller = this.callerOf.get(id);
    if (caller !== undefined) this.byCaller.get(caller)?.set(id, expiresAt);
  }

  /** The upload is finished, refused or removed: its place is free. */
  close(id: string): void {
    const caller = this.callerOf.get(id);
    if (caller === undefined) return;
    this.callerOf.delete(id);
    const uploads = this.byCaller.get(caller);
    uploads?.delete(id);
    if (uploads?.size === 0) this.byCaller.delete(caller);
  }

  /** Uploads `caller` holds open now. */
  countOf(caller: string): number {
    return this.uploadsOf(caller).size;
  }

  /** The caller's uploads, those expired dropped (kept in the map only while there are some). */
  private uploadsOf(caller: string): Map<string, number> {
    const uploads = this.byCaller.get(caller) ?? new Map<string, number>();
    const now = this.now();
    for (const [id, expiresAt] of uploads) {
      if (expiresAt > now) continue;
      uploads.delete(id);
      this.callerOf.delete(id);
    }
    if (uploads.size === 0) this.byCaller.delete(caller);
    return uploads;
  }
}
