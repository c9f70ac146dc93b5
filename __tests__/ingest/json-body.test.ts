import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { AppError, isAppError, type ErrorCode } from '../../src/errors.js';
import { JsonDataScanner } from '../../src/ingest/json-body.js';
import {
  cutOffsets,
  expectAppError,
  oneBytePieces,
  splitAt,
  thrownBy,
  wrapLines,
} from './helpers.js';

const photo = readFileSync(new URL('../fixtures/photo.jpg', import.meta.url));
const photoBase64 = photo.toString('base64');
const shortUri = 'data:image/png;base64,iVBORw0KGgo+/A==';
const androidUri = `data:image/jpeg;base64,${wrapLines(photoBase64, 76, '\n')}\n`;
const mimeUri = `data:image/jpeg;base64,${wrapLines(photoBase64, 76, '\r\n')}\r\n`;

const generousSkeleton = 64 * 1024;

interface Scanned {
  /** The data string's bytes, as the sink received them, in hex. */
  readonly data: string;
  readonly others: Record<string, unknown>;
}

/** Feeds the chunks to a scanner, checking the sink contract on the way. */
function scan(chunks: readonly Buffer[], maxSkeletonBytes = generousSkeleton): Scanned {
  const received: Buffer[] = [];
  let ended = 0;
  const scanner = new JsonDataScanner(
    {
      data(chunk) {
        if (ended > 0) throw new Error('data() after dataEnd()');
        // Only valid during the call: copy it.
        received.push(Buffer.from(chunk));
      },
      dataEnd() {
        ended += 1;
      },
    },
    maxSkeletonBytes,
  );
  for (const chunk of chunks) scanner.write(chunk);
  const others = scanner.end();
  expect(ended).toBe(1);
  return { data: Buffer.concat(received).toString('hex'), others };
}

type Outcome = Scanned | { error: ErrorCode };

function outcomeOf(chunks: readonly Buffer[], maxSkeletonBytes = generousSkeleton): Outcome {
  try {
    return scan(chunks, maxSkeletonBytes);
  } catch (error) {
    if (isAppError(error)) return { error: error.code };
    throw error;
  }
}

/** Stands for the data of a body whose data string is not all ASCII. */
const notAscii = 'not ASCII';

/**
 * The bytes the scanner must hand over for a data string. Only ASCII is predictable from
 * the parsed string: non-ASCII depends on whether the body escaped it (see the 0x80 test).
 */
function asciiBytes(text: string): string {
  if (!/^\p{ASCII}*$/u.test(text)) return notAscii;
  return Buffer.from(text, 'latin1').toString('hex');
}

/** The reference: JSON.parse, then "data" taken out of the object. */
function expectedFrom(body: string | Buffer): Scanned {
  const parsed = JSON.parse(body.toString()) as Record<string, unknown>;
  const { data, ...others } = parsed;
  if (typeof data !== 'string') throw new Error('the body has no string "data"');
  return { data: asciiBytes(data), others };
}

/**
 * What the scanner must do with any body whose data string is ASCII: JSON.parse decides
 * whether it is JSON; a JSON body without a top-level string "data" is missing_data.
 */
function referenceOutcome(body: Buffer): Outcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { error: 'invalid_json' };
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    typeof (parsed as { data?: unknown }).data !== 'string'
  ) {
    return { error: 'missing_data' };
  }
  return expectedFrom(body);
}

const around = (uri: string): string =>
  `{"meta":{"data":"nested","list":[1,"}",{"data":[]},"]"],"q":"\\"data\\": \\"x\\""},` +
  `"note":"braces { [ and \\"quotes\\" and \\\\ and data",` +
  `"data":${JSON.stringify(uri)},` +
  `"after":[{"data":"x"},"]",null,true,false,-1.5e3,{"a":{"b":["data",{}]}}],"data2":"data","":""}`;

/** [what, body] of valid bodies with a string "data" member. */
const validBodies: ReadonlyArray<readonly [string, string]> = [
  ['minimal', JSON.stringify({ data: shortUri })],
  ['"\\n" every 76 characters (Android)', JSON.stringify({ data: androidUri })],
  ['"\\r\\n" every 76 characters (MIME)', JSON.stringify({ data: mimeUri })],
  [
    '"\\/" everywhere (PHP json_encode)',
    JSON.stringify({ data: androidUri }).replaceAll('/', '\\/'),
  ],
  [
    '"\\u" escapes, both cases of hex',
    '{"data":"data:image\\u002Fpng;base64,\\u0041\\u0042\\u002b\\u002f\\u003D\\u003d"}',
  ],
  ['every short escape', '{"data":"\\"\\\\\\/\\b\\f\\n\\r\\t"}'],
  [
    'every ASCII code unit, escaped by JSON.stringify',
    JSON.stringify({
      data: String.fromCharCode(...Array.from({ length: 128 }, (_, code) => code)),
    }),
  ],
  ['other members before and after, with nested "data" and quotes and braces', around(shortUri)],
  ['the same around a long payload', around(androidUri)],
  ['a key written "d\\u0061ta"', `{"d\\u0061ta":${JSON.stringify(shortUri)},"x":1}`],
  [
    'whitespace everywhere',
    `\n {\r\n\t"data" \n:\t ${JSON.stringify(shortUri)} \r\n, "n" : [ 1 , 2 ] , "o" : { } }\n `,
  ],
  [
    'non-ASCII in other members',
    `{"名前":"写真 ✓","data":${JSON.stringify(shortUri)},"emoji":"\\ud83d\\ude00 😀"}`,
  ],
  ['an empty data string', '{"data":""}'],
  ['backslashes at the end of the previous string', `{"path":"C:\\\\dir\\\\","data":"QUJD"}`],
  [
    'keys that are almost "data"',
    '{"Data":"x","data ":"y","dat":"z","datas":"w","data":"QUJD","atad":0}',
  ],
  ['a data string that looks like JSON', JSON.stringify({ data: 'QUJD","data":"x"},{"data":"y' })],
  ['data as the only member of a pretty-printed body', JSON.stringify({ data: shortUri }, null, 2)],
];

/** [what, body, code] of bodies that must be refused. */
const invalidBodies: ReadonlyArray<readonly [string, string, ErrorCode]> = [
  ['trailing garbage', '{"data":"QUJD"}x', 'invalid_json'],
  ['a second object', '{"data":"QUJD"}{}', 'invalid_json'],
  ['an extra closing brace', '{"data":"QUJD"}}', 'invalid_json'],
  ['a duplicate data member', '{"data":"QUJD","data":"QUJD"}', 'invalid_json'],
  ['a duplicate data member, number first', '{"data":1,"data":"QUJD"}', 'invalid_json'],
  ['a duplicate data member, string first', '{"data":"QUJD","data":1}', 'invalid_json'],
  [
    'a duplicate data member, spelled with an escape',
    '{"data":"QUJD","d\\u0061ta":"QUJD"}',
    'invalid_json',
  ],
  ['data is a number', '{"data":1}', 'missing_data'],
  ['data is null', '{"data":null}', 'missing_data'],
  ['data is true', '{"x":"y","data":true}', 'missing_data'],
  ['data is an object', '{"data":{"data":"QUJD"}}', 'missing_data'],
  ['data is an array', '{"data":["QUJD"]}', 'missing_data'],
  ['no data member', '{"image":"data:image/png;base64,QUJD"}', 'missing_data'],
  ['an empty object', '{}', 'missing_data'],
  ['data only in a nested object', '{"a":{"data":"QUJD"}}', 'missing_data'],
  ['a root array', '["data:image/png;base64,QUJD"]', 'missing_data'],
  ['a root array of objects', '[{"data":"QUJD"}]', 'missing_data'],
  ['a root string', '"data"', 'missing_data'],
  ['a root number', '42', 'missing_data'],
  ['a root null', 'null', 'missing_data'],
  ['an unescaped control character in data', '{"data":"QU\u0001JD"}', 'invalid_json'],
  ['an unescaped NUL in data', '{"data":"QU\u0000JD"}', 'invalid_json'],
  ['a raw newline in data', '{"data":"QUJD\nQUJD"}', 'invalid_json'],
  ['a raw CRLF in data', '{"data":"QUJD\r\nQUJD"}', 'invalid_json'],
  ['a raw tab in data', '{"data":"QU\tJD"}', 'invalid_json'],
  ['a raw newline in another string', '{"a":"x\ny","data":"QUJD"}', 'invalid_json'],
  ['the escape "\\x"', '{"data":"QU\\x41JD"}', 'invalid_json'],
  ['the escape "\\u12G4"', '{"data":"QU\\u12G4JD"}', 'invalid_json'],
  ['a short "\\u" escape', '{"data":"QU\\u12"}', 'invalid_json'],
  ['the escape "\\U0041"', '{"data":"\\U0041"}', 'invalid_json'],
  ['the escape "\\\'"', `{"data":"\\'"}`, 'invalid_json'],
  ['a bad escape in a key', '{"d\\x":1,"data":"QUJD"}', 'invalid_json'],
  ['a bad escape in another value', '{"a":"\\x","data":"QUJD"}', 'invalid_json'],
  ['a byte order mark', '\ufeff{"data":"QUJD"}', 'invalid_json'],
  ['an empty body', '', 'invalid_json'],
  ['whitespace only', ' \r\n\t', 'invalid_json'],
  ['a missing colon', '{"data" "QUJD"}', 'invalid_json'],
  ['a double colon', '{"data"::"QUJD"}', 'invalid_json'],
  ['a second value after data', '{"data":"QUJD":"QUJD"}', 'invalid_json'],
  ['a second value after data, spaced', '{"data" : "QUJD" : "x", "y": 1}', 'invalid_json'],
  ['single quotes', "{'data':'QUJD'}", 'invalid_json'],
  ['an unquoted key', '{data:"QUJD"}', 'invalid_json'],
  ['a trailing comma', '{"data":"QUJD",}', 'invalid_json'],
  ['a leading comma', '{,"data":"QUJD"}', 'invalid_json'],
  ['an unterminated data string', '{"data":"QUJD', 'invalid_json'],
  ['an unterminated escape', '{"data":"QUJD\\', 'invalid_json'],
  ['an unterminated object', '{"data":"QUJD"', 'invalid_json'],
  ['an unterminated key', '{"da', 'invalid_json'],
  ['a comment', '{"data":"QUJD"/* x */}', 'invalid_json'],
  ['NaN', '{"data":"QUJD","n":NaN}', 'invalid_json'],
  ['a string value where a key belongs', '{"a":"b" "data":"QUJD"}', 'invalid_json'],
];

describe('JsonDataScanner: valid bodies', () => {
  it.each(validBodies)('streams the data of %s, whole and in 1-byte chunks', (_what, text) => {
    const body = Buffer.from(text);
    const expected = expectedFrom(text);
    expect(scan([body])).toEqual(expected);
    expect(scan(oneBytePieces(body))).toEqual(expected);
  });

  it.each(validBodies)('streams the data of %s split at every position', (_what, text) => {
    const body = Buffer.from(text);
    const expected = expectedFrom(text);
    for (let cut = 0; cut <= body.length; cut += 1) {
      expect(scan(splitAt(body, [cut]))).toEqual(expected);
    }
  });

  it('streams the same data whatever the chunking (random multi-way splits)', () => {
    const sample = fc
      .constantFrom(...validBodies.map(([, text]) => Buffer.from(text)))
      .chain((body) => fc.tuple(fc.constant(body), cutOffsets(body.length)));
    fc.assert(
      fc.property(sample, ([body, cuts]) => {
        expect(scan(splitAt(body, cuts))).toEqual(expectedFrom(body));
      }),
      { numRuns: 300 },
    );
  });

  it('hands over escaped non-ASCII characters as one 0x80 placeholder per UTF-16 unit', () => {
    expect(scan([Buffer.from('{"data":"A\\u00e9B\\ud83d\\ude00\\u0080"}')]).data).toBe(
      '41' + '80' + '42' + '8080' + '80',
    );
    // Unescaped UTF-8 passes through untouched; the base64 decoder refuses both.
    expect(scan([Buffer.from('{"data":"AéB"}')]).data).toBe(Buffer.from('AéB').toString('hex'));
  });

  it('passes slices of the input when the data has no escapes (no copy)', () => {
    const text = `{"data":${JSON.stringify(shortUri)}}`;
    // Its own memory, not a slice of the shared pool a copy could also come from.
    const body = Buffer.alloc(text.length);
    body.write(text);
    const seen: Buffer[] = [];
    const scanner = new JsonDataScanner({ data: (chunk) => seen.push(chunk), dataEnd() {} }, 100);
    scanner.write(body);
    scanner.end();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.buffer).toBe(body.buffer);
    expect(seen[0]!.byteOffset).toBe(body.byteOffset + '{"data":"'.length);
    expect(seen[0]!.toString()).toBe(shortUri);
  });

  it('does not count the data string against the skeleton limit, and counts everything else', () => {
    const body = Buffer.from(JSON.stringify({ data: androidUri }));
    const skeleton = '{"data":""}';
    expect(scan(oneBytePieces(body), skeleton.length).data).toBe(asciiBytes(androidUri));
    expect(outcomeOf([body], skeleton.length - 1)).toEqual({ error: 'payload_too_large' });
    const bigMember = Buffer.from(JSON.stringify({ note: 'x'.repeat(200), data: 'QUJD' }));
    expect(outcomeOf([bigMember], 200)).toEqual({ error: 'payload_too_large' });
    expect(outcomeOf([bigMember], bigMember.length - 4)).toMatchObject({ data: '51554a44' });
  });
});

describe('JsonDataScanner: malformed bodies', () => {
  it.each(invalidBodies)('refuses %s, however it is split', (what, text, code) => {
    const body = Buffer.from(text);
    // JSON.parse alone keeps the last of duplicate names; the scanner refuses an ambiguous "data".
    if (what.includes('duplicate')) expect(() => JSON.parse(text) as unknown).not.toThrow();
    else expect(referenceOutcome(body)).toEqual({ error: code });
    expectAppError(
      thrownBy(() => scan([body])),
      code,
    );
    expect(outcomeOf(oneBytePieces(body))).toEqual({ error: code });
    for (let cut = 0; cut <= body.length; cut += 1) {
      expect(outcomeOf(splitAt(body, [cut]))).toEqual({ error: code });
    }
  });

  it.each(validBodies)(
    'judges %s cut short at every position as JSON.parse does',
    (_what, text) => {
      const body = Buffer.from(text);
      for (let length = 0; length < body.length; length += 1) {
        const truncated = body.subarray(0, length);
        const expected = referenceOutcome(truncated);
        expect(outcomeOf([truncated])).toEqual(expected);
        expect(outcomeOf(splitAt(truncated, [length >> 1]))).toEqual(expected);
      }
    },
  );

  it('fails while the body is still arriving once the skeleton outgrows its limit', () => {
    for (const endless of ['{"note":"' + 'x'.repeat(1000), ' '.repeat(1000), '['.repeat(1000)]) {
      const scanner = new JsonDataScanner({ data() {}, dataEnd() {} }, 100);
      let written = 0;
      const error = thrownBy(() => {
        for (const piece of oneBytePieces(Buffer.from(endless))) {
          written += 1;
          scanner.write(piece);
        }
      });
      expectAppError(error, 'payload_too_large');
      expect(written).toBe(101);
    }
  });

  it('never echoes the body in its error messages', () => {
    const secret = 's3cr3t';
    for (const text of [
      `{"data":"${secret}\u0001"}`,
      `{"data":"${secret}\\x"}`,
      `{"${secret}\\x":1,"data":""}`,
      `{"${secret}":1}`,
      `{"data":"${secret}"}${secret}`,
    ]) {
      const error = thrownBy(() => scan([Buffer.from(text)]));
      expect(isAppError(error)).toBe(true);
      expect((error as Error).message).not.toContain(secret);
    }
  });

  it("lets the sink's own errors through unchanged", () => {
    const refusal = new AppError('invalid_base64');
    const scanner = new JsonDataScanner(
      {
        data() {
          throw refusal;
        },
        dataEnd() {},
      },
      100,
    );
    expect(thrownBy(() => scanner.write(Buffer.from('{"data":"!')))).toBe(refusal);
  });
});

/** A JSON object's text with its members in this order, `data` among them. */
function objectText(members: ReadonlyArray<readonly [string, string]>, space: string): string {
  return `{${space}${members.map(([key, value]) => `${JSON.stringify(key)}${space}:${space}${value}`).join(`,${space}`)}${space}}`;
}

describe('JsonDataScanner: properties', () => {
  const others = fc.uniqueArray(
    fc.tuple(
      fc.string({ unit: 'binary', maxLength: 8 }).filter((key) => key !== 'data'),
      fc.jsonValue({ maxDepth: 3 }),
    ),
    { selector: ([key]) => key, maxLength: 5 },
  );

  it('extracts the same data whatever other members surround it', () => {
    const sample = fc
      .tuple(
        others,
        fc.nat(),
        fc.constantFrom(shortUri, androidUri, mimeUri),
        fc.constantFrom('', ' ', '\n', '\r\n\t'),
      )
      .map(([members, position, uri, space]) => {
        const entries = members.map(([key, value]) => [key, JSON.stringify(value)] as const);
        entries.splice(position % (entries.length + 1), 0, ['data', JSON.stringify(uri)]);
        return { uri, body: Buffer.from(objectText(entries, space)) };
      })
      .chain((sampled) => fc.tuple(fc.constant(sampled), cutOffsets(sampled.body.length)));
    fc.assert(
      fc.property(sample, ([{ uri, body }, cuts]) => {
        const { data: _data, ...expectedOthers } = JSON.parse(body.toString()) as Record<
          string,
          unknown
        >;
        const result = scan(splitAt(body, cuts));
        expect(result.data).toBe(asciiBytes(uri));
        expect(result.others).toEqual(expectedOthers);
      }),
      { numRuns: 300 },
    );
  });

  it('hands over any ASCII string exactly, and raw UTF-8 untouched', () => {
    const sample = fc
      .oneof(
        fc.string({ unit: 'binary-ascii', maxLength: 60 }),
        fc.string({ unit: 'binary', maxLength: 30 }),
      )
      .map((text) => ({ text, body: Buffer.from(JSON.stringify({ data: text })) }))
      .chain((sampled) => fc.tuple(fc.constant(sampled), cutOffsets(sampled.body.length)));
    fc.assert(
      fc.property(sample, ([{ text, body }, cuts]) => {
        expect(scan(splitAt(body, cuts)).data).toBe(Buffer.from(text, 'utf8').toString('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with JSON.parse on mutated bodies, and throws nothing but AppErrors', () => {
    type Mutation = { kind: 'flip' | 'insert' | 'delete'; at: number; byte: number };
    const mutation = fc.record({
      kind: fc.constantFrom<Mutation['kind']>('flip', 'insert', 'delete'),
      at: fc.nat(),
      byte: fc.oneof(
        fc.constantFrom(...Buffer.from('{}[]":,\\u0 \n\tdat1e-')),
        fc.integer({ min: 0, max: 255 }),
      ),
    });
    const sample = fc
      .tuple(
        fc.constantFrom(
          ...validBodies.filter(([, text]) => text.length < 1000).map(([, text]) => text),
        ),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
      )
      .map(([text, mutations]) => {
        const bytes = [...Buffer.from(text)];
        for (const { kind, at, byte } of mutations) {
          const index = at % (bytes.length + 1);
          if (kind === 'insert') bytes.splice(index, 0, byte);
          else if (kind === 'delete') bytes.splice(index, 1);
          else if (index < bytes.length) bytes[index] = byte;
        }
        return Buffer.from(bytes);
      })
      .chain((body) => fc.tuple(fc.constant(body), cutOffsets(body.length)));
    fc.assert(
      fc.property(sample, ([body, cuts]) => {
        let outcome: Outcome;
        try {
          outcome = scan(splitAt(body, cuts));
        } catch (error) {
          if (!isAppError(error)) throw error;
          outcome = { error: error.code };
        }
        const reference = referenceOutcome(body);
        if ('data' in reference && reference.data === notAscii && 'data' in outcome) {
          outcome = { ...outcome, data: notAscii };
        }
        if ('error' in reference || !('error' in outcome)) {
          expect(outcome).toEqual(reference);
        } else {
          // JSON.parse keeps the last of two "data" members; the scanner refuses them.
          expect(outcome).toEqual({ error: 'invalid_json' });
          expect(body.toString('latin1').match(/"d(?:a|\\u0061)ta"/g)?.length).toBeGreaterThan(1);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('throws nothing but AppErrors on arbitrary bytes', () => {
    const tokens = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      '"',
      ':',
      ',',
      '\\',
      '"data"',
      '"d\\u0061ta"',
      ' ',
      'u',
      '1',
      'null',
      '\n',
    );
    const garbage = fc.oneof(
      fc.array(tokens, { maxLength: 30 }).map((parts) => Buffer.from(parts.join(''))),
      fc.uint8Array({ maxLength: 60 }).map((raw) => Buffer.from(raw)),
    );
    fc.assert(
      fc.property(garbage, cutOffsets(60), fc.integer({ min: 0, max: 40 }), (body, cuts, limit) => {
        const outcome = outcomeOf(splitAt(body, cuts), limit);
        if ('error' in outcome) {
          expect(['invalid_json', 'missing_data', 'payload_too_large']).toContain(outcome.error);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
