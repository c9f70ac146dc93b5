import busboy from 'busboy';
import { finished, type Readable } from 'node:stream';
import { AppError, isAppError } from '../errors.js';

/**
 * The multipart/form-data body adapter: turns a form, as a browser's FormData, curl -F or
 * Python requests send it, into the image byte streams it holds plus their hints, parsing
 * the body as it arrives. It speaks the protocol only; what an image is, and where it goes,
 * is for the pipeline.
 *
 * Busboy does the parsing. Its limits are mostly "reached" rather than "crossed" (a file of
 * exactly fileSize bytes is flagged as truncated), and it reports most of them by dropping
 * data and emitting an event; here every crossed limit fails the whole body with one error
 * of its own, as fastify-multipart does.
 */

export interface MultipartLimits {
  /** Bytes of one file part (the image size limit): past it, payload_too_large. */
  readonly maxFileBytes: number;
  /** File parts in the form: past it, too_many_files. */
  readonly maxFiles: number;
  /** Text fields in the form: past it, too_many_fields. */
  readonly maxFields: number;
  /** Bytes of one text field's value: past it, field_too_large. */
  readonly maxFieldBytes: number;
  /** Parts of any kind, those busboy skips (no Content-Disposition) included: too_many_parts. */
  readonly maxParts: number;
  // No header bound here: busboy 1.6 fixes each part's header block at 16 KiB (past it the
  // part header is "malformed", our invalid_multipart) and ignores a headerPairs limit.
}

export interface FilePart {
  /** The form field name: 'file', 'image', 'files[]' ... */
  readonly field: string;
  /**
   * Hints only: never used for the stored name, a path or the type. The filename is already
   * cut to its last path segment and cleaned (filenameHint), so it is safe to show or log.
   */
  readonly filename: string | undefined;
  /** The part's Content-Type as busboy read it; RFC 7578's default text/plain when absent. */
  readonly declaredType: string | undefined;
  /**
   * The part's bytes as they arrive; never more than maxFileBytes. Iterate it once, to its
   * end. A failure of the body (a crossed limit, a cut-off body, an abort) found after this
   * part's header is thrown from here, after the bytes that came before it, however the
   * body was cut into chunks. Ending cleanly says only that this part is whole: a form of
   * several files is good once `ended` resolves. Stopping early stops reading the body.
   */
  readonly chunks: AsyncIterable<Buffer>;
}

export interface TextField {
  readonly name: string;
  readonly value: string;
}

export interface MultipartBody extends AsyncIterable<FilePart> {
  /**
   * Yields the file parts in order, and ends only once the whole body has ended cleanly.
   * Read each part's chunks to their end before asking for the next: busboy parses no
   * further while a part is unread, which is how the request is backpressured. Iterate once.
   */
  [Symbol.asyncIterator](): AsyncIterator<FilePart, undefined>;
  /** The text fields in the order they came, once the body has ended cleanly. */
  readonly fields: Promise<readonly TextField[]>;
  /**
   * Resolves when the closing delimiter has been read with no limit crossed and every file
   * part read to its end; rejects with the body's failure otherwise. A store must commit
   * nothing from this body before it resolves.
   */
  readonly ended: Promise<void>;
  /** Stops parsing, e.g. when the pipeline has given up: everything then rejects with `reason`. */
  cancel(reason: Error): void;
}

export interface MultipartOptions {
  /**
   * Names under which a file part is taken. A file part under any other name fails the body
   * with unexpected_file_field at its header, before its bytes are read: skipping it would
   * read a whole unwanted file only to answer missing_file at the end.
   */
  readonly fileFields: readonly string[];
  readonly signal?: AbortSignal | undefined;
}

/** The names POST /v1/images takes its image under: FormData's usual `file`, or `image`. */
export const imageFileFields: readonly string[] = ['file', 'image'];

/**
 * Parses `body` (the request stream) by its Content-Type header. Never throws: every failure,
 * a bad Content-Type included, comes out of the iterables and promises.
 *
 * The adapter reads `body` but never destroys it: after a failure it stops reading and leaves
 * the request to the HTTP layer, which can still answer before it drains or closes it.
 */
export function readMultipart(
  body: Readable,
  contentType: string,
  limits: MultipartLimits,
  options: MultipartOptions,
): MultipartBody {
  return new MultipartReader(body, contentType, limits, options);
}

export interface ImagePartHints {
  readonly field: string;
  readonly filename: string | undefined;
  readonly declaredType: string | undefined;
}

export interface SingleImagePart {
  readonly hints: ImagePartHints;
  /**
   * The image's bytes. It ends only once the whole body has ended cleanly: a second file
   * part, a cut-off body or a limit crossed after the image's last byte is thrown from here,
   * so a pipeline that commits on a clean end stores nothing from a bad body. Stopping
   * early (a break, the pipeline's own failure) stops reading the body.
   */
  readonly chunks: AsyncIterable<Buffer>;
  /** All text fields, before and after the file, once the body has ended cleanly. */
  readonly fields: Promise<readonly TextField[]>;
  /**
   * Stops reading the body without reading `chunks` (the pipeline refused the image on its
   * hints, say): until then the unread part holds the parser, and the request, where it is.
   */
  cancel(reason: Error): void;
}

/** Limits for a form that carries exactly one image: maxFiles is 1 by definition. */
export type SingleImageLimits = Omit<MultipartLimits, 'maxFiles'>;

/**
 * The form POST /v1/images takes: one file part named `file` or `image`, any bounded text
 * fields around it. Resolves once the file part's header has been read (text fields before
 * it are fine); rejects with missing_file if the body ends cleanly without one, or with the
 * body's failure if it fails first.
 */
export async function readSingleImagePart(
  body: Readable,
  contentType: string,
  limits: SingleImageLimits,
  signal?: AbortSignal,
): Promise<SingleImagePart> {
  const form = readMultipart(
    body,
    contentType,
    { ...limits, maxFiles: 1 },
    { fileFields: imageFileFields, signal },
  );
  const parts = form[Symbol.asyncIterator]();
  const first = await parts.next();
  if (first.done === true) throw missingFile(await form.fields);
  const { field, filename, declaredType, chunks } = first.value;
  return {
    hints: { field, filename, declaredType },
    chunks: untilBodyEnds(chunks, parts),
    fields: form.fields,
    cancel: (reason) => form.cancel(reason),
  };
}

async function* untilBodyEnds(
  chunks: AsyncIterable<Buffer>,
  parts: AsyncIterator<FilePart, undefined>,
): AsyncGenerator<Buffer, void, undefined> {
  yield* chunks;
  // With maxFiles 1 busboy refuses a second file part itself; the parts iterator ends only
  // at the body's clean end, which is the point of waiting here.
  const next = await parts.next();
  if (next.done !== true) throw new AppError('too_many_files');
}

function missingFile(fields: readonly TextField[]): AppError {
  if (fields.some((field) => imageFileFields.includes(field.name))) {
    // curl -F 'file=<photo.jpg' and a hand-made form without filename= both do this.
    return new AppError('missing_file', {
      message:
        'The form has a text field named "file" (or "image") but no file part: send the image ' +
        'as a file, with a filename, as <input type="file"> and curl -F file=@photo.jpg do.',
    });
  }
  return new AppError('missing_file');
}

/**
 * A filename as a client sent it, made safe to show or log: control, format and bidi
 * characters removed, path separators too (busboy has already kept only the last segment),
 * at most 255 characters. Undefined when nothing, or only "." or "..", is left. Still only a
 * hint: never a path, never a stored name.
 */
export function filenameHint(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const cleaned = raw
    // \p{Cc} is C0, DEL and C1; \p{Cf} holds the bidi overrides that make "gpj.exe" read as
    // "exe.jpg"; the separators go so that no later join can turn the hint into a path.
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}/\\]/gu, '')
    .trim();
  const hint = Array.from(cleaned).slice(0, 255).join('').trim();
  return hint === '' || hint === '.' || hint === '..' ? undefined : hint;
}

// RFC 2046 section 5.1.1: 1 to 70 characters from this set, not ending in a space.
const boundaryPattern = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const parameterPattern = /\s*;\s*([^\s;=]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))\s*/y;

function invalidMultipart(message: string, cause?: unknown): AppError {
  return new AppError('invalid_multipart', { message, cause });
}

/**
 * Reads the boundary from a Content-Type, refusing what busboy would let through: another
 * media type (it would parse application/x-www-form-urlencoded too), an empty or over-long
 * boundary, or two boundary parameters that two parsers could read differently.
 */
export function multipartBoundary(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon))
    .trim()
    .toLowerCase();
  if (mediaType !== 'multipart/form-data') {
    throw invalidMultipart('The request body is not multipart/form-data.');
  }
  let boundary: string | undefined;
  let boundaries = 0;
  const parameters = semicolon === -1 ? '' : contentType.slice(semicolon);
  parameterPattern.lastIndex = 0;
  while (parameterPattern.lastIndex < parameters.length) {
    const match = parameterPattern.exec(parameters);
    if (match === null) {
      if (/^[\s;]*$/.test(parameters.slice(parameterPattern.lastIndex))) break;
      throw invalidMultipart('The Content-Type header of the multipart body is malformed.');
    }
    if (match[1]?.toLowerCase() === 'boundary') {
      boundaries += 1;
      boundary = match[2]?.replace(/\\(.)/g, '$1') ?? match[3];
    }
  }
  if (boundaries !== 1 || boundary === undefined) {
    throw invalidMultipart(
      boundaries === 0
        ? 'The multipart Content-Type has no boundary parameter.'
        : 'The multipart Content-Type has more than one boundary parameter.',
    );
  }
  if (!boundaryPattern.test(boundary)) {
    throw invalidMultipart(
      'The multipart boundary must be 1 to 70 characters allowed by RFC 2046, not ending in a space.',
    );
  }
  return boundary;
}

/** Busboy's errors carry no code; their messages are all it gives. */
function fromBusboy(error: unknown): Error {
  if (isAppError(error)) return error;
  const text = error instanceof Error ? error.message : '';
  if (text === 'Malformed part header') {
    return invalidMultipart(
      'A part header is malformed or longer than 16 KiB (headers must end with a blank line).',
      error,
    );
  }
  if (text === 'Unexpected end of form' || text === 'Unexpected end of file') {
    return invalidMultipart('The body ended before the closing boundary of the form.', error);
  }
  return invalidMultipart('The request body is not valid multipart/form-data.', error);
}

function fromBody(error: unknown): Error {
  // The caller's own limits (a body-size Transform, say) speak for themselves.
  if (isAppError(error)) return error;
  return invalidMultipart('The body ended before the closing boundary of the form.', error);
}

type FileStream = Readable & { truncated?: boolean };

interface PendingPart {
  readonly part: FilePart;
  readonly stream: FileStream;
  /** The part's chunks were read to their end. */
  ended: boolean;
}

interface Settled<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

/** A promise whose rejection is never "unhandled": nobody need await `ended` or `fields`. */
function settled<T>(): Settled<T> {
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function noop(): void {}

class MultipartReader implements MultipartBody {
  readonly #limits: MultipartLimits;
  readonly #fileFields: readonly string[];
  readonly #ended = settled<void>();
  readonly #fields = settled<readonly TextField[]>();
  readonly #received: TextField[] = [];
  readonly #queue: PendingPart[] = [];
  #current: PendingPart | undefined;
  #waiter: (() => void) | undefined;
  #iterated = false;
  #parts = 0;
  #failure: Error | undefined;
  #succeeded = false;
  #parser: busboy.Busboy | undefined;
  #detach: () => void = noop;
  readonly ended = this.#ended.promise;
  readonly fields = this.#fields.promise;

  constructor(
    body: Readable,
    contentType: string,
    limits: MultipartLimits,
    { fileFields, signal }: MultipartOptions,
  ) {
    this.#limits = limits;
    this.#fileFields = fileFields;
    if (signal?.aborted === true) {
      this.#fail(abortReason(signal));
      return;
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        // Our own reading of the boundary, quoted, so busboy parses exactly what was checked.
        headers: {
          'content-type': `multipart/form-data; boundary="${multipartBoundary(contentType)}"`,
        },
        // Browsers send filename="..." as raw UTF-8; busboy's default would read it as latin1.
        defParamCharset: 'utf8',
        limits: {
          // Busboy flags a limit when it is reached; one more makes it flag it when crossed.
          fileSize: limits.maxFileBytes + 1,
          files: limits.maxFiles,
          fields: limits.maxFields,
          fieldSize: limits.maxFieldBytes + 1,
          parts: limits.maxParts + 1,
        },
      });
    } catch (error) {
      this.#fail(isAppError(error) ? error : fromBusboy(error));
      return;
    }
    this.#parser = parser;
    // Attach the error listener first and keep it for good: busboy emits 'error' directly
    // (not through destroy), and one emitted with no listener is an uncaught exception.
    parser.on('error', (error: unknown) => this.#fail(fromBusboy(error)));
    parser.on('file', (name, stream, info) => this.#onFile(name, stream, info));
    parser.on('field', (name, value, info) => this.#onField(name, value, info));
    parser.on('filesLimit', () =>
      this.#fail(
        new AppError('too_many_files', {
          message:
            limits.maxFiles === 1
              ? 'The form holds more than one file part; send one image per request.'
              : `The form holds more than ${limits.maxFiles} file parts.`,
        }),
      ),
    );
    parser.on('fieldsLimit', () =>
      this.#fail(
        new AppError('too_many_fields', {
          message: `The form holds more than ${limits.maxFields} text fields.`,
        }),
      ),
    );
    parser.on('partsLimit', () => this.#fail(tooManyParts(limits.maxParts)));
    parser.on('finish', () => this.#succeed());

    const onAbort = (): void => {
      this.#fail(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // Not stream.pipeline: on failure it would destroy the request, and with it the socket
    // the error response has to go out on. The HTTP layer decides the request's fate.
    body.pipe(parser);
    const stopWatching = finished(body, { writable: false }, (error) => {
      if (error !== undefined && error !== null) this.#fail(fromBody(error));
    });
    this.#detach = () => {
      body.unpipe(parser);
      stopWatching();
      signal?.removeEventListener('abort', onAbort);
    };
  }

  cancel(reason: Error): void {
    this.#fail(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<FilePart, undefined> {
    if (this.#iterated) throw new Error('A multipart body can be iterated once only.');
    this.#iterated = true;
    return {
      next: () => this.#nextPart(),
      return: () => {
        // Leaving the loop early abandons the rest of the body: stop reading it.
        if (!this.#succeeded) this.#fail(new Error('The multipart body was abandoned.'));
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  async #nextPart(): Promise<IteratorResult<FilePart, undefined>> {
    if (this.#current !== undefined && !this.#current.ended) {
      // Busboy would wait for that part to be read, and this call for busboy: a deadlock.
      throw this.#fail(
        new Error("Read each file part's chunks to their end before the next part."),
      );
    }
    for (;;) {
      // Parts whose header came before the failure are still handed out, and the failure comes
      // out of their chunks: where it surfaces does not depend on how the body was cut up.
      const pending = this.#queue.shift();
      if (pending !== undefined) {
        this.#current = pending;
        return { done: false, value: pending.part };
      }
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#succeeded) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  #countPart(): boolean {
    this.#parts += 1;
    if (this.#parts <= this.#limits.maxParts) return true;
    this.#fail(tooManyParts(this.#limits.maxParts));
    return false;
  }

  #onFile(name: string | undefined, stream: FileStream, info: busboy.FileInfo): void {
    // Before anything else: a part destroyed unread must not throw from an 'error' event.
    stream.on('error', noop);
    if (this.#failure !== undefined || !this.#countPart()) return;
    const field = name ?? '';
    if (!this.#fileFields.includes(field)) {
      this.#fail(
        new AppError('unexpected_file_field', {
          message: `A file part has an unexpected name; send it as ${this.#fileFields
            .map((accepted) => `"${accepted}"`)
            .join(' or ')}.`,
        }),
      );
      return;
    }
    stream.once('limit', () => this.#fail(fileTooLarge(this.#limits.maxFileBytes)));
    const pending: PendingPart = {
      stream,
      ended: false,
      part: {
        field,
        filename: filenameHint(info.filename),
        declaredType: info.mimeType === '' ? undefined : info.mimeType,
        chunks: this.#chunksOf(stream, () => {
          pending.ended = true;
        }),
      },
    };
    this.#queue.push(pending);
    this.#wake();
  }

  #onField(name: string | undefined, value: string, info: busboy.FieldInfo): void {
    if (this.#failure !== undefined || !this.#countPart()) return;
    if (info.valueTruncated) {
      this.#fail(
        new AppError('field_too_large', {
          message: `A text field of the form is larger than ${this.#limits.maxFieldBytes} bytes.`,
        }),
      );
      return;
    }
    this.#received.push({ name: name ?? '', value });
  }

  async *#chunksOf(stream: FileStream, onEnd: () => void): AsyncGenerator<Buffer, void, undefined> {
    let received = 0;
    let ended = false;
    try {
      // A part busboy had finished before the failure still yields what it holds; the one
      // it was reading is destroyed with the failure by busboy itself.
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > this.#limits.maxFileBytes) {
          throw this.#fail(fileTooLarge(this.#limits.maxFileBytes));
        }
        yield chunk;
      }
      // Busboy ends a part normally after cutting it at its limit; the failure says why.
      if (this.#failure !== undefined) throw this.#failure;
      ended = true;
      onEnd();
    } catch (error) {
      throw this.#fail(fromBusboy(error));
    } finally {
      if (!ended) this.#fail(new Error('A file part was abandoned before its end.'));
    }
  }

  /** Records the body's one failure (the first wins) and stops everything; returns it. */
  #fail(error: Error): Error {
    if (this.#failure !== undefined) return this.#failure;
    if (this.#succeeded) return error;
    this.#failure = error;
    this.#detach();
    this.#ended.reject(error);
    this.#fields.reject(error);
    this.#wake();
    const parser = this.#parser;
    // Later: this may run inside one of busboy's own event handlers, and busboy touches its
    // current file stream after emitting (destroying it now makes busboy throw a TypeError).
    process.nextTick(() => parser?.destroy(error));
    return error;
  }

  #succeed(): void {
    if (this.#failure !== undefined) return;
    this.#succeeded = true;
    this.#detach();
    this.#ended.resolve();
    this.#fields.resolve(this.#received);
    this.#wake();
  }
}

function fileTooLarge(maxFileBytes: number): AppError {
  return new AppError('payload_too_large', {
    message: `The file part is larger than the allowed maximum of ${maxFileBytes} bytes.`,
  });
}

function tooManyParts(maxParts: number): AppError {
  return new AppError('too_many_parts', {
    message: `The form holds more than ${maxParts} parts.`,
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error
    ? reason
    : new Error('The request was aborted.', { cause: reason });
}
