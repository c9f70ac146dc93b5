import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * One set of request builders for every way an image can be sent, shared by all tests: a JSON
 * data URI, a multipart form, a raw body. Arguments always go bytes first, label second.
 */

export type Driver = 'local' | 'gcs';
export const drivers: readonly Driver[] = ['local', 'gcs'];

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
}

export interface MultipartForm {
  readonly files?: readonly MultipartFile[];
  readonly fields?: Readonly<Record<string, string>>;
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
export function multipartBody({ files = [], fields = {}, boundary }: MultipartForm): BuiltBody {
  const delimiter = boundary ?? `----image-ingest-test-${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${delimiter}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  for (const file of files) {
    const filename = file.filename ?? 'upload.bin';
    parts.push(
      Buffer.from(
        `--${delimiter}\r\n` +
          `Content-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${filename}"\r\n` +
          `Content-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${delimiter}--\r\n`));
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
