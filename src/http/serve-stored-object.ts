import type { Context } from 'koa';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';

/** Bytes `start` to `end` of an object, both included (as Content-Range counts them). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * An object opened for serving: its validators are known before a byte is read, and the bytes
 * are read (all, or one range) only when the answer carries them.
 */
export interface StoredObjectToServe {
  readonly size: number;
  readonly modified: Date;
  /** A strong entity tag, quoted (`"…"`): the same tag always means the same bytes. */
  readonly etag: string;
  /** The stream owns what holds the object from then on, and releases it when it ends. */
  read(range?: ByteRange): Readable;
  /** Releases what holds the object, when its bytes are not sent (304, 416, HEAD). */
  close(): Promise<void>;
}

/**
 * Answers a GET or HEAD with a stored object, as a CDN or a resuming client expects: `ETag`,
 * `Last-Modified`, `Accept-Ranges: bytes`; 304 when `If-None-Match` (or, without it,
 * `If-Modified-Since`) shows the client has it; 206 with `Content-Range` for one satisfiable
 * `Range` (honoured only while `If-Range`, if sent, still names these bytes), 416 for an
 * unsatisfiable one; several ranges, or a `Range` this does not read, get the whole object
 * (RFC 9110 lets a server ignore Range). `headers` (type, caching, security) go on every answer.
 */
export async function serveStoredObject(
  ctx: Context,
  object: StoredObjectToServe,
  headers: Readonly<Record<string, string>>,
): Promise<void> {
  const lastModified = object.modified.toUTCString();
  ctx.set({
    ...headers,
    ETag: object.etag,
    'Last-Modified': lastModified,
    'Accept-Ranges': 'bytes',
  });
  try {
    if (notModified(ctx, object)) {
      ctx.status = 304;
      // A 304 carries validators and caching, not the representation's own metadata.
      ctx.remove('Content-Type');
      await object.close();
      return;
    }
    const range = honouredRange(ctx, object, lastModified);
    if (range === 'unsatisfiable') {
      throw new AppError('range_not_satisfiable', {
        headers: { 'Content-Range': `bytes */${object.size}` },
      });
    }
    const length = range === undefined ? object.size : range.end - range.start + 1;
    if (range !== undefined) {
      ctx.status = 206;
      ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${object.size}`);
    }
    if (ctx.method === 'HEAD') {
      ctx.status = range === undefined ? 200 : 206;
      ctx.set('Content-Length', String(length));
      await object.close();
      return;
    }
    ctx.body = object.read(range);
    // After the body: Koa drops a Content-Length set before a stream body.
    ctx.set('Content-Length', String(length));
  } catch (error) {
    await object.close();
    throw error;
  }
}

/** RFC 9110 §13.1.2 and §13.1.3: If-None-Match decides when sent; If-Modified-Since otherwise. */
function notModified(ctx: Context, object: StoredObjectToServe): boolean {
  const ifNoneMatch = ctx.get('If-None-Match');
  if (ifNoneMatch !== '') {
    if (ifNoneMatch.trim() === '*') return true;
    // The weak comparison: W/"x" and "x" name the same bytes for a 304.
    const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');
    return ifNoneMatch.split(',').some((tag) => opaque(tag) === opaque(object.etag));
  }
  const since = Date.parse(ctx.get('If-Modified-Since'));
  // HTTP dates count whole seconds; the file's time has milliseconds.
  return !Number.isNaN(since) && Math.floor(object.modified.getTime() / 1000) * 1000 <= since;
}

/**
 * The one range to send; undefined for the whole object (no Range, one this does not read,
 * several ranges, or an If-Range that no longer names these bytes).
 */
function honouredRange(
  ctx: Context,
  object: StoredObjectToServe,
  lastModified: string,
): ByteRange | 'unsatisfiable' | undefined {
  const header = ctx.get('Range');
  if (header === '' || !(ctx.method === 'GET' || ctx.method === 'HEAD')) return undefined;
  const ifRange = ctx.get('If-Range').trim();
  // If-Range compares strongly: a weak tag never matches, a date only the exact Last-Modified.
  if (ifRange !== '' && ifRange !== object.etag && ifRange !== lastModified) return undefined;
  const match = /^bytes=\s*(\d*)-(\d*)\s*$/i.exec(header);
  if (match === null) return undefined;
  const [, first = '', last = ''] = match;
  const { size } = object;
  if (first === '') {
    // A suffix: the last N bytes.
    if (last === '') return undefined;
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined; // invalid: the whole object is sent
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
