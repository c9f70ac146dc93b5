import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { getEventListeners, once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { AppError } from '../../src/errors.js';
import {
  filenameHint,
  multipartBoundary,
  readMultipart,
  readSingleImagePart,
  type MultipartLimits,
} from '../../src/ingest/multipart.js';
import { fixture, formDataBody, multipartBody, multipartFile } from '../support/requests.js';
import { cutOffsets, expectAppError, oneBytePieces, splitAt } from './helpers.js';
import { collect, failureOf, limits, Pieces, readImage } from './multipart-reading.js';

const jpeg = fixture('photo.jpg');
const png = fixture('photo.png');

/** A body made on demand, never held whole: `count` pieces from `piece(index)`, then `tail`. */
class Generated extends Readable {
  pulled = 0;
  #index = 0;

  constructor(
    readonly count: number,
    readonly piece: (index: number) => Buffer,
    readonly tail: Buffer = Buffer.alloc(0),
  ) {
    super({ highWaterMark: 1024 });
  }

  override _read(): void {
    const index = this.#index++;
    const chunk =
      index < this.count ? this.piece(index) : index === this.count ? this.tail : undefined;
    if (chunk !== undefined) this.pulled += chunk.length;
    this.push(chunk ?? null);
  }
}

describe('readSingleImagePart: one image', () => {
  it('yields the exact bytes of a file part, with its hints', async () => {
    const built = multipartFile(jpeg, 'image/jpeg', 'holiday.jpg');
    const { bytes, hints, fields } = await readImage(built);
    expect(bytes.equals(jpeg)).toBe(true);
    expect(hints).toEqual({ field: 'file', filename: 'holiday.jpg', declaredType: 'image/jpeg' });
    expect(fields).toEqual([]);
  });

  it('takes the part named "image" too', async () => {
    const built = multipartBody({ files: [{ field: 'image', bytes: png, type: 'image/png' }] });
    const { bytes, hints } = await readImage(built);
    expect(bytes.equals(png)).toBe(true);
    expect(hints.field).toBe('image');
  });

  it('keeps text fields before and after the file, in order', async () => {
    const built = multipartBody({
      fields: { title: 'Sunset', alt: 'A red sky' },
      files: [{ bytes: jpeg, type: 'image/jpeg' }],
      fieldsAfter: { album: 'été' },
    });
    const { bytes, fields } = await readImage(built);
    expect(bytes.equals(jpeg)).toBe(true);
    expect(fields).toEqual([
      { name: 'title', value: 'Sunset' },
      { name: 'alt', value: 'A red sky' },
      { name: 'album', value: 'été' },
    ]);
  });

  it('reads the same bytes whatever the chunk boundaries (every cut, and byte by byte)', async () => {
    const built = multipartBody({
      fields: { title: 'x' },
      files: [{ bytes: png, type: 'image/png' }],
      fieldsAfter: { after: 'y' },
    });
    const { body } = built;
    for (let cut = 0; cut <= body.length; cut += 7) {
      const { bytes, fields } = await readImage(built, splitAt(body, [cut, cut + 1, cut + 40]));
      expect(bytes.equals(png)).toBe(true);
      expect(fields).toHaveLength(2);
    }
    const { bytes, fields } = await readImage(built, oneBytePieces(body));
    expect(bytes.equals(png)).toBe(true);
    expect(fields).toEqual([
      { name: 'title', value: 'x' },
      { name: 'after', value: 'y' },
    ]);
  });

  it('property: any split of a form with fields and a file gives its bytes and fields', async () => {
    const image = fixture('photo.webp');
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('file', 'image'),
        fc.integer({ min: 0, max: 200 }),
        fc.context(),
        async (value, field, prefix, context) => {
          const bytes = Buffer.concat([image.subarray(0, prefix), image]);
          const built = multipartBody({
            fields: { note: value },
            files: [{ field, bytes, type: 'image/webp' }],
          });
          await fc.assert(
            fc.asyncProperty(cutOffsets(built.body.length), async (offsets) => {
              context.log(`cuts ${offsets.join(',')}`);
              const read = await readImage(built, splitAt(built.body, offsets));
              expect(read.bytes.equals(bytes)).toBe(true);
              expect(read.hints.field).toBe(field);
              expect(read.fields).toEqual([{ name: 'note', value }]);
            }),
            { numRuns: 10 },
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it('takes a file exactly maxFileBytes long, and text fields exactly maxFieldBytes long', async () => {
    const bytes = Buffer.alloc(limits.maxFileBytes, 7);
    const value = 'v'.repeat(limits.maxFieldBytes);
    const built = multipartBody({ fields: { note: value }, files: [{ bytes }] });
    const read = await readImage(built);
    expect(read.bytes.equals(bytes)).toBe(true);
    expect(read.fields).toEqual([{ name: 'note', value }]);
  });
});

describe('readSingleImagePart: hints are only hints', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\win.ini', 'win.ini'],
    ['/absolute/photo.png', 'photo.png'],
    ['..', undefined],
    ['photo\u202egnp.exe', 'photognp.exe'],
  ])('filename %j: the bytes are right, the hint is %j', async (filename, hint) => {
    const built = multipartFile(png, 'image/png', filename);
    const read = await readImage(built);
    expect(read.bytes.equals(png)).toBe(true);
    expect(read.hints.filename).toBe(hint);
  });

  it('drops NUL and control characters sent in an RFC 5987 filename*', async () => {
    const built = multipartBody({
      files: [
        {
          bytes: png,
          type: 'image/png',
          disposition:
            'form-data; name="file"; filename*=UTF-8\'\'..%2F..%2Fetc%2Fevil%00%0D%0A%1B%5B31m.png',
        },
      ],
    });
    const read = await readImage(built);
    expect(read.bytes.equals(png)).toBe(true);
    expect(read.hints.filename).toBe('evil[31m.png');
  });

  it('refuses a raw NUL inside a part header as invalid_multipart (busboy does)', async () => {
    const built = multipartFile(png, 'image/png', 'evil\u0000.png');
    const { error } = await failureOf(new Pieces([built.body]), built.contentType);
    expectAppError(error, 'invalid_multipart');
  });

  it('hands on the declared type as given, a hint whatever it claims', async () => {
    const svg = fixture('script.svg');
    const read = await readImage(multipartFile(svg, 'image/PNG', 'script.svg'));
    expect(read.bytes.equals(svg)).toBe(true);
    expect(read.hints.declaredType).toBe('image/png');
  });

  it('filenameHint keeps ordinary names, including non-ASCII ones, and caps the length', () => {
    expect(filenameHint('Été à Paris.jpg')).toBe('Été à Paris.jpg');
    expect(filenameHint(' \u0000\u0007 ')).toBeUndefined();
    expect(filenameHint(undefined)).toBeUndefined();
    expect(filenameHint(`${'😀'.repeat(300)}`)).toBe('😀'.repeat(255));
  });
});

describe('readSingleImagePart: bodies made by real clients', () => {
  it("reads Node's own FormData serialisation (new Response(formData))", async () => {
    const form = new FormData();
    form.append('title', 'from undici');
    form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), 'Été/../../photo.jpg');
    const built = await formDataBody(form);
    expect(built.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const whole = await readImage(built);
    expect(whole.bytes.equals(jpeg)).toBe(true);
    expect(whole.hints).toEqual({
      field: 'file',
      filename: 'photo.jpg',
      declaredType: 'image/jpeg',
    });
    expect(whole.fields).toEqual([{ name: 'title', value: 'from undici' }]);
    const pieces = await readImage(built, splitAt(built.body, [1, 50, 51, 200, 900, 1700]));
    expect(pieces.bytes.equals(jpeg)).toBe(true);
  });

  it('reads a UTF-8 filename as browsers and undici send it', async () => {
    const form = new FormData();
    form.append('image', new Blob([png], { type: 'image/png' }), 'фото 写真.png');
    const read = await readImage(await formDataBody(form));
    expect(read.bytes.equals(png)).toBe(true);
    expect(read.hints.filename).toBe('фото 写真.png');
  });
});

describe('readSingleImagePart: the form is wrong', () => {
  it('throws too_many_files from the chunks, after the first file’s bytes', async () => {
    const built = multipartBody({
      files: [
        { bytes: jpeg, type: 'image/jpeg' },
        { bytes: png, type: 'image/png' },
      ],
    });
    for (const pieces of [[built.body], oneBytePieces(built.body)]) {
      const { error, bytes, stage } = await failureOf(new Pieces(pieces), built.contentType);
      expectAppError(error, 'too_many_files');
      expect(stage).toBe('chunks');
      expect(bytes.equals(jpeg)).toBe(true);
    }
  });

  it('counts a second file under the other accepted name, or after text fields', async () => {
    const built = multipartBody({
      files: [
        { bytes: png, type: 'image/png' },
        { field: 'image', bytes: png, type: 'image/png' },
      ],
      fieldsAfter: { note: 'x' },
    });
    const { error, bytes } = await failureOf(new Pieces([built.body]), built.contentType);
    expectAppError(error, 'too_many_files');
    expect(bytes.equals(png)).toBe(true);
  });

  it('throws missing_file when the body ends cleanly without a file part', async () => {
    const built = multipartBody({ fields: { title: 'no file' } });
    const { error, stage } = await failureOf(new Pieces([built.body]), built.contentType);
    expectAppError(error, 'missing_file');
    expect(stage).toBe('header');
  });

  it('refuses a file part under another name at its header (unexpected_file_field)', async () => {
    const built = multipartBody({ files: [{ field: 'photo', bytes: jpeg }] });
    const { error, stage } = await failureOf(new Pieces([built.body]), built.contentType);
    expectAppError(error, 'unexpected_file_field');
    expect(stage).toBe('header');
  });

  it('throws too_many_fields past maxFields, and field_too_large past maxFieldBytes', async () => {
    const fields = Object.fromEntries(
      Array.from({ length: limits.maxFields + 1 }, (_, index) => [`f${index}`, 'v']),
    );
    const many = multipartBody({ fields, files: [{ bytes: png }] });
    expectAppError(
      (await failureOf(new Pieces([many.body]), many.contentType)).error,
      'too_many_fields',
    );

    const long = multipartBody({
      files: [{ bytes: png }],
      fieldsAfter: { note: 'v'.repeat(limits.maxFieldBytes + 1) },
    });
    const { error, bytes, stage } = await failureOf(new Pieces([long.body]), long.contentType);
    expectAppError(error, 'field_too_large');
    // After the file: the image's bytes went by, and its iterable still refused to end.
    expect(stage).toBe('chunks');
    expect(bytes.equals(png)).toBe(true);
  });

  it('stops at the parts limit among ten thousand tiny parts, reading little of the body', async () => {
    const boundary = 'tiny-parts';
    // Parts without a Content-Disposition: busboy skips them, but counts them as parts.
    const body = new Generated(
      10_000,
      () => Buffer.from(`--${boundary}\r\nX-Nothing: 1\r\n\r\n.\r\n`),
      Buffer.from(`--${boundary}--\r\n`),
    );
    const started = performance.now();
    const { error } = await failureOf(body, `multipart/form-data; boundary=${boundary}`, {
      ...limits,
      maxFields: 100_000,
    });
    expectAppError(error, 'too_many_parts');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(body.pulled).toBeLessThan(64 * 1024);
  });

  it('stops at the parts limit among ten thousand named text fields', async () => {
    const boundary = 'tiny-fields';
    const body = new Generated(10_000, (index) =>
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f${index}"\r\n\r\n.\r\n`),
    );
    const { error } = await failureOf(body, `multipart/form-data; boundary=${boundary}`, {
      ...limits,
      maxFields: 100_000,
    });
    expectAppError(error, 'too_many_parts');
    expect(body.pulled).toBeLessThan(64 * 1024);
  });

  it('throws payload_too_large as soon as the file crosses maxFileBytes', async () => {
    const imageLimits = { ...limits, maxFileBytes: 10_000 };
    const boundary = 'big-file';
    const body = new Generated(
      1_000,
      () => Buffer.alloc(1_000, 0x61),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    );
    body.unshift(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n`,
      ),
    );
    const { error, bytes, stage } = await failureOf(
      body,
      `multipart/form-data; boundary=${boundary}`,
      imageLimits,
    );
    expectAppError(error, 'payload_too_large');
    expect(stage).toBe('chunks');
    expect(bytes.length).toBeLessThanOrEqual(imageLimits.maxFileBytes);
    // The rest of the megabyte is never asked for (a stream buffers a little ahead).
    expect(body.pulled).toBeLessThan(200_000);
  });
});

describe('readSingleImagePart: the body is broken', () => {
  it.each([
    ['no boundary parameter', 'multipart/form-data'],
    ['an empty boundary', 'multipart/form-data; boundary=""'],
    ['a boundary of 71 characters', `multipart/form-data; boundary=${'b'.repeat(71)}`],
    ['two boundaries', 'multipart/form-data; boundary=a; boundary=b'],
    ['another media type', 'application/x-www-form-urlencoded'],
    ['an empty Content-Type', ''],
  ])('throws invalid_multipart for %s', async (_name, contentType) => {
    const built = multipartFile(png);
    const body = new Pieces([built.body]);
    const { error } = await failureOf(body, contentType);
    expectAppError(error, 'invalid_multipart');
    expect(body.pulled).toBe(0);
  });

  it('reads boundaries that are quoted, or in another case of parameter name', () => {
    expect(multipartBoundary('multipart/form-data; boundary="a b:c"')).toBe('a b:c');
    expect(multipartBoundary('Multipart/Form-Data;BOUNDARY=xyz ; charset=utf-8')).toBe('xyz');
  });

  it('throws invalid_multipart from the chunks when the body ends inside the file', async () => {
    const built = multipartFile(jpeg, 'image/jpeg');
    const cut = built.body.subarray(0, built.body.length - 200);
    const { error, stage } = await failureOf(new Pieces(splitAt(cut, [300])), built.contentType);
    expectAppError(error, 'invalid_multipart');
    expect(stage).toBe('chunks');
  });

  it('throws invalid_multipart when the body ends before the closing delimiter', async () => {
    const built = multipartFile(png);
    // Everything but the final "--\r\n": the file's bytes are all there, the form is not.
    const cut = built.body.subarray(0, built.body.length - 4);
    const { error, bytes, stage } = await failureOf(new Pieces([cut]), built.contentType);
    expectAppError(error, 'invalid_multipart');
    expect(stage).toBe('chunks');
    expect(bytes.equals(png)).toBe(true);
  });

  it('throws invalid_multipart when the body ends inside a part header or has no parts', async () => {
    const { contentType, body } = multipartFile(png);
    const header = body.subarray(0, body.indexOf('\r\n\r\n'));
    for (const cut of [header, body.subarray(0, 10), Buffer.from('preamble only\r\n')]) {
      const { error } = await failureOf(new Pieces([cut]), contentType);
      expectAppError(error, 'invalid_multipart');
    }
  });

  it('throws invalid_multipart quickly for a part header that never ends (1 MB of it)', async () => {
    const boundary = 'endless-header';
    const body = new Generated(
      1_024,
      () => Buffer.from('X-Padding-'.padEnd(1_024, 'a')),
      Buffer.from(`\r\n\r\n--${boundary}--\r\n`),
    );
    body.unshift(Buffer.from(`--${boundary}\r\n`));
    const { error } = await failureOf(body, `multipart/form-data; boundary=${boundary}`);
    expectAppError(error, 'invalid_multipart');
    expect((error as Error).message).toMatch(/header/);
    expect(body.pulled).toBeLessThan(128 * 1024);
  });

  it('passes on an error of the body stream itself, an AppError as it is', async () => {
    const built = multipartFile(jpeg, 'image/jpeg');
    const body = new Readable({ read() {} });
    body.push(built.body.subarray(0, 500));
    const reading = failureOf(body, built.contentType);
    setImmediate(() => body.destroy(new Error('socket hang up')));
    expectAppError((await reading).error, 'invalid_multipart');

    const limited = new Readable({ read() {} });
    limited.push(built.body.subarray(0, 500));
    const again = failureOf(limited, built.contentType);
    setImmediate(() => limited.destroy(new AppError('payload_too_large')));
    expectAppError((await again).error, 'payload_too_large');
  });
});

describe('readSingleImagePart: abort and clean-up', () => {
  it('rejects when the signal aborts mid-file, and leaves no listener behind', async () => {
    const built = multipartFile(fixture('large.jpg'), 'image/jpeg');
    const body = new Pieces(splitAt(built.body, [1_000, 100_000, 200_000, 300_000]));
    const listeners = (): number[] =>
      ['data', 'end', 'error', 'close', 'readable'].map((event) => body.listenerCount(event));
    const before = listeners();
    const controller = new AbortController();
    const reason = new Error('client closed the connection');
    const part = await readSingleImagePart(
      body,
      built.contentType,
      {
        ...limits,
        maxFileBytes: 2 * 1024 * 1024,
      },
      controller.signal,
    );
    const iterator = part.chunks[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    controller.abort(reason);
    await expect(
      (async () => {
        for (;;) if ((await iterator.next()).done === true) return;
      })(),
    ).rejects.toBe(reason);
    await expect(part.fields).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(listeners()).toEqual(before);
    expect(body.isPaused()).toBe(true);
    expect(body.destroyed).toBe(false);
  });

  it('rejects at once for a signal already aborted, without reading the body', async () => {
    const built = multipartFile(png);
    const body = new Pieces([built.body]);
    const reason = new Error('gone');
    const { error } = await failureOf(body, built.contentType, limits, AbortSignal.abort(reason));
    expect(error).toBe(reason);
    expect(body.pulled).toBe(0);
  });

  it('leaves no listener on the body or the signal after a clean read', async () => {
    const built = multipartFile(jpeg, 'image/jpeg');
    const body = new Pieces([built.body]);
    const controller = new AbortController();
    const part = await readSingleImagePart(body, built.contentType, limits, controller.signal);
    expect((await collect(part.chunks)).equals(jpeg)).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    for (const event of ['data', 'end', 'error', 'close'])
      expect(body.listenerCount(event)).toBe(0);
  });

  it('stops reading the body when the pipeline gives up on the chunks', async () => {
    const built = multipartFile(fixture('large.jpg'), 'image/jpeg');
    const pieces = Array.from({ length: 64 }, (_, index) => index * 16_384);
    const body = new Pieces(splitAt(built.body, pieces));
    const part = await readSingleImagePart(body, built.contentType, {
      ...limits,
      maxFileBytes: 2 * 1024 * 1024,
    });
    for await (const _chunk of part.chunks) break;
    await expect(part.fields).rejects.toThrow(/abandoned/);
    expect(body.listenerCount('data')).toBe(0);
    expect(body.pulled).toBeLessThan(200_000);
  });

  it('lets the pipeline cancel before reading a byte, detaching from the body', async () => {
    const built = multipartFile(fixture('large.jpg'), 'image/jpeg');
    const body = new Pieces(splitAt(built.body, [1_000, 50_000, 100_000]));
    const controller = new AbortController();
    const part = await readSingleImagePart(
      body,
      built.contentType,
      { ...limits, maxFileBytes: 2 * 1024 * 1024 },
      controller.signal,
    );
    const reason = new Error('refused on its hints');
    part.cancel(reason);
    await expect(part.fields).rejects.toBe(reason);
    await expect(collect(part.chunks)).rejects.toBe(reason);
    expect(body.listenerCount('data')).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('reads no further ahead than busboy buffers while the file is not read', async () => {
    const bytes = Buffer.alloc(4 * 1024 * 1024, 0x62);
    const built = multipartFile(bytes, 'image/png');
    const body = new Pieces(
      splitAt(
        built.body,
        Array.from({ length: 256 }, (_, i) => i * 16_384),
      ),
    );
    const part = await readSingleImagePart(body, built.contentType, {
      ...limits,
      maxFileBytes: bytes.length,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(body.pulled).toBeLessThan(512 * 1024);
    expect((await collect(part.chunks)).equals(bytes)).toBe(true);
  });
});

describe('readMultipart: several files (files[])', () => {
  const several: MultipartLimits = { ...limits, maxFiles: 3 };

  it('yields each file part in order, each with its own bytes, then ends', async () => {
    const files = [jpeg, png, fixture('anim.gif')];
    const built = multipartBody({
      fields: { album: 'a' },
      files: files.map((bytes, index) => ({ field: 'files[]', bytes, filename: `${index}.bin` })),
    });
    const form = readMultipart(new Pieces(oneBytePieces(built.body)), built.contentType, several, {
      fileFields: ['files[]'],
    });
    const read: Buffer[] = [];
    for await (const part of form) {
      expect(part.field).toBe('files[]');
      expect(part.filename).toBe(`${read.length}.bin`);
      read.push(await collect(part.chunks));
    }
    await form.ended;
    expect(read.map((bytes) => bytes.length)).toEqual(files.map((bytes) => bytes.length));
    expect(read.every((bytes, index) => bytes.equals(files[index]!))).toBe(true);
    expect(await form.fields).toEqual([{ name: 'album', value: 'a' }]);
  });

  it('throws too_many_files past maxFiles, and refuses to run ahead of an unread part', async () => {
    const built = multipartBody({
      files: Array.from({ length: 4 }, () => ({ field: 'files[]', bytes: png })),
    });
    const form = readMultipart(new Pieces([built.body]), built.contentType, several, {
      fileFields: ['files[]'],
    });
    const failure = (async () => {
      for await (const part of form) await collect(part.chunks);
    })();
    await expect(failure).rejects.toMatchObject({ code: 'too_many_files' });
    await expect(form.ended).rejects.toMatchObject({ code: 'too_many_files' });

    const two = multipartBody({
      files: Array.from({ length: 2 }, () => ({ field: 'files[]', bytes: png })),
    });
    const unread = readMultipart(new Pieces([two.body]), two.contentType, several, {
      fileFields: ['files[]'],
    });
    const parts = unread[Symbol.asyncIterator]();
    await parts.next();
    await expect(parts.next()).rejects.toThrow(/to their end/);
  });
});

describe('readSingleImagePart: any mangled body', () => {
  it('property: a cut, a changed byte or an inserted byte gives the image or an AppError, never a hang or a crash', async () => {
    const built = multipartBody({
      fields: { title: 'x' },
      files: [{ bytes: png, type: 'image/png' }],
      fieldsAfter: { after: 'y' },
    });
    const length = built.body.length;
    const mangle = fc.oneof(
      fc.record({ cut: fc.integer({ min: 0, max: length }) }),
      fc.record({
        at: fc.integer({ min: 0, max: length - 1 }),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        insert: fc.integer({ min: 0, max: length }),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(mangle, { minLength: 1, maxLength: 3 }),
        cutOffsets(length),
        async (changes, offsets) => {
          let body = Buffer.from(built.body);
          for (const change of changes) {
            if ('cut' in change) body = body.subarray(0, change.cut);
            else if ('at' in change) {
              if (change.at < body.length) body[change.at] = change.byte;
            } else {
              body = Buffer.concat([
                body.subarray(0, change.insert),
                Buffer.of(change.byte),
                body.subarray(change.insert),
              ]);
            }
          }
          try {
            const read = await readImage({ ...built, body }, splitAt(body, offsets));
            // A change inside the image's bytes is the pipeline's business, not the parser's.
            if (body.equals(built.body)) expect(read.bytes.equals(png)).toBe(true);
          } catch (error) {
            expect(error).toMatchObject({ code: expect.any(String), status: expect.any(Number) });
            expect([
              'invalid_multipart',
              'missing_file',
              'unexpected_file_field',
              'too_many_files',
              'too_many_parts',
              'too_many_fields',
              'field_too_large',
              'payload_too_large',
            ]).toContain((error as AppError).code);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('readSingleImagePart on a real request stream', () => {
  /** A server that reads the image from each request and answers its bytes' length or the error. */
  async function withServer(
    run: (port: number, outcomes: Promise<unknown>[]) => Promise<void>,
  ): Promise<void> {
    const serverLimits = { ...limits, maxFileBytes: 2 * 1024 * 1024 };
    const outcomes: Promise<unknown>[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const outcome = (async () => {
        const contentType = req.headers['content-type'] ?? '';
        const part = await readSingleImagePart(req, contentType, serverLimits);
        return collect(part.chunks);
      })();
      outcomes.push(outcome.catch((error: unknown) => error));
      outcome.then(
        (bytes) => res.writeHead(201).end(String(bytes.length)),
        (error: unknown) => {
          // What an HTTP layer would do after a failure: answer, then close the connection.
          res.writeHead((error as AppError).status, { Connection: 'close' });
          res.end((error as AppError).code);
        },
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await run((server.address() as AddressInfo).port, outcomes);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }

  it('answers the client after a failure found mid-body, the request left to the server', async () => {
    await withServer(async (port) => {
      const built = multipartBody({
        files: [
          { bytes: jpeg, type: 'image/jpeg' },
          { bytes: fixture('large.jpg'), type: 'image/jpeg' },
        ],
      });
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'content-type': built.contentType },
        body: built.body,
      }).catch((error: unknown) => error);
      // The server answered before reading the second file; depending on timing the client
      // sees that answer, or a reset if it was still writing. Either way nothing succeeded.
      if (response instanceof Response) {
        expect(response.status).toBe(400);
        expect(await response.text()).toBe('too_many_files');
      } else {
        expect(response).toBeInstanceOf(Error);
      }
    });
  });

  it('rejects, and never crashes, when the client goes away mid-upload', async () => {
    await withServer(async (port, outcomes) => {
      const built = multipartFile(fixture('large.jpg'), 'image/jpeg');
      const client = httpRequest({
        port,
        method: 'POST',
        headers: { 'content-type': built.contentType, 'content-length': built.body.length },
      });
      client.on('error', () => undefined);
      client.write(built.body.subarray(0, 300_000));
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.destroy();
      while (outcomes.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const error = await outcomes[0];
      expectAppError(error, 'invalid_multipart');
    });
  });
});
