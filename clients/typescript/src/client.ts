import { ImageIngestError, errorFromResponse } from './errors.js';
import {
  base64Of,
  concatStreams,
  countingStream,
  imageInputOf,
  type ImageInput,
  type UploadInput,
} from './input.js';
import { defaultMaxRetryAfterSeconds, defaultRetries, withRetries } from './retry.js';
import { exchange, type Answer, type RequestBody } from './transport.js';
import { uploadWithTus, type TusModule } from './tus.js';
import type { CreatedImage, Image } from './types.js';

export interface ClientOptions {
  /** Where the service runs, e.g. "https://images.example.com"; the page's origin by default. */
  readonly baseUrl?: string | undefined;
  /** Sent as `Authorization: Bearer <apiKey>` (an API key or a JWT). */
  readonly apiKey?: string | undefined;
  /** Same as apiKey: a JWT reads better under this name. */
  readonly token?: string | undefined;
  /** Attempts after the first for network failures, 429 and 503 (default 3). */
  readonly retries?: number | undefined;
  /** Longest Retry-After waited for (default 30 s); a longer one is returned as the error. */
  readonly maxRetryAfterSeconds?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface UploadProgress {
  /** Image bytes sent so far. */
  readonly loaded: number;
  /** The image's size, when known before reading (not for a stream). */
  readonly total: number | undefined;
}

export type UploadVia = 'auto' | 'json' | 'multipart' | 'tus';

export interface UploadOptions extends ClientOptions {
  readonly onProgress?: ((progress: UploadProgress) => void) | undefined;
  /** Makes every retry of this upload the same upload; a random UUID when left out. */
  readonly idempotencyKey?: string | undefined;
  /**
   * How the bytes travel: `json` (a base64 data URI; needs the bytes whole), `multipart`
   * (a form part, streamed), `tus` (resumable, chunked), or `auto` (default): tus above
   * `tusThresholdBytes` (and for a stream, whose size is unknown) when the server offers it,
   * multipart otherwise.
   */
  readonly via?: UploadVia | undefined;
  /** Size above which `auto` goes through tus (default 8 MiB). */
  readonly tusThresholdBytes?: number | undefined;
  /** Bytes per tus PATCH (default 5 MiB). */
  readonly tusChunkBytes?: number | undefined;
  /** tus-js-client, when it cannot be found (its global `tus` in a browser, or the package). */
  readonly tus?: TusModule | undefined;
}

export interface DeleteOptions extends ClientOptions {
  /** The `deleteToken` an anonymous upload was answered with. */
  readonly deleteToken?: string | undefined;
}

const defaultTusThresholdBytes = 8 * 1024 * 1024;
const defaultTusChunkBytes = 5 * 1024 * 1024;

function baseUrlOf(options: ClientOptions): string {
  if (options.baseUrl !== undefined) return options.baseUrl.replace(/\/+$/, '');
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  if (origin === undefined) throw new TypeError('baseUrl is required outside a browser');
  return origin;
}

function authHeaders(options: ClientOptions): Record<string, string> {
  const credential = options.apiKey ?? options.token;
  return credential === undefined || credential === ''
    ? {}
    : { Authorization: `Bearer ${credential}` };
}

function retryPolicy(options: ClientOptions) {
  return {
    retries: options.retries ?? defaultRetries,
    maxRetryAfterSeconds: options.maxRetryAfterSeconds ?? defaultMaxRetryAfterSeconds,
    signal: options.signal,
  };
}

function parsed<T>(answer: Answer, expected: number): T {
  if (answer.status !== expected) {
    throw errorFromResponse(answer.status, answer.text, answer.header('Retry-After'));
  }
  try {
    return JSON.parse(answer.text) as T;
  } catch (cause) {
    throw new ImageIngestError('invalid_response', 'The answer is not JSON', {
      status: answer.status,
      details: answer.text,
      cause,
    });
  }
}

function randomKey(): string {
  return globalThis.crypto.randomUUID();
}

/** A JSON body `{"data": "<data URI>"}`: base64 needs every byte at once. */
async function jsonBody(input: ImageInput): Promise<RequestBody> {
  const blob = await input.blob();
  const text = JSON.stringify({ data: `data:${input.type};base64,${await base64Of(blob)}` });
  const body = new Blob([text]);
  return {
    contentType: 'application/json',
    size: body.size,
    blobReady: true,
    blob: () => Promise.resolve(body),
    stream: () => body.stream(),
  };
}

function quoted(value: string): string {
  return value.replace(/["\\\r\n]/g, '_');
}

/** A form with one part `file`, built around the bytes without copying them. */
function multipartBody(input: ImageInput): {
  body: RequestBody;
  prefixBytes: number;
  imageBytesRead: () => number;
} {
  const boundary = `----image-ingest-${randomKey()}`;
  const head =
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="file"; filename="${quoted(input.name)}"\r\n` +
    `Content-Type: ${quoted(input.type)}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const headBytes = new TextEncoder().encode(head).byteLength;
  const tailBytes = new TextEncoder().encode(tail).byteLength;
  const whole = async (): Promise<Blob> => new Blob([head, await input.blob(), tail]);
  let imageBytesRead = 0;
  return {
    prefixBytes: headBytes,
    imageBytesRead: () => imageBytesRead,
    body: {
      contentType: `multipart/form-data; boundary=${boundary}`,
      size: input.size === undefined ? undefined : headBytes + input.size + tailBytes,
      blobReady: input.kind !== 'stream',
      blob: whole,
      stream: () =>
        concatStreams([
          head,
          () => countingStream(input.open(), (read) => (imageBytesRead = read)),
          tail,
        ]),
    },
  };
}

const tusOffered = new Map<string, Promise<boolean>>();

/** Whether the server speaks tus: OPTIONS on its endpoint answers Tus-Version. */
export function serverOffersTus(options: ClientOptions = {}): Promise<boolean> {
  const endpoint = `${baseUrlOf(options)}/v1/uploads`;
  let known = tusOffered.get(endpoint);
  if (known === undefined) {
    known = exchange({ method: 'OPTIONS', url: endpoint, headers: {}, signal: options.signal })
      .then((answer) => answer.status < 300 && answer.header('Tus-Version') !== null)
      .catch(() => false);
    tusOffered.set(endpoint, known);
  }
  return known;
}

/**
 * Uploads one image and answers its description (with its deleteToken when anonymous).
 * Every attempt carries the same Idempotency-Key, so a retry can never store it twice.
 */
export async function uploadImage(
  value: UploadInput,
  options: UploadOptions = {},
): Promise<CreatedImage> {
  const input = imageInputOf(value);
  const baseUrl = baseUrlOf(options);
  const idempotencyKey = options.idempotencyKey ?? randomKey();
  const headers = {
    ...authHeaders(options),
    Accept: 'application/json',
    'Idempotency-Key': idempotencyKey,
  };
  const report = (loaded: number, total: number | undefined): void =>
    options.onProgress?.({ loaded, total });

  let via = options.via ?? 'auto';
  if (via === 'auto') {
    const large =
      (input.size ?? Infinity) > (options.tusThresholdBytes ?? defaultTusThresholdBytes);
    via = large && (await serverOffersTus(options)) ? 'tus' : 'multipart';
  }

  if (via === 'tus') {
    const uploadUrl = await uploadWithTus({
      endpoint: `${baseUrl}/v1/uploads`,
      headers,
      input,
      chunkSize: options.tusChunkBytes ?? defaultTusChunkBytes,
      retryDelays: [0, 1000, 2000, 4000, 8000, 8000, 8000, 8000].slice(
        0,
        Math.max(1, 2 * (options.retries ?? defaultRetries) + 2),
      ),
      signal: options.signal,
      onProgress: report,
      tus: options.tus,
    });
    const answer = await withRetries(
      () =>
        exchange({
          method: 'GET',
          url: new URL(uploadUrl, baseUrl).href,
          headers: { ...authHeaders(options), Accept: 'application/json' },
          signal: options.signal,
        }),
      retryPolicy(options),
    );
    return parsed<CreatedImage>(answer, 200);
  }

  let body: RequestBody;
  let imageProgress: (sent: number, total: number | undefined) => void;
  if (via === 'json') {
    body = await jsonBody(input);
    // The body is the image in base64 (4/3 of it) plus a few bytes: scale back to the image.
    imageProgress = (sent, total) => {
      const size = input.size ?? (total === undefined ? undefined : Math.floor((total * 3) / 4));
      report(
        total === undefined || size === undefined ? sent : Math.round((sent / total) * size),
        size,
      );
    };
  } else {
    const form = multipartBody(input);
    body = form.body;
    // Of a stream of unknown size, the bytes read from it; otherwise the body less its framing.
    imageProgress = (sent) =>
      report(
        input.size === undefined
          ? form.imageBytesRead()
          : Math.min(input.size, Math.max(0, sent - form.prefixBytes)),
        input.size,
      );
  }
  let sentOnce = false;
  const answer = await withRetries(
    () => {
      sentOnce = true;
      return exchange({
        method: 'POST',
        url: `${baseUrl}/v1/images`,
        headers,
        body,
        signal: options.signal,
        onBodyProgress: options.onProgress === undefined ? undefined : imageProgress,
      });
    },
    retryPolicy(options),
    // A stream is read as it is sent: once started it cannot be sent again.
    () => input.replayable || via === 'json' || !sentOnce,
  );
  const image = parsed<CreatedImage>(answer, 201);
  if (input.size !== undefined) report(input.size, input.size);
  return image;
}

/** The stored image's description; ImageIngestError `not_found` once it is deleted. */
export async function getImage(id: string, options: ClientOptions = {}): Promise<Image> {
  const answer = await withRetries(
    () =>
      exchange({
        method: 'GET',
        url: `${baseUrlOf(options)}/v1/images/${encodeURIComponent(id)}`,
        headers: { ...authHeaders(options), Accept: 'application/json' },
        signal: options.signal,
      }),
    retryPolicy(options),
  );
  return parsed<Image>(answer, 200);
}

/** Deletes the image: as its owner (the same credentials) or with its deleteToken. */
export async function deleteImage(id: string, options: DeleteOptions = {}): Promise<void> {
  const answer = await withRetries(
    () =>
      exchange({
        method: 'DELETE',
        url: `${baseUrlOf(options)}/v1/images/${encodeURIComponent(id)}`,
        headers: {
          ...authHeaders(options),
          ...(options.deleteToken === undefined ? {} : { 'Delete-Token': options.deleteToken }),
        },
        signal: options.signal,
      }),
    retryPolicy(options),
  );
  if (answer.status !== 204) {
    throw errorFromResponse(answer.status, answer.text, answer.header('Retry-After'));
  }
}

/** The three calls with shared options (base URL, credentials, retries). */
export function createClient(defaults: ClientOptions) {
  return {
    uploadImage: (value: UploadInput, options: UploadOptions = {}) =>
      uploadImage(value, { ...defaults, ...options }),
    getImage: (id: string, options: ClientOptions = {}) =>
      getImage(id, { ...defaults, ...options }),
    deleteImage: (id: string, options: DeleteOptions = {}) =>
      deleteImage(id, { ...defaults, ...options }),
    serverOffersTus: (options: ClientOptions = {}) => serverOffersTus({ ...defaults, ...options }),
  };
}
