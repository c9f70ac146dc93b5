/**
 * One HTTP exchange, with upload progress: XMLHttpRequest's upload events in a browser (fetch
 * reports none there, and Chromium streams request bodies only over HTTP/2), and in Node.js a
 * streamed fetch body whose bytes are counted as the socket takes them.
 */
import { countingStream } from './input.js';

export interface RequestBody {
  readonly contentType: string;
  /** Bytes of the body, when known. */
  readonly size: number | undefined;
  /** The body as a Blob (lazy: a Blob of Blobs copies nothing), for fetch and XHR. */
  blob(): Promise<Blob>;
  /** The body as a stream, for bodies whose size is unknown (read only once). */
  stream(): ReadableStream<Uint8Array>;
  /** Whether blob() is cheap: false for a stream, which blob() would read whole. */
  readonly blobReady: boolean;
}

export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: RequestBody | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Body bytes sent so far, and the body's size when known. */
  readonly onBodyProgress?: ((sent: number, total: number | undefined) => void) | undefined;
}

export interface Answer {
  readonly status: number;
  header(name: string): string | null;
  readonly text: string;
}

/** A failure below HTTP: the request may be retried. */
export class NetworkFailure extends Error {
  constructor(cause: unknown) {
    super('network failure', { cause });
    this.name = 'NetworkFailure';
  }
}

/** The subset of XMLHttpRequest used here (the service's own typecheck has no DOM types). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body?: Blob | null): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  readonly upload: {
    onprogress:
      ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null;
  };
}

function xhrConstructor(): (new () => Xhr) | undefined {
  return (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
}

/** What an aborted call rejects with: the signal's reason (an AbortError by default). */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('The upload was aborted', 'AbortError');
}

export async function exchange(request: Exchange): Promise<Answer> {
  request.signal?.throwIfAborted();
  const Xhr = xhrConstructor();
  const { body } = request;
  if (Xhr !== undefined && body !== undefined && request.onBodyProgress !== undefined) {
    return exchangeWithXhr(Xhr, request, await body.blob());
  }
  return exchangeWithFetch(request);
}

async function exchangeWithFetch(request: Exchange): Promise<Answer> {
  const { body, onBodyProgress, signal } = request;
  const init: RequestInit & { duplex?: 'half' } = {
    method: request.method,
    headers: {
      ...request.headers,
      ...(body === undefined ? {} : { 'Content-Type': body.contentType }),
    },
    ...(signal === undefined ? {} : { signal }),
  };
  if (body !== undefined) {
    if (onBodyProgress === undefined && body.blobReady) {
      init.body = await body.blob();
    } else {
      init.body = countingStream(body.stream(), (sent) => onBodyProgress?.(sent, body.size));
      init.duplex = 'half';
    }
  }
  let response: Response;
  try {
    response = await fetch(request.url, init);
  } catch (error) {
    if (signal?.aborted === true) throw abortReason(signal);
    throw new NetworkFailure(error);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (signal?.aborted === true) throw abortReason(signal);
    throw new NetworkFailure(error);
  }
  return { status: response.status, header: (name) => response.headers.get(name), text };
}

function exchangeWithXhr(Xhr: new () => Xhr, request: Exchange, blob: Blob): Promise<Answer> {
  const { signal, onBodyProgress } = request;
  return new Promise<Answer>((resolve, reject) => {
    const xhr = new Xhr();
    const onAbort = (): void => xhr.abort();
    const done = (): void => signal?.removeEventListener('abort', onAbort);
    xhr.open(request.method, request.url);
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
    if (request.body !== undefined) xhr.setRequestHeader('Content-Type', request.body.contentType);
    xhr.upload.onprogress = (event) =>
      onBodyProgress?.(event.loaded, event.lengthComputable ? event.total : blob.size);
    xhr.onload = () => {
      done();
      onBodyProgress?.(blob.size, blob.size);
      resolve({
        status: xhr.status,
        header: (name) => xhr.getResponseHeader(name),
        text: xhr.responseText,
      });
    };
    xhr.onerror = () => {
      done();
      reject(new NetworkFailure(new Error('XMLHttpRequest failed')));
    };
    xhr.onabort = () => {
      done();
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    xhr.send(blob);
  });
}
