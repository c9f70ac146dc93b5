import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * One set of request builders for every way an image can be sent, shared by all tests: a JSON
 * data URI, a multipart form, a raw body. Arguments always go bytes first, label second.
 */

export type Driver = 'local' | 'gcs';
/** Both, except in `npm run test:unit` (jest.unit.config.js), which has no emulator. */
export const drivers: readonly Driver[] =
  process.env.TEST_DRIVERS === 'local' ? ['local'] : ['local', 'gcs'];

export const fixturesDirectory = path.resolve('__tests__/fixtures');

/** A real image (or hostile file) from __tests__/fixtures. */
export function fixture(name: string): Buffer {
  return readFileSync(path.join(fixturesDirectory, name));
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `data:<type>;base64,<bytes>`; the label is the client's claim, which the service ignores. */
export function dataUri(bytes: Buffer, type = 'image/png'): string {
  return `data:${type};base64,${bytes.toString('base64')}`;
}

/** The JSON body `{"data": "<data URI>"}`. */
export function jsonBody(bytes: Buffer, type = 'image/png'): string {
  return JSON.stringify({ data: dataUri(bytes, type) });
}

export interface MultipartFile {
  /** The form field name; `file` is what the service looks for. */
  readonly field?: string;
  readonly bytes: Buffer;
  readonly filename?: string;
  /** The part's declared Content-Type, a hint only. */
  readonly type?: string;
  /** The whole Content-Disposition value instead of the usual one (e.g. with filename*=). */
  readonly disposition?: string;
}

export interface MultipartForm {
  readonly files?: readonly MultipartFile[];
  readonly fields?: Readonly<Record<string, string>>;
  /** Text fields after the files, which FormData keeps if they were appended after them. */
  readonly fieldsAfter?: Readonly<Record<string, string>>;
  readonly boundary?: string;
}

export interface BuiltBody {
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * A multipart/form-data body as a browser's FormData sends it (RFC 7578): text fields first,
 * then the files, CRLF line ends, the closing delimiter last.
 */
export function multipartBody({
  files = [],
  fields = {},
  fieldsAfter = {},
  boundary,
}: MultipartForm): BuiltBody {
  const delimiter = boundary ?? `----image-ingest-test-${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  const textParts = (textFields: Readonly<Record<string, string>>): Buffer[] =>
    Object.entries(textFields).map(([name, value]) =>
      Buffer.from(
        `--${delimiter}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  parts.push(...textParts(fields));
  for (const file of files) {
    const filename = file.filename ?? 'upload.bin';
    parts.push(
      Buffer.from(
        `--${delimiter}\r\n` +
          `Content-Disposition: ${file.disposition ?? `form-data; name="${file.field ?? 'file'}"; filename="${filename}"`}\r\n` +
          `Content-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(...textParts(fieldsAfter), Buffer.from(`--${delimiter}--\r\n`));
  return {
    contentType: `multipart/form-data; boundary=${delimiter}`,
    body: Buffer.concat(parts),
  };
}

/** The form most tests need: one file part named `file`. */
export function multipartFile(
  bytes: Buffer,
  type = 'image/png',
  filename = 'photo.png',
): BuiltBody {
  return multipartBody({ files: [{ bytes, type, filename }] });
}

/** A raw body: the bytes as they are, under the client's declared type. */
export function rawBody(bytes: Buffer, type = 'application/octet-stream'): BuiltBody {
  return { contentType: type, body: bytes };
}

/** The body, and its Content-Type, that Node's own fetch (undici) sends for a FormData. */
export async function formDataBody(form: FormData): Promise<BuiltBody> {
  const response = new Response(form);
  const contentType = response.headers.get('content-type');
  if (contentType === null) throw new Error('Response(FormData) set no Content-Type');
  return { contentType, body: Buffer.from(await response.arrayBuffer()) };
}

/**
 * The body curl sends for `curl -F <field>...` (e.g. 'file=@photo.jpg;type=image/jpeg'),
 * captured by a one-shot local TCP server that answers 204 once the body is in.
 */
export async function curlFormBody(fields: readonly string[]): Promise<BuiltBody> {
  const received: Buffer[] = [];
  const captured = Promise.withResolvers<Buffer>();
  const server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      const request = Buffer.concat(received);
      const headerEnd = request.indexOf('\r\n\r\n');
      if (headerEnd === -1) return;
      const length = /^content-length:\s*(\d+)/im.exec(request.subarray(0, headerEnd).toString());
      if (length === null) {
        captured.reject(new Error('curl sent no Content-Length'));
        return;
      }
      if (request.length < headerEnd + 4 + Number(length[1])) return;
      socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
      captured.resolve(request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await promisify(execFile)('curl', [
      '--silent',
      '--show-error',
      // No "Expect: 100-continue" pause: this server never answers it.
      '--header',
      'Expect:',
      ...fields.flatMap((field) => ['--form', field]),
      `http://127.0.0.1:${port}/`,
    ]);
    const request = await captured.promise;
    const headerEnd = request.indexOf('\r\n\r\n');
    const contentType = /^content-type:\s*(.+?)\r?$/im.exec(
      request.subarray(0, headerEnd).toString(),
    );
    if (contentType?.[1] === undefined) throw new Error('curl sent no Content-Type');
    return { contentType: contentType[1], body: request.subarray(headerEnd + 4) };
  } finally {
    server.close();
  }
}
