import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isAppError, type ErrorCode } from '../../../src/errors.js';
import { Base64Decoder } from '../../../src/ingest/base64.js';
import { StreamingFingerprint, fingerprintOf } from '../../../src/ingest/fingerprint.js';
import { HeldImageBuffers } from '../../../src/ingest/held-image-buffers.js';
import { ImageBytes } from '../../../src/ingest/image-bytes.js';
import { JsonDataUriDecoder } from '../../../src/ingest/sources/json-data-uri.js';
import {
  cutOffsets,
  expectAppError,
  oneBytePieces,
  splitAt,
  thrownBy,
  wrapLines,
} from '../helpers.js';

const photo = readFileSync(new URL('../../fixtures/photo.jpg', import.meta.url));
const limits = { maxImageBytes: 10 * 1024 * 1024, maxJsonOverheadBytes: 64 * 1024 };
/** Slabs are given back after each decode, so most runs reuse a slab an earlier one wrote. */
const buffers = new HeldImageBuffers(1024 * 1024);
afterAll(() => buffers.close());

/** How a test drives the decoder: where it switches from holding to streaming, if at all. */
interface Drive {
  readonly initialCapacity: number | undefined;
  /** Switch to streaming after this many body chunks; undefined: hold to the end. */
  readonly streamAfterChunk: number | undefined;
}

/** Feeds the chunks; returns the decoded image as the caller of the decoder would see it. */
function decode(chunks: readonly Buffer[], drive: Drive, limitsUsed = limits): Buffer {
  const bytes = new ImageBytes(limitsUsed.maxImageBytes, buffers, drive.initialCapacity);
  const decoder = new JsonDataUriDecoder(bytes, limitsUsed.maxJsonOverheadBytes);
  try {
    const parts: Buffer[] = [];
    let streaming = false;
    chunks.forEach((chunk, index) => {
      decoder.write(chunk);
      if (streaming) parts.push(...bytes.takeChunks());
      if (!streaming && drive.streamAfterChunk === index) {
        // Copied: the held bytes must stay as they are while the decoder goes on.
        parts.push(Buffer.from(bytes.stopHolding()));
        streaming = true;
      }
    });
    decoder.end();
    if (streaming) parts.push(...bytes.takeChunks());
    else parts.push(bytes.heldImage());
    // A copy: the slab goes back to the pool below, for the next decode to write into.
    const image = Buffer.concat(parts);
    expect(bytes.bytes).toBe(image.length);
    return image;
  } finally {
    bytes.dispose(false);
  }
}

function errorOf(chunks: readonly Buffer[], drive: Drive): ErrorCode {
  const error = thrownBy(() => decode(chunks, drive));
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error.code;
}

const drives = fc.record({
  initialCapacity: fc.option(fc.integer({ min: 0, max: 4096 }), { nil: undefined }),
  streamAfterChunk: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
});

const bodyOf = (uri: string, escapeSlashes = false): Buffer => {
  const json = JSON.stringify({ name: 'x', data: uri, after: [1, { data: 'no' }] });
  return Buffer.from(escapeSlashes ? json.replaceAll('/', '\\/') : json);
};

describe('JsonDataUriDecoder', () => {
  it('decodes a real photo the same as JSON.parse + Buffer.from, held in one buffer', () => {
    const body = bodyOf(`data:image/jpeg;base64,${photo.toString('base64')}`);
    const capacity = JsonDataUriDecoder.capacityFor(body.length);
    const held = decode(splitAt(body, [1, 100, 4096, 65536]), {
      initialCapacity: capacity,
      streamAfterChunk: undefined,
    });
    expect(held.equals(photo)).toBe(true);
  });

  it('decodes any bytes, whatever the chunking, capacity and switch to streaming', () => {
    const input = fc
      .tuple(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('', '\n', '\r\n'),
        fc.boolean(),
        drives,
      )
      .map(([raw, newline, escapeSlashes, drive]) => {
        const image = Buffer.from(raw);
        const payload = wrapLines(image.toString('base64'), 76, newline);
        return { image, body: bodyOf(`data:image/png;base64,${payload}`, escapeSlashes), drive };
      })
      .chain((sample) => fc.tuple(fc.constant(sample), cutOffsets(sample.body.length)));
    fc.assert(
      fc.property(input, ([{ image, body, drive }, cuts]) => {
        expect(decode(splitAt(body, cuts), drive)).toEqual(image);
      }),
      { numRuns: 500 },
    );
  });

  it('reports a raw control character in the payload as invalid JSON, at any split', () => {
    // The payload is only checked for TAB, LF, FF and CR by the scanner; the base64 decoder
    // refuses the others, and the scanner must still name the JSON error.
    const controls = ['\u0001', '\u0000', '\u001f', '\u000b', '\n', '\t', '\r', '\f'];
    // Also inside a percent escape, which the base64 decoder holds across chunks.
    const payloads = controls.flatMap((control) => [`QUJD${control}QUJD`, `QUJD%${control}QUJD`]);
    for (const payload of payloads) {
      const body = Buffer.from(`{"data":"data:image/png;base64,${payload}"}`);
      for (let cut = 0; cut <= body.length; cut += 1) {
        for (const drive of [
          { initialCapacity: undefined, streamAfterChunk: undefined },
          { initialCapacity: 1, streamAfterChunk: 0 },
        ]) {
          expect([JSON.stringify(payload), cut, errorOf(splitAt(body, [cut]), drive)]).toEqual([
            JSON.stringify(payload),
            cut,
            'invalid_json',
          ]);
        }
      }
    }
  });

  it('reports an escaped control character in the payload as bad base64', () => {
    const body = Buffer.from('{"data":"data:image/png;base64,QUJD\\u0001QUJD"}');
    expect(errorOf(oneBytePieces(body), { initialCapacity: 0, streamAfterChunk: undefined })).toBe(
      'invalid_base64',
    );
  });

  it('refuses an image over the limit while holding and while streaming', () => {
    const body = bodyOf(`data:image/jpeg;base64,${photo.toString('base64')}`);
    const small = { ...limits, maxImageBytes: photo.length - 1 };
    for (const streamAfterChunk of [undefined, 0]) {
      expectAppError(
        thrownBy(() =>
          decode(splitAt(body, [5000]), { initialCapacity: undefined, streamAfterChunk }, small),
        ),
        'payload_too_large',
      );
    }
    expect(
      decode(
        [body],
        { initialCapacity: undefined, streamAfterChunk: undefined },
        { ...limits, maxImageBytes: photo.length },
      ),
    ).toEqual(photo);
  });
});

describe('JsonDataUriDecoder at every split position', () => {
  const image = photo.subarray(0, 700);
  const payload = image.toString('base64');
  const valid: ReadonlyArray<readonly [string, Buffer]> = [
    ['plain', bodyOf(`data:image/jpeg;base64,${payload}`)],
    ['Android line breaks', bodyOf(`data:image/jpeg;base64,${wrapLines(payload, 76, '\n')}`)],
    ['"\\/" escapes (PHP)', bodyOf(`data:image/jpg;base64,${payload}`, true)],
    ['no padding', bodyOf(`data:image/jpeg;base64,${payload.replace(/=+$/, '')}`)],
    [
      'a \\u escape, and a "data" member nested before the real one',
      Buffer.from(
        '{"a":{"data":1},"data":"data:image/jpeg;base64,' +
          payload.slice(0, 8) +
          '\\u00' +
          payload.charCodeAt(8).toString(16) +
          payload.slice(9) +
          '"}',
      ),
    ],
  ];

  it.each(valid)('%s: the same bytes as JSON.parse + Buffer.from, cut anywhere', (_, body) => {
    const { data } = JSON.parse(body.toString()) as { data: string };
    const expected = Buffer.from(data.slice(data.indexOf(',') + 1), 'base64');
    expect(expected.equals(image)).toBe(true);
    for (let cut = 0; cut <= body.length; cut += 1) {
      for (const drive of [
        { initialCapacity: undefined, streamAfterChunk: undefined },
        {
          initialCapacity: JsonDataUriDecoder.capacityFor(body.length),
          streamAfterChunk: undefined,
        },
        { initialCapacity: 16, streamAfterChunk: 0 },
      ]) {
        const decoded = decode(splitAt(body, [cut, cut + 3]), drive);
        if (!decoded.equals(expected)) throw new Error(`differs when cut at ${cut}`);
      }
    }
  });

  it('refuses a corrupted byte at any position with one of its own errors, never a crash', () => {
    const body = valid[1]![1];
    const allowed: ErrorCode[] = [
      'invalid_json',
      'missing_data',
      'invalid_data_uri',
      'invalid_base64',
      'payload_too_large',
    ];
    for (let position = 0; position < body.length; position += 1) {
      for (const replacement of [0x00, 0x22, 0x5c, 0x7d, 0x25, 0x3d]) {
        const corrupted = Buffer.from(body);
        corrupted[position] = replacement;
        let outcome: unknown;
        try {
          decode(splitAt(corrupted, [position, position + 1]), {
            initialCapacity: undefined,
            streamAfterChunk: 0,
          });
          continue; // Some replacements still leave a valid body.
        } catch (error) {
          outcome = error;
        }
        if (!isAppError(outcome) || !allowed.includes(outcome.code)) {
          throw new Error(`byte ${replacement} at ${position}: ${String(outcome)}`);
        }
      }
    }
  });
});

describe('Base64Decoder.writeInto', () => {
  it('refuses a target without room instead of dropping bytes', () => {
    const decoder = new Base64Decoder();
    expect(() => decoder.writeInto(Buffer.from('QUJDRA=='), Buffer.alloc(6), 2)).toThrow(
      RangeError,
    );
  });
});

describe('fingerprints', () => {
  it('agree between the whole image and its chunks, for a view at any offset', async () => {
    // Decoded images are views into a larger buffer: the hash must cover the view alone.
    const view = Buffer.alloc(photo.length + 10, 0xff).subarray(3, photo.length + 3);
    photo.copy(view);
    const reference = createHash('sha256').update(photo).digest('hex');
    const streamed = new StreamingFingerprint(true);
    for (const piece of splitAt(photo, [1, 777, 4096])) streamed.update(piece);
    for (const image of [photo, view]) {
      const whole = await fingerprintOf(image, true, buffers);
      expect(whole).toEqual({ bytes: photo.length, sha256: reference, md5: expect.any(String) });
      expect(streamed.digest()).toEqual(whole);
      expect((await fingerprintOf(image, false, buffers)).md5).toBeUndefined();
    }
  });
});
