import type { Context } from 'koa';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { focusFromText } from '../ingest/focal-point.js';
import { chunkSource, type ImageHints, type ImageSource } from '../ingest/image-source.js';
import { readSingleImagePart, type TextField } from '../ingest/multipart.js';
import { jsonDataUriSource } from '../ingest/sources/json-data-uri.js';

/**
 * The doors of POST /v1/images: the request's Content-Type picks the body adapter, and each
 * adapter turns its body into image bytes plus hints. What follows is the same for all.
 */
export async function imageSourceOf(
  ctx: Context,
  config: Config,
  signal: AbortSignal,
): Promise<ImageSource> {
  refuseCompressedBodies(ctx);
  // Koa's request.type keeps the header's case and spaces; media types ignore both.
  const mediaType = ctx.request.type.trim().toLowerCase();
  const declaredLength = ctx.request.length;
  if (isJsonMediaType(mediaType)) {
    refuseDeclaredLength(declaredLength, config.maxBodyBytes);
    return jsonDataUriSource(limitBody(ctx.req, config.maxBodyBytes), {
      declaredBodyBytes: declaredLength,
      maxJsonOverheadBytes: config.maxJsonOverheadBytes,
    });
  }
  if (isRawImageMediaType(mediaType)) {
    // The body is the image: its declared length is the image's size, exactly.
    refuseDeclaredLength(declaredLength, config.maxImageBytes);
    return chunkSource(
      limitBody(ctx.req, config.maxImageBytes),
      { declaredType: mediaType },
      { atMost: declaredLength, atLeast: declaredLength },
    );
  }
  if (mediaType === 'multipart/form-data') {
    const { maxBodyBytes, ...limits } = config.multipart;
    const body = multipartBodyOf(ctx, maxBodyBytes);
    // Resolves at the file part's header: the fields before it are read and bounded.
    const part = await readSingleImagePart(
      body,
      ctx.get('Content-Type'),
      { maxFileBytes: config.maxImageBytes, ...limits },
      signal,
    );
    // The fields and part headers are bounded, so the file is at least the body less them.
    const framing = maxBodyBytes - config.maxImageBytes;
    const hints: Mutable<ImageHints> = {
      filename: part.hints.filename,
      declaredType: part.hints.declaredType,
    };
    return chunkSource(
      withFormFocus(part.chunks, part.fields, hints),
      hints,
      declaredLength === undefined
        ? {}
        : { atMost: declaredLength, atLeast: Math.max(0, declaredLength - framing) },
      (reason) => part.cancel(reason),
    );
  }
  throw new AppError('unsupported_media_type');
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The image's chunks, then (the body has ended: every text field is known, before the file
 * or after it) the form's `focus` field into `hints`.
 */
async function* withFormFocus(
  chunks: AsyncIterable<Buffer>,
  fields: Promise<readonly TextField[]>,
  hints: Mutable<ImageHints>,
): AsyncGenerator<Buffer> {
  yield* chunks;
  const focus = (await fields).filter((field) => field.name === 'focus');
  if (focus.length > 1) {
    throw new AppError('invalid_focus', {
      message: 'The form has more than one "focus" field.',
    });
  }
  if (focus[0] !== undefined) hints.focus = focusFromText(focus[0].value, 'the form field "focus"');
}

/**
 * A multipart body as a stream for the parser, refused at once when it declares more than
 * `maxBytes` (and counted as it arrives when it declares nothing). Not compressed: callers
 * that bypass `imageSourceOf` (several files) check that here too.
 */
export function multipartBodyOf(ctx: Context, maxBytes: number): Readable {
  refuseCompressedBodies(ctx);
  refuseDeclaredLength(ctx.request.length, maxBytes);
  const body = Readable.from(limitBody(ctx.req, maxBytes), { objectMode: false });
  // The parser stops listening once it is done or has failed; a client that cuts the
  // connection after that (an upload aborted halfway) still makes this stream emit 'error',
  // uncaught without a listener. The request's abort signal is what tells the pipeline.
  body.on('error', () => undefined);
  return body;
}

/** application/json, or any application/*+json. */
export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

export function refuseCompressedBodies(ctx: Context): void {
  const encoding = ctx.get('Content-Encoding').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw new AppError('unsupported_media_type', {
      message: 'Compressed request bodies are not accepted; send the body uncompressed.',
    });
  }
}

function refuseDeclaredLength(declaredLength: number | undefined, maxBytes: number): void {
  if (declaredLength !== undefined && declaredLength > maxBytes) throw bodyTooLarge(maxBytes);
}

/** `image/*` or `application/octet-stream`: whatever the label says, the bytes decide. */
function isRawImageMediaType(type: string): boolean {
  return type === 'application/octet-stream' || /^image\/[a-z0-9.+-]+$/.test(type);
}

/** Counts the body as it streams in, so a body without Content-Length is bounded too. */
export async function* limitBody(
  request: IncomingMessage,
  maxBytes: number,
): AsyncGenerator<Buffer> {
  let received = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) throw bodyTooLarge(maxBytes);
    yield chunk;
  }
}

export function bodyTooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', {
    message: `The request body is larger than the allowed maximum of ${maxBytes} bytes.`,
  });
}
