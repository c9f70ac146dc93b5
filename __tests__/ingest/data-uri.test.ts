import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { isAppError } from '../../src/errors.js';
import {
  DataUriDecoder,
  decodeDataUri,
  maxDataUriHeaderBytes,
  parseDataUriHeader,
} from '../../src/ingest/data-uri.js';
import {
  cutOffsets,
  expectAppError,
  expectOnlyAppErrors,
  oneBytePieces,
  splitAt,
  thrownBy,
  wrapLines,
} from './helpers.js';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const photoJpeg = fixture('photo.jpg');
const photoPng = fixture('photo.png');

function decodeInChunks(chunks: readonly Buffer[]): {
  declaredType: string | undefined;
  bytes: Buffer;
} {
  const decoder = new DataUriDecoder();
  const parts = chunks.map((chunk) => decoder.write(chunk));
  parts.push(decoder.end());
  return { declaredType: decoder.header!.declaredType, bytes: Buffer.concat(parts) };
}

type Outcome = { declaredType: string | undefined; bytes: string } | { error: string };

function outcomeOf(chunks: readonly Buffer[]): Outcome {
  try {
    const { declaredType, bytes } = decodeInChunks(chunks);
    return { declaredType, bytes: bytes.toString('hex') };
  } catch (error) {
    if (isAppError(error)) return { error: error.code };
    throw error;
  }
}

/** The platform's own WHATWG data: URL processor (undici's fetch); undefined when it refuses. */
async function fetchDataUri(uri: string): Promise<Buffer | undefined> {
  try {
    return Buffer.from(await (await fetch(uri)).arrayBuffer());
  } catch {
    return undefined;
  }
}

/** [what, data URI, declared type reported, payload as canonical base64 for Buffer.from] */
const validUris: ReadonlyArray<readonly [string, string, string | undefined, string]> = [
  ['plain', 'data:image/png;base64,QUJD', 'image/png', 'QUJD'],
  ['upper-case scheme, type and marker', 'DATA:IMAGE/PNG;BASE64,QUJD', 'image/png', 'QUJD'],
  ['charset parameter', 'data:image/png;charset=utf-8;base64,QUJD', 'image/png', 'QUJD'],
  ['name parameter', 'data:image/png;name=photo.png;base64,QUJD', 'image/png', 'QUJD'],
  ['empty media type', 'data:;base64,QUJD', undefined, 'QUJD'],
  ['unparseable media type', 'data:not a type;base64,QUJD', undefined, 'QUJD'],
  ['space before ";base64"', 'data:image/png ;base64,QUJD', 'image/png', 'QUJD'],
  ['space after ";base64"', 'data:image/png;base64 ,QUJD', 'image/png', 'QUJD'],
  ['leading spaces', '   data:image/png;base64,QUJD', 'image/png', 'QUJD'],
  ['leading newline and tab', '\n\tdata:image/png;base64,QUJD', 'image/png', 'QUJD'],
  ['newline inside the scheme', 'da\nta:image/png;base64,QUJD', 'image/png', 'QUJD'],
  [
    'mislabelled image/jpg (a PNG inside)',
    `data:image/jpg;base64,${photoPng.toString('base64')}`,
    'image/jpg',
    photoPng.toString('base64'),
  ],
  [
    'application/octet-stream',
    `data:application/octet-stream;base64,${photoJpeg.toString('base64')}`,
    'application/octet-stream',
    photoJpeg.toString('base64'),
  ],
  ['svg type reported as declared', 'data:image/svg+xml;base64,QUJD', 'image/svg+xml', 'QUJD'],
  [
    'JPEG wrapped with LF every 76 characters (Android Base64.DEFAULT)',
    `data:image/jpeg;base64,${wrapLines(photoJpeg.toString('base64'), 76, '\n')}\n`,
    'image/jpeg',
    photoJpeg.toString('base64'),
  ],
  [
    'JPEG wrapped with CRLF every 76 characters (MIME)',
    `data:image/jpeg;base64,${wrapLines(photoJpeg.toString('base64'), 76, '\r\n')}\r\n`,
    'image/jpeg',
    photoJpeg.toString('base64'),
  ],
  ['spaces in the payload', 'data:image/png;base64,QU JD ', 'image/png', 'QUJD'],
  ['missing padding (1)', 'data:image/png;base64,QUI', 'image/png', 'QUI='],
  ['missing padding (2)', 'data:image/png;base64,QQ', 'image/png', 'QQ=='],
  ['explicit padding', 'data:image/png;base64,QQ==', 'image/png', 'QQ=='],
  ['%2B and %2F', 'data:image/png;base64,AAEC%2F%2B7%2F', 'image/png', 'AAEC/+7/'],
  ['%3D padding', 'data:image/png;base64,QQ%3D%3D', 'image/png', 'QQ=='],
  ['a line break inside %2B', 'data:image/png;base64,AAEC%2F%2\r\nB7%2F', 'image/png', 'AAEC/+7/'],
  ['empty payload', 'data:image/png;base64,', 'image/png', ''],
];

/** [what, text, code] */
const invalidUris: ReadonlyArray<readonly [string, string, 'invalid_data_uri' | 'invalid_base64']> =
  [
    ['not a data URI', 'http://example.com/photo.png', 'invalid_data_uri'],
    ['javascript: URL', 'javascript:alert(1)', 'invalid_data_uri'],
    ['empty string', '', 'invalid_data_uri'],
    ['whitespace only', '  \n', 'invalid_data_uri'],
    ['scheme only', 'data:', 'invalid_data_uri'],
    ['"dat:"', 'dat:image/png;base64,QUJD', 'invalid_data_uri'],
    ['not base64', 'data:image/png,abc', 'invalid_data_uri'],
    ['";base64" not last', 'data:image/png;base64;charset=utf-8,QUJD', 'invalid_data_uri'],
    ['"base64" without ";"', 'data:base64,QUJD', 'invalid_data_uri'],
    ['no comma', 'data:image/png;base64QUJD', 'invalid_data_uri'],
    ['no comma, marker only', 'data:image/png;base64', 'invalid_data_uri'],
    [
      'header longer than the limit',
      `data:image/png;${'name=x;'.repeat(200)}base64,QUJD`,
      'invalid_data_uri',
    ],
    ['padding after 3 characters', 'data:image/png;base64,QQ=', 'invalid_base64'],
    ['too much padding', 'data:image/png;base64,Q===', 'invalid_base64'],
    ['data after "="', 'data:image/png;base64,QQ==QUJD', 'invalid_base64'],
    ['"!"', 'data:image/png;base64,QU!D', 'invalid_base64'],
    ['"-"', 'data:image/png;base64,QU-D', 'invalid_base64'],
    ['"_"', 'data:image/png;base64,QU_D', 'invalid_base64'],
    ['non-ASCII', 'data:image/png;base64,QUJDé', 'invalid_base64'],
    ['bad percent escape', 'data:image/png;base64,QU%ZZ', 'invalid_base64'],
    ['"%" at the end', 'data:image/png;base64,QUJD%', 'invalid_base64'],
    ['lone last character', 'data:image/png;base64,QUJDQ', 'invalid_base64'],
    // Browsers drop a fragment; a client that sends one has built the payload wrongly.
    ['fragment', 'data:image/png;base64,QUJD#x', 'invalid_base64'],
  ];

describe('decodeDataUri: real-world variants', () => {
  it.each(validUris)('decodes %s', async (_what, uri, declaredType, canonical) => {
    const expected = Buffer.from(canonical, 'base64');
    const decoded = decodeDataUri(uri);
    expect(decoded.header.declaredType).toBe(declaredType);
    expect(decoded.bytes).toEqual(expected);
    expect(decodeInChunks(oneBytePieces(Buffer.from(uri))).bytes).toEqual(expected);
    // The platform's data: URL processor reads the same bytes.
    expect(await fetchDataUri(uri)).toEqual(expected);
  });

  it.each(invalidUris)('rejects %s', (_what, uri, code) => {
    expectAppError(
      thrownBy(() => decodeDataUri(uri)),
      code,
    );
    expectAppError(
      thrownBy(() => decodeInChunks(oneBytePieces(Buffer.from(uri)))),
      code,
    );
  });

  it('gives the same result for every two-chunk split of every variant', () => {
    for (const uri of [...validUris, ...invalidUris].map((row) => Buffer.from(row[1]))) {
      const whole = outcomeOf([uri]);
      for (let cut = 0; cut <= uri.length; cut += 1) {
        expect(outcomeOf(splitAt(uri, [cut]))).toEqual(whole);
      }
    }
  });

  it('accepts a header of exactly the limit and rejects one byte more', () => {
    const header = (length: number): string =>
      'data:image/png;' + 'x'.repeat(length - 'data:image/png;;base64'.length) + ';base64';
    expect(header(maxDataUriHeaderBytes)).toHaveLength(maxDataUriHeaderBytes);
    expect(decodeDataUri(`${header(maxDataUriHeaderBytes)},QUJD`).bytes.toString()).toBe('ABC');
    expectAppError(
      thrownBy(() => decodeDataUri(`${header(maxDataUriHeaderBytes + 1)},QUJD`)),
      'invalid_data_uri',
    );
  });

  it('gives up on a header without "," after the limit, without waiting for the end', () => {
    const decoder = new DataUriDecoder();
    const endless = Buffer.from('data:image/png;base64' + 'A'.repeat(10_000));
    let consumed = 0;
    const error = thrownBy(() => {
      for (const piece of oneBytePieces(endless)) {
        consumed += 1;
        decoder.write(piece);
      }
    });
    expectAppError(error, 'invalid_data_uri');
    expect(consumed).toBe(maxDataUriHeaderBytes + 1);
  });

  it('fails on a non-data URI as soon as the scheme is known', () => {
    for (const text of ['http://example.com/' + 'a'.repeat(5000), '  \n https://x']) {
      const decoder = new DataUriDecoder();
      const bytes = Buffer.from(text);
      let consumed = 0;
      const error = thrownBy(() => {
        for (const piece of oneBytePieces(bytes)) {
          consumed += 1;
          decoder.write(piece);
        }
      });
      expectAppError(error, 'invalid_data_uri');
      expect(consumed).toBeLessThanOrEqual(text.indexOf('h') + 5);
    }
  });

  it('reports the header as soon as the "," is read', () => {
    const decoder = new DataUriDecoder();
    decoder.write(Buffer.from('data:image/webp;base'));
    expect(decoder.header).toBeUndefined();
    expect(decoder.write(Buffer.from('64,QUJDRA')).toString()).toBe('ABC');
    expect(decoder.header).toEqual({ declaredType: 'image/webp' });
    expect(decoder.end().toString()).toBe('D');
  });

  it('parses headers on their own', () => {
    expect(parseDataUriHeader('data:Image/PNG;Charset=UTF-8;BASE64')).toEqual({
      declaredType: 'image/png',
    });
    expectAppError(
      thrownBy(() => parseDataUriHeader('data:image/png')),
      'invalid_data_uri',
    );
  });
});

const headers = [
  'data:image/png;base64,',
  'DATA:IMAGE/PNG;BASE64,',
  'data:;base64,',
  'data:image/png;charset=utf-8;base64,',
  'data:image/jpg;name=photo.png;base64,',
  ' data:application/octet-stream;base64,',
  'data:image/png ;base64,',
];

describe('DataUriDecoder: properties', () => {
  it('decodes any bytes under any header, whatever the chunking', () => {
    const input = fc
      .tuple(
        fc.constantFrom(...headers),
        fc.uint8Array({ maxLength: 200 }),
        fc.boolean(),
        fc.constantFrom('', '\n', '\r\n', ' '),
      )
      .map(([header, raw, unpadded, newline]) => {
        const bytes = Buffer.from(raw);
        let payload = bytes.toString('base64').replaceAll('+', '%2B');
        if (unpadded) payload = payload.replace(/=+$/, '');
        if (newline !== '') payload = wrapLines(payload, 76, newline);
        return { bytes, uri: Buffer.from(header + payload) };
      })
      .chain((sample) => fc.tuple(fc.constant(sample), cutOffsets(sample.uri.length)));
    fc.assert(
      fc.property(input, ([{ bytes, uri }, cuts]) => {
        expect(decodeInChunks(splitAt(uri, cuts)).bytes).toEqual(bytes);
        expect(decodeInChunks(oneBytePieces(uri)).bytes).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts exactly what the platform data: URL processor accepts, with the same bytes', async () => {
    // Printable ASCII and whitespace, without "#" (browsers cut a fragment off, we refuse it).
    const payloadCharacter = fc.oneof(
      fc.constantFrom(...'ABCQUJDgw09+/=%2B3D \n\r\t'.split('')),
      fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    );
    const uri = fc
      .tuple(fc.constantFrom(...headers), fc.array(payloadCharacter, { maxLength: 30 }))
      .filter(([, payload]) => !payload.includes('#'))
      .map(([header, payload]) => header + payload.join(''));
    await fc.assert(
      fc.asyncProperty(uri, async (text) => {
        const ours = outcomeOf([Buffer.from(text)]);
        const platform = await fetchDataUri(text);
        if (platform === undefined) expect(ours).toEqual({ error: 'invalid_base64' });
        else expect(ours).toMatchObject({ bytes: platform.toString('hex') });
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but invalid_data_uri / invalid_base64 on garbage, whatever the chunking', () => {
    const garbage = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }).map((text) => Buffer.from(text)),
      fc
        .tuple(
          fc.constantFrom('data:', 'DATA:', ' data:', 'data:;base64,', 'data:image/png;base64,'),
          fc.string({ unit: 'binary-ascii', maxLength: 60 }),
        )
        .map(([head, tail]) => Buffer.from(head + tail)),
      fc.uint8Array({ maxLength: 60 }).map((raw) => Buffer.from(raw)),
    );
    fc.assert(
      fc.property(garbage, cutOffsets(80), (text, cuts) => {
        expectOnlyAppErrors(() => decodeInChunks([text]), ['invalid_data_uri', 'invalid_base64']);
        expect(outcomeOf(splitAt(text, cuts))).toEqual(outcomeOf([text]));
      }),
      { numRuns: 1000 },
    );
  });
});
