import type { File } from '@google-cloud/storage';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { addAbortSignal, type Readable } from 'node:stream';
import { DeadlineExceededError, withRetries, type RetryHooks, type RetryPolicy } from './retry.js';

/**
 * A streamed object goes to GCS as a resumable upload that this module drives chunk by chunk,
 * so that a transient failure costs one retried chunk rather than the whole upload.
 *
 * The client's own chunked write stream would retry only under the client's retryOptions,
 * which createStore turns off (those retries cannot be cancelled and nest beyond our
 * deadline). So the session is opened through the client (createResumableUpload) and each
 * chunk is sent here, under src/storage/retry.ts: a deadline per chunk, a timeout per attempt,
 * and the attempt's HTTP request reset when it is cut.
 *
 * Protocol (cloud.google.com/storage/docs/performing-resumable-uploads): every chunk but the
 * last is a multiple of 256 KiB, sent as `Content-Range: bytes a-b/*` and answered 308 with the
 * persisted range; the last one carries the total (`bytes a-b/total`, or `bytes * /total` when
 * nothing is left) and is answered 200/201. After a failure whose effect is unknown, a PUT with
 * `bytes * /*` asks how much was persisted and the rest is resent from the chunk still held.
 */

export interface ResumableWriteOptions {
  readonly chunkBytes: number;
  readonly policy: RetryPolicy;
  readonly hooks: RetryHooks;
  /** The caller's signal (client gone): the upload stops and its session is cancelled. */
  readonly signal?: AbortSignal | undefined;
  /** Called just before the final chunk goes out: from then on the object may exist. */
  readonly onFinalChunk: () => void;
  /**
   * Finishes the new object (say, its metadata) under the same deadline as the last chunks;
   * gets the generation the session created.
   */
  readonly onCompleted: (generation: string | undefined, signal: AbortSignal) => Promise<void>;
  /** Runs a cancellation in the background (the store waits for these in settle()). */
  readonly inBackground: (work: Promise<unknown>) => void;
}

/** What the session says after a request. */
type SessionState =
  | { readonly complete: false; readonly persisted: number }
  | { readonly complete: true; readonly generation: string | undefined; readonly size: number };

/** An answer of the session URI that is not the protocol's; `code` is its HTTP status. */
export class SessionRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    // The session URI is a bearer capability: it never goes into a message.
    super(message);
    this.name = 'SessionRequestError';
  }
}

/**
 * The session completed an object that is not the one we sent: finalized before its last
 * chunk (a server that finalizes on a status query, as fake-gcs-server 1.56.1 does), or with
 * another size. The object is ours (our session created it) and wrong, and must go.
 */
export class WrongObjectError extends Error {
  constructor(
    readonly generation: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'WrongObjectError';
  }
}

/** By shape rather than `instanceof`, which breaks across jest's module realms. */
export function isWrongObjectError(error: unknown): error is WrongObjectError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'WrongObjectError'
  );
}

/** Connection failures that happen before a byte of the request was sent. */
const notConnectedCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Opens a session and writes `body` through it; resolves once the final chunk was accepted
 * and `onCompleted` has finished the object. The final chunk goes out only after `body` ended
 * cleanly; on any failure before that the session is cancelled and no object ever appears.
 */
export async function writeResumable(
  file: File,
  body: Readable,
  sessionMetadata: Record<string, unknown>,
  options: ResumableWriteOptions,
): Promise<void> {
  const { chunkBytes, policy, hooks } = options;
  const uri = await openSession(file, sessionMetadata, options).catch((error: unknown) => {
    // The body will never be read: release it (and what it holds) now.
    body.destroy();
    throw error;
  });
  const session = new UploadSession(uri, authorizer(file));

  // A chunk that fails for good stops the reading at once, not only at the next chunk; and a
  // body that fails stops the chunk being sent, which is of no use any more.
  const failed = new AbortController();
  const stopped = new AbortController();
  const either = (own: AbortSignal): AbortSignal =>
    options.signal === undefined ? own : AbortSignal.any([options.signal, own]);
  addAbortSignal(either(failed.signal), body);
  let finalSent = false;
  let sending: Promise<void> | undefined;
  let sendFailure: unknown;
  const startSending = (chunk: Buffer, start: number): void => {
    const signal = either(stopped.signal);
    sending = persistChunk(session, chunk, start, undefined, policy, hooks, signal).then(
      () => undefined,
      (error: unknown) => {
        sendFailure ??= error;
        failed.abort(error);
        throw error;
      },
    );
    sending.catch(() => undefined);
  };

  try {
    // At most two chunks in memory: one being sent, one filling. When both are full the
    // reading waits for the send, and the stream's backpressure pauses the client.
    let filling: Buffer = Buffer.allocUnsafe(chunkBytes);
    let inFlight: Buffer | undefined;
    let filled = 0;
    let sent = 0;
    for await (const piece of body as AsyncIterable<Buffer>) {
      for (let position = 0; position < piece.length;) {
        const copied = piece.copy(filling, filled, position);
        filled += copied;
        position += copied;
        if (filled === chunkBytes) {
          await sending;
          // The chunk sent before is persisted: its buffer takes the next one. Two buffers
          // per upload in all, rather than a new one a chunk for the collector to find.
          const next = inFlight ?? Buffer.allocUnsafe(chunkBytes);
          startSending(filling, sent);
          inFlight = filling;
          sent += chunkBytes;
          filling = next;
          filled = 0;
        }
      }
    }
    // The body ended cleanly: only now may the object come into existence. What is left to
    // do (the last chunks) has one deadline in all, so a store that stalls after the body has
    // arrived is cut in time, while a slow client above never was.
    const tail = new AbortController();
    const tailTimer = setTimeout(
      () => tail.abort(new DeadlineExceededError(policy.deadlineMs)),
      policy.deadlineMs,
    );
    const tailSignal = either(tail.signal);
    try {
      await sending;
      finalSent = true;
      options.onFinalChunk();
      const state = await persistChunk(
        session,
        filling.subarray(0, filled),
        sent,
        sent + filled,
        policy,
        hooks,
        tailSignal,
      );
      const generation = state.complete ? state.generation : undefined;
      await options.onCompleted(generation, tailSignal);
    } finally {
      clearTimeout(tailTimer);
    }
  } catch (error) {
    stopped.abort(error);
    if (!finalSent) {
      // Nothing was committed; cancelling frees the session at once (GCS answers 499).
      options.inBackground(
        session.cancel(AbortSignal.timeout(policy.attemptTimeoutMs)).catch(() => undefined),
      );
    }
    if (!body.destroyed) body.destroy();
    // The chunk's failure caused the stream's abort: report the cause.
    throw sendFailure ?? error;
  }
}

/** Opens the session through the client (retried: a session nobody uses simply expires). */
async function openSession(
  file: File,
  sessionMetadata: Record<string, unknown>,
  { policy, hooks, signal }: ResumableWriteOptions,
): Promise<string> {
  return withRetries(
    async () => {
      const [sessionUri] = await file.createResumableUpload({
        metadata: sessionMetadata,
        // Never overwrite: GCS checks it when the session opens and again when it completes.
        preconditionOpts: { ifGenerationMatch: 0 },
      });
      return sessionUri;
    },
    policy,
    hooks,
    signal,
  );
}

/**
 * Sends `chunk` (the bytes from offset `start`) until the session holds all of it, retrying
 * transient failures from the offset the session reports. `total` is set for the last chunk.
 */
async function persistChunk(
  session: UploadSession,
  chunk: Buffer,
  start: number,
  total: number | undefined,
  policy: RetryPolicy,
  hooks: RetryHooks,
  signal: AbortSignal | undefined,
): Promise<SessionState> {
  const end = start + chunk.length;
  // The offset the session is known to hold; undefined after a request whose effect is unknown.
  let persisted: number | undefined = start;
  return withRetries(
    async (attemptSignal) => {
      for (;;) {
        if (persisted === undefined) {
          const state = await session.query(attemptSignal);
          if (state.complete) return completed(state, total);
          persisted = state.persisted;
        }
        if (persisted < start || persisted > end) {
          // Not transient: the session and this writer disagree about what was sent.
          throw new Error(`the upload session holds ${persisted} bytes, outside ${start}-${end}`);
        }
        if (persisted === end && total === undefined) return { complete: false, persisted };
        const from = persisted;
        persisted = undefined;
        let state: SessionState;
        try {
          state = await session.put(chunk.subarray(from - start), from, total, attemptSignal);
        } catch (error) {
          // Not a byte went out: the session still holds what it held.
          if (notConnected(error)) persisted = from;
          throw error;
        }
        if (state.complete) return completed(state, total);
        // GCS may persist less than it was sent; the loop sends the rest.
        persisted = state.persisted;
      }
    },
    policy,
    hooks,
    signal,
  );
}

function completed(
  state: SessionState & { complete: true },
  total: number | undefined,
): SessionState {
  if (total === undefined) {
    throw new WrongObjectError(
      state.generation,
      'the upload session completed before its last chunk',
    );
  }
  if (state.size !== total) {
    throw new WrongObjectError(
      state.generation,
      `the upload completed with ${state.size} of ${total} bytes`,
    );
  }
  return state;
}

function notConnected(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    notConnectedCodes.has(error.code)
  );
}

/** The requests of one session URI, made with Node's own http so an attempt can reset them. */
class UploadSession {
  constructor(
    private readonly uri: string,
    private readonly authorize: () => Promise<Record<string, string>>,
  ) {}

  put(
    chunk: Buffer,
    start: number,
    total: number | undefined,
    signal: AbortSignal,
  ): Promise<SessionState> {
    const size = total === undefined ? '*' : String(total);
    const range =
      chunk.length === 0 ? `bytes */${size}` : `bytes ${start}-${start + chunk.length - 1}/${size}`;
    return this.send('PUT', { 'Content-Range': range }, chunk, signal);
  }

  /** How many bytes the session holds, or the object if it is complete. */
  query(signal: AbortSignal): Promise<SessionState> {
    return this.send('PUT', { 'Content-Range': 'bytes */*' }, Buffer.alloc(0), signal);
  }

  async cancel(signal: AbortSignal): Promise<void> {
    const response = await this.request('DELETE', {}, Buffer.alloc(0), signal);
    // 499 is GCS's answer to a cancelled session; 404/410: it is gone already.
    if (![499, 204, 200, 404, 410].includes(response.status)) {
      throw new SessionRequestError(response.status, `cancelling the upload: ${response.status}`);
    }
  }

  private async send(
    method: string,
    headers: Record<string, string>,
    body: Buffer,
    signal: AbortSignal,
  ): Promise<SessionState> {
    const response = await this.request(method, headers, body, signal);
    if (response.status === 308) {
      // "bytes=0-N": N is the last persisted byte; no Range header means nothing yet.
      const match = /^bytes=0-(\d+)$/.exec(response.range ?? '');
      return { complete: false, persisted: match === null ? 0 : Number(match[1]) + 1 };
    }
    if (response.status === 200 || response.status === 201) {
      const object = parseObject(response.body);
      return { complete: true, generation: object.generation, size: object.size };
    }
    throw new SessionRequestError(
      response.status,
      `the upload session answered HTTP ${response.status}`,
    );
  }

  private async request(
    method: string,
    headers: Record<string, string>,
    body: Buffer,
    signal: AbortSignal,
  ): Promise<{ status: number; range: string | undefined; body: Buffer }> {
    const url = new URL(this.uri);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const auth = await this.authorize();
    return new Promise((resolve, reject) => {
      const request = send(url, {
        method,
        headers: { ...auth, ...headers, 'Content-Length': String(body.length) },
        signal,
      });
      request.once('error', reject);
      request.once('response', (response: IncomingMessage) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.once('error', reject);
        response.once('end', () => {
          const range = response.headers.range;
          resolve({ status: response.statusCode ?? 0, range, body: Buffer.concat(parts) });
        });
      });
      request.end(body);
    });
  }
}

function parseObject(body: Buffer): { generation: string | undefined; size: number } {
  try {
    const object = JSON.parse(body.toString('utf8')) as { generation?: unknown; size?: unknown };
    return {
      // GCS sends the int64 as a string; a number is accepted too.
      generation:
        typeof object.generation === 'string' || typeof object.generation === 'number'
          ? String(object.generation)
          : undefined,
      size: Number(object.size),
    };
  } catch {
    return { generation: undefined, size: Number.NaN };
  }
}

/**
 * Headers that authenticate a session request, decided as the client decides for its own
 * requests: none for a custom endpoint (an emulator) unless it was asked to authenticate
 * there, else the client's credentials (the session URI alone would do on GCS, but the
 * client sends them too).
 */
function authorizer(file: File): () => Promise<Record<string, string>> {
  const storage = file.bucket.storage;
  if (storage.customEndpoint && storage.useAuthWithCustomEndpoint !== true) {
    return () => Promise.resolve({});
  }
  return async () => {
    const headers = await storage.authClient.getRequestHeaders();
    return Object.fromEntries(headers.entries());
  };
}
