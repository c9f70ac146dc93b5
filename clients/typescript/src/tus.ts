/**
 * Resumable uploads through tus-js-client (an optional peer dependency): the service's tus
 * endpoint at /v1/uploads takes the bytes in chunks, resumes after a cut, and answers the
 * final PATCH once the image is stored; GET on the upload's URL then gives its JSON.
 */
import { ImageIngestError, errorFromResponse } from './errors.js';
import type { ImageInput } from './input.js';
import { abortReason } from './transport.js';

/** The parts of tus-js-client used here, so the package compiles without it installed. */
export interface TusModule {
  readonly Upload: new (file: unknown, options: TusUploadOptions) => TusUpload;
}

interface TusUpload {
  url: string | null;
  start(): void;
  abort(shouldTerminate?: boolean): Promise<void>;
}

interface TusResponse {
  getStatus(): number;
  getHeader(name: string): string | undefined;
  getBody(): string;
}

interface TusUploadOptions {
  endpoint: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  chunkSize?: number;
  uploadSize?: number;
  uploadLengthDeferred?: boolean;
  retryDelays: number[];
  storeFingerprintForResuming: boolean;
  removeFingerprintOnSuccess: boolean;
  onProgress: (sent: number, total: number) => void;
  onShouldRetry: (error: { originalResponse: TusResponse | null }) => boolean;
  onSuccess: () => void;
  onError: (error: Error & { originalResponse?: TusResponse | null }) => void;
}

export interface TusTransfer {
  readonly endpoint: string;
  readonly headers: Record<string, string>;
  readonly input: ImageInput;
  readonly chunkSize: number;
  readonly retryDelays: readonly number[];
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((sent: number, total: number | undefined) => void) | undefined;
  readonly tus?: TusModule | undefined;
}

const isNode =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node ===
  'string';

/** A module name in a variable, so bundlers and tsc leave the optional peer alone. */
const tusModuleName = 'tus-js-client';

export async function loadTus(given?: TusModule): Promise<TusModule | undefined> {
  if (given !== undefined) return given;
  // The browser bundle (dist/tus.min.js) sets a global `tus`.
  const global = (globalThis as { tus?: TusModule }).tus;
  if (global !== undefined) return global;
  try {
    return (await import(/* @vite-ignore */ tusModuleName)) as TusModule;
  } catch {
    return undefined;
  }
}

/** What tus-js-client reads in this environment: Blobs in a browser, Buffers/Readables in Node. */
async function tusSourceOf(input: ImageInput): Promise<unknown> {
  if (!isNode) {
    if (input.kind === 'stream') return input.open().getReader();
    return input.blob();
  }
  const { Buffer } = globalThis as unknown as {
    Buffer: { from(bytes: ArrayBuffer | Uint8Array, offset?: number, length?: number): unknown };
  };
  if (input.kind === 'bytes') {
    const bytes = input.value as Uint8Array;
    return Buffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  }
  if (input.kind === 'blob') return Buffer.from(await (await input.blob()).arrayBuffer());
  const { Readable } = (await import('node:' + 'stream')) as {
    Readable: { fromWeb(stream: ReadableStream<Uint8Array>): unknown };
  };
  return Readable.fromWeb(input.open());
}

/** Sends the image over tus; resolves with the upload's URL once the server has stored it. */
export async function uploadWithTus(transfer: TusTransfer): Promise<string> {
  const tus = await loadTus(transfer.tus);
  if (tus === undefined) {
    throw new ImageIngestError(
      'tus_unavailable',
      "via: 'tus' needs tus-js-client (npm install tus-js-client, or load its browser bundle)",
    );
  }
  const { input, signal } = transfer;
  signal?.throwIfAborted();
  const source = await tusSourceOf(input);
  return new Promise<string>((resolve, reject) => {
    const upload = new tus.Upload(source, {
      endpoint: transfer.endpoint,
      headers: transfer.headers,
      metadata: { filename: input.name, filetype: input.type },
      chunkSize: transfer.chunkSize,
      // A stream's length is told with its last PATCH (the creation-defer-length extension).
      ...(input.size === undefined ? { uploadLengthDeferred: true } : { uploadSize: input.size }),
      retryDelays: [...transfer.retryDelays],
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => transfer.onProgress?.(sent, input.size ?? total),
      // A refusal of the image (4xx other than 409/423/429) will not change on a retry.
      onShouldRetry: (error) => {
        const status = error.originalResponse?.getStatus() ?? 0;
        return status === 0 || status === 409 || status === 423 || status === 429 || status >= 500;
      },
      onSuccess: () => {
        signal?.removeEventListener('abort', onAbort);
        if (upload.url === null) {
          reject(new ImageIngestError('invalid_response', 'tus upload finished without a URL'));
        } else {
          resolve(upload.url);
        }
      },
      onError: (error) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted === true) return;
        const response = error.originalResponse;
        if (response !== undefined && response !== null && response.getStatus() > 0) {
          reject(
            errorFromResponse(
              response.getStatus(),
              response.getBody(),
              response.getHeader('Retry-After') ?? null,
            ),
          );
        } else {
          reject(
            new ImageIngestError('network_error', error.message, { cause: error, details: error }),
          );
        }
      },
    });
    const onAbort = (): void => {
      // Terminate, so the server drops what it has received (tus termination extension).
      void upload.abort(true).catch(() => undefined);
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    upload.start();
  });
}
