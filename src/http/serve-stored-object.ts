import { immutableCacheControl } from '../storage/object-store.js';
import type { Socket } from 'node:net';
import type { Context } from 'koa';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import type { ConcurrencyLimit } from '../images/semaphore.js';
import {
  ifNoneMatchHolds,
  ifRangeHolds,
  notModifiedSince,
  parseRange,
  type ByteRange,
} from './conditional-requests.js';
import { responseSocket } from './response-socket.js';

/**
 * What every stored image is served with, original or rendition: kept for a year (a name never
 * names other bytes), never sniffed, and never run as a page should a browser open it directly.
 */
export const storedImageHeaders = {
  'Cache-Control': immutableCacheControl,
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; sandbox",
} as const;

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

export interface ServingLimits {
  /**
   * Objects open for serving at one time in the process (MAX_SERVED_FILES); a request beyond
   * waits for a place, holding nothing, and gives it up if its connection closes.
   */
  readonly openObjects: ConcurrencyLimit;
  /**
   * How long an answer may make no progress (the client reads nothing) before its connection
   * is cut (SEND_TIMEOUT_MS, as nginx's send_timeout), so a client that stops reading cannot
   * hold the object open for ever.
   */
  readonly sendTimeoutMs: number;
}

/**
 * Answers a GET or HEAD with a stored object, as a CDN or a resuming client expects: `ETag`,
 * `Last-Modified`, `Accept-Ranges: bytes`; 304 when `If-None-Match` (or, without it,
 * `If-Modified-Since`) shows the client has it; for a GET, 206 with `Content-Range` for one
 * satisfiable `Range` (honoured only while `If-Range`, if sent, still names these bytes), 416
 * for an unsatisfiable one; several ranges, or a `Range` this does not read, get the whole
 * object (RFC 9110 lets a server ignore Range). `headers` (type, caching, security) go on the
 * answers that carry the object or confirm it (200, 206, 304), not on a 416's error body.
 *
 * `open` is called only once the response owns its connection (see responseSocket), and what
 * it opens is released on every path: when the answer needs no bytes, when the connection
 * closes, and when the client stops reading for `sendTimeoutMs`. Undefined from `open` is a 404.
 */
export async function serveStoredObject(
  ctx: Context,
  open: () => Promise<StoredObjectToServe | undefined>,
  headers: Readonly<Record<string, string>>,
  limits: ServingLimits,
): Promise<void> {
  const { socket, leave } = await takeServingPlace(ctx, limits);
  let opened: StoredObjectToServe | undefined;
  try {
    opened = await open();
  } finally {
    if (opened === undefined) leave();
  }
  if (opened === undefined) throw new AppError('not_found');
  const object = holdingPlace(opened, leave);
  try {
    if (socket.destroyed) throw new Error('the connection closed while the object was opened');
    const lastModified = object.modified.toUTCString();
    const validators = {
      ...headers,
      ETag: object.etag,
      'Last-Modified': lastModified,
      'Accept-Ranges': 'bytes',
    };
    if (notModified(ctx, object)) {
      ctx.set(validators);
      ctx.status = 304;
      // A 304 carries validators and caching, not the representation's own metadata.
      ctx.remove('Content-Type');
      await object.close();
      return;
    }
    // RFC 9110 §14.2: Range is defined for GET only.
    const range =
      ctx.method === 'GET' && ifRangeHolds(ctx.get('If-Range'), object.etag, lastModified)
        ? parseRange(ctx.get('Range'), object.size)
        : undefined;
    if (range === 'unsatisfiable') {
      throw new AppError('range_not_satisfiable', {
        headers: { 'Content-Range': `bytes */${object.size}`, 'Cache-Control': 'no-store' },
      });
    }
    ctx.set(validators);
    const length = range === undefined ? object.size : range.end - range.start + 1;
    ctx.status = range === undefined ? 200 : 206;
    if (range !== undefined) {
      ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${object.size}`);
    }
    if (ctx.method === 'HEAD') {
      ctx.set('Content-Length', String(length));
      await object.close();
      return;
    }
    const body = object.read(range);
    releaseWithConnection(socket, body, limits);
    ctx.body = body;
    // After the body: Koa drops a Content-Length set before a stream body.
    ctx.set('Content-Length', String(length));
  } catch (error) {
    await object.close();
    throw error;
  }
}

/**
 * What a route must hold before it opens something to stream back (a stored object, a
 * rendition): its connection, once the response owns it (see responseSocket), and a place
 * among the objects open for serving, given back by `leave`. Throws when the connection
 * closes first; the error renderer logs that as the client going away and sends nothing.
 */
export async function takeServingPlace(
  ctx: Context,
  limits: ServingLimits,
): Promise<{ readonly socket: Socket; readonly leave: () => void }> {
  const socket = await responseSocket(ctx.res);
  if (socket === undefined) throw new Error('the connection closed before its answer was due');
  const leave = await placeFor(limits.openObjects, socket);
  if (leave === undefined) throw new Error('the connection closed while waiting for a place');
  return { socket, leave };
}

/**
 * A place among the objects open for serving, as the function that gives it back; undefined
 * when the connection closes first.
 */
async function placeFor(
  openObjects: ConcurrencyLimit,
  socket: Socket,
): Promise<(() => void) | undefined> {
  const gone = new AbortController();
  const onClose = (): void => {
    gone.abort(new Error('the connection closed'));
  };
  socket.once('close', onClose);
  try {
    return await new Promise<() => void>((granted, refused) => {
      // The place is held until `leave` is called, not for the length of this task.
      openObjects
        .run(() => new Promise<void>((leave) => granted(leave)), gone.signal)
        .catch(refused);
    });
  } catch {
    return undefined;
  } finally {
    socket.off('close', onClose);
  }
}

/** The object, giving back its place once: when it is closed, or when its stream is. */
function holdingPlace(object: StoredObjectToServe, leave: () => void): StoredObjectToServe {
  let held = true;
  const leaveOnce = (): void => {
    if (held) leave();
    held = false;
  };
  return {
    size: object.size,
    modified: object.modified,
    etag: object.etag,
    read: (range) => object.read(range).once('close', leaveOnce),
    close: () => object.close().finally(leaveOnce),
  };
}

/** Connections already cut when their timeout fires (one listener each, however many answers). */
const cutOnTimeout = new WeakSet<Socket>();

/**
 * Ties the body to its connection: destroyed (closing what it holds) when the connection
 * closes, and the connection cut when it takes no bytes for `sendTimeoutMs`. Node resets a
 * socket's timeout on every write it passes on; a client that stops reading fills the
 * kernel's buffers, the writes stop, and the timeout fires. Node sets the keep-alive timeout
 * in its place once the answer is sent.
 */
export function releaseWithConnection(socket: Socket, body: Readable, limits: ServingLimits): void {
  const release = (): void => {
    body.destroy();
  };
  socket.once('close', release);
  body.once('close', () => socket.off('close', release));
  if (!cutOnTimeout.has(socket)) {
    cutOnTimeout.add(socket);
    socket.on('timeout', () => socket.destroy());
  }
  socket.setTimeout(limits.sendTimeoutMs);
}

/** RFC 9110 §13.1.2 and §13.1.3: If-None-Match decides when sent; If-Modified-Since otherwise. */
function notModified(ctx: Context, object: StoredObjectToServe): boolean {
  const ifNoneMatch = ctx.get('If-None-Match');
  if (ifNoneMatch !== '') return ifNoneMatchHolds(ifNoneMatch, object.etag);
  const ifModifiedSince = ctx.get('If-Modified-Since');
  return ifModifiedSince !== '' && notModifiedSince(ifModifiedSince, object.modified);
}
