import http from 'node:http';
import * as tus from 'tus-js-client';

/**
 * The one upload client of the tus scenario, the same for every server it measures: tus 1.0
 * (creation, then one PATCH per chunk, each waiting for the previous answer, as tus-js-client
 * does), and, for the comparison, the whole image in one raw POST. Both on node:http with
 * keep-alive, each chunk written as a view of the one image Buffer. Not fetch: undici's fetch
 * streams a Buffer body through a ReadableStream, and took 4 times as long (76 against
 * 317 MiB/s for 5 MiB PATCHes to the bare ceiling on this machine), the client then being what
 * is measured. tus-js-client itself runs only the lines that need what it alone does
 * (`parallelUploads`: partial uploads joined by a final one, tus `concatenation`), beside a
 * line of it uploading one at a time, so that what it costs as a client shows.
 */

export interface Upload {
  readonly seconds: number;
  /**
   * Seconds of the last request alone: for tus, the last chunk plus whatever the server does
   * before it answers (image-ingest runs the pipeline over the whole upload then).
   */
  readonly lastSeconds: number;
  /** The 2xx status of the final answer (201 for a raw POST, 204 for the last PATCH). */
  readonly status: number;
  /** Where the service says the image is: `Image-Location` of the last PATCH, or undefined. */
  readonly imageLocation: string | undefined;
}

/** Told when the last request of an upload (the one that finishes it) is about to be sent. */
export type OnLastRequest = () => void;

/** A non-2xx answer, or one that breaks the protocol: what the server said, for the report. */
export class UploadRefused extends Error {
  readonly step: string;
  readonly status: number;
  readonly body: string;
  constructor(step: string, status: number, body: string) {
    super(`${step}: ${status} ${body}`);
    this.name = 'UploadRefused';
    this.step = step;
    this.status = status;
    this.body = body;
  }
}

const tusResumable = { 'Tus-Resumable': '1.0.0' };
const agent = new http.Agent({ keepAlive: true });

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method, agent, headers: { ...headers, 'Content-Length': String(body?.length ?? 0) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (piece: string) => {
          if (text.length < 300) text += piece;
        });
        response.once('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
        );
        response.once('error', reject);
      },
    );
    request.once('error', reject);
    request.end(body);
  });
}

const refusal = (step: string, answer: Answer): UploadRefused =>
  new UploadRefused(step, answer.status, answer.body.slice(0, 300));

/**
 * POST `creationUrl` with `Upload-Length`, then PATCH the upload URL it answers in `Location`
 * with `chunkBytes` at a time (`Upload-Offset`, `application/offset+octet-stream`), checking
 * that every answer's `Upload-Offset` is the bytes sent so far.
 */
export async function tusUpload(
  creationUrl: string,
  image: Buffer,
  chunkBytes: number,
  onLast?: OnLastRequest,
): Promise<Upload> {
  const started = performance.now();
  const created = await send(creationUrl, 'POST', {
    ...tusResumable,
    'Upload-Length': String(image.length),
  });
  const location = created.headers.location;
  if (created.status !== 201 || location === undefined) throw refusal('POST (creation)', created);
  const uploadUrl = new URL(location, creationUrl).href;
  let offset = 0;
  for (;;) {
    const chunk = image.subarray(offset, Math.min(image.length, offset + chunkBytes));
    if (offset + chunk.length === image.length) onLast?.();
    const sent = performance.now();
    const answer = await send(
      uploadUrl,
      'PATCH',
      {
        ...tusResumable,
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
      },
      chunk,
    );
    if (answer.status !== 204) throw refusal(`PATCH at ${offset}`, answer);
    offset += chunk.length;
    const answered = answer.headers['upload-offset'];
    if (answered !== String(offset)) {
      throw new UploadRefused(`PATCH to ${offset}`, 204, `Upload-Offset: ${String(answered)}`);
    }
    if (offset === image.length) {
      const imageLocation = answer.headers['image-location'];
      return {
        seconds: (performance.now() - started) / 1000,
        lastSeconds: (performance.now() - sent) / 1000,
        status: answer.status,
        imageLocation: typeof imageLocation === 'string' ? imageLocation : undefined,
      };
    }
  }
}

/** The whole image as the body of one POST, `Content-Type: image/jpeg`, answered 201. */
export async function rawUpload(
  url: string,
  image: Buffer,
  contentType: string,
  onLast?: OnLastRequest,
): Promise<Upload> {
  onLast?.();
  const started = performance.now();
  const answer = await send(url, 'POST', { 'Content-Type': contentType }, image);
  if (answer.status !== 201) throw refusal('POST', answer);
  return {
    seconds: (performance.now() - started) / 1000,
    lastSeconds: (performance.now() - started) / 1000,
    status: answer.status,
    imageLocation: undefined,
  };
}

/** The extensions a tus server names in `Tus-Extension`, asked with OPTIONS. */
export async function tusExtensions(creationUrl: string): Promise<string[]> {
  const answer = await send(creationUrl, 'OPTIONS', tusResumable);
  const header = answer.headers['tus-extension'];
  return (typeof header === 'string' ? header : '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/**
 * The image through tus-js-client (its Node HTTP stack), `chunkBytes` per PATCH, in
 * `parallelUploads` partial uploads joined by a final one when more than 1. `lastSeconds` is
 * the request that finishes the upload: the final POST (`Upload-Concat: final;...`) of a
 * parallel upload, the last PATCH otherwise, from just before its first byte to its answer.
 */
export function tusJsUpload(
  endpoint: string,
  image: Buffer,
  chunkBytes: number,
  parallelUploads: number,
  onLast?: OnLastRequest,
): Promise<Upload> {
  const started = performance.now();
  let lastSent = started;
  const isLast = (request: tus.HttpRequest): boolean => {
    if (parallelUploads > 1) {
      return (
        request.getMethod() === 'POST' &&
        (request.getHeader('Upload-Concat') ?? '').startsWith('final')
      );
    }
    const offset = Number(request.getHeader('Upload-Offset'));
    return request.getMethod() === 'PATCH' && offset + chunkBytes >= image.length;
  };
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(image, {
      endpoint,
      chunkSize: chunkBytes,
      parallelUploads,
      retryDelays: [],
      metadata: { filename: 'noise.jpg', filetype: 'image/jpeg' },
      onBeforeRequest: (request) => {
        if (!isLast(request)) return;
        onLast?.();
        lastSent = performance.now();
      },
      onSuccess: ({ lastResponse }) => {
        const finished = performance.now();
        resolve({
          seconds: (finished - started) / 1000,
          lastSeconds: (finished - lastSent) / 1000,
          status: lastResponse.getStatus(),
          imageLocation: lastResponse.getHeader('Image-Location') ?? undefined,
        });
      },
      onError: (error) => {
        const response = (error as tus.DetailedError).originalResponse;
        reject(
          response === null || response === undefined
            ? error
            : new UploadRefused('tus-js-client', response.getStatus(), response.getBody()),
        );
      },
    });
    upload.start();
  });
}
