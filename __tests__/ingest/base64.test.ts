import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { isAppError } from '../../src/errors.js';
import { Base64Decoder, decodeBase64 } from '../../src/ingest/base64.js';
import {
  cutOffsets,
  expectAppError,
  expectOnlyAppErrors,
  oneBytePieces,
  splitAt,
  thrownBy,
  wrapLines,
} from './helpers.js';

const photo = readFileSync(new URL('../fixtures/photo.jpg', import.meta.url));
const photoHex = photo.toString('hex');

function decodeInChunks(chunks: readonly Buffer[]): Buffer {
  const decoder = new Base64Decoder();
  const parts = chunks.map((chunk) => decoder.write(chunk));
  parts.push(decoder.end());
  return Buffer.concat(parts);
}

type Outcome = { bytes: string } | { error: string };

function outcomeOf(action: () => Buffer): Outcome {
  try {
    return { bytes: action().toString('hex') };
  } catch (error) {
    if (isAppError(error)) return { error: error.code };
    throw error;
  }
}

/**
 * The reference, step by step as a browser reads a data: URL body: the URL parser drops tabs
 * and newlines, the WHATWG percent-decode keeps a "%" not followed by two hex digits as it is,
 * then the platform's own forgiving-base64 decoder, atob().
 */
function referenceOutcome(raw: Buffer): Outcome {
  const input = Buffer.from(raw.filter((byte) => byte !== 0x09 && byte !== 0x0a && byte !== 0x0d));
  const bytes: number[] = [];
  for (let index = 0; index < input.length; index += 1) {
    const escape = input.subarray(index + 1, index + 3).toString('latin1');
    if (input[index] === 0x25 && /^[0-9a-f]{2}$/i.test(escape)) {
      bytes.push(Number.parseInt(escape, 16));
      index += 2;
    } else {
      bytes.push(input[index]!);
    }
  }
  try {
    return {
      bytes: Buffer.from(atob(Buffer.from(bytes).toString('latin1')), 'latin1').toString('hex'),
    };
  } catch {
    return { error: 'invalid_base64' };
  }
}

const longText = photo.subarray(0, 300).toString('base64');

/** [what, input, the same payload written as plain canonical base64 for Buffer.from] */
const validVariants: ReadonlyArray<readonly [string, string, string]> = [
  ['plain', 'QUJD', 'QUJD'],
  ['"+" and "/"', 'AAEC/+7/', 'AAEC/+7/'],
  ['explicit padding "="', 'QUI=', 'QUI='],
  ['explicit padding "=="', 'QQ==', 'QQ=='],
  ['missing padding, 1 character', 'QUI', 'QUI='],
  ['missing padding, 2 characters', 'QQ', 'QQ=='],
  ['whitespace between padding characters', 'QQ= =', 'QQ=='],
  ['whitespace after the padding', 'QQ==\r\n', 'QQ=='],
  ['non-zero bits in the last character (forgiving)', 'QR==', 'QQ=='],
  ['spaces', ' Q U J D ', 'QUJD'],
  ['tab, form feed, CR, LF', '\tQ\fU\rJ\nD', 'QUJD'],
  ['LF every 76 characters', wrapLines(longText, 76, '\n') + '\n', longText],
  ['CRLF every 76 characters', wrapLines(longText, 76, '\r\n') + '\r\n', longText],
  ['%2B and %2F', 'AAEC%2F%2B7%2F', 'AAEC/+7/'],
  ['lower-case %2b and %2f', 'AAEC%2f%2b7%2f', 'AAEC/+7/'],
  ['%3D as padding', 'QQ%3D%3D', 'QQ=='],
  ['every character percent-encoded', '%51%55%4A%44', 'QUJD'],
  ['percent-encoded whitespace', 'QU%0AJD%20', 'QUJD'],
  ['a line break inside a percent escape', 'AAEC%2\nF%\r\n2B7%2F', 'AAEC/+7/'],
  ['empty payload', '', ''],
  ['whitespace only', ' \r\n\t', ''],
];

/** [what, input] of payloads the WHATWG forgiving-base64 decode rejects. */
const invalidVariants: ReadonlyArray<readonly [string, string]> = [
  ['padding after 3 characters ("QQ=")', 'QQ='],
  ['three padding characters ("Q===")', 'Q==='],
  ['data after the padding', 'QQ==QQ=='],
  ['a character right after "="', 'QQ=A'],
  ['padding after a full group', 'QUJD='],
  ['padding only', '='],
  ['two padding characters only', '=='],
  ['four padding characters', '===='],
  ['lone character', 'Q'],
  ['lone last character (length % 4 == 1)', 'QUJDQ'],
  ['lone last character with padding', 'QUJDQ==='],
  ['"!"', 'QU!D'],
  ['"-" (base64url)', 'QUJD-A=='],
  ['"_" (base64url)', 'QUJD_A=='],
  ['"#"', 'QUJD#'],
  ['NUL', 'QU\u0000D'],
  ['vertical tab (not ASCII whitespace)', 'QU\u000bJD'],
  ['non-ASCII letter', 'QUJDé'],
  ['no-break space', 'QU\u00a0JD'],
  ['bad percent escape %ZZ', 'QU%ZZ'],
  ['bad percent escape %G1', '%G1QQ'],
  ['"%" at the end', 'QQ%'],
  ['"%" and one hex digit at the end', 'QQ%4'],
  ['a space inside a percent escape', 'QQ%2 B'],
  ['%25 (a percent sign is not base64)', 'QQ%25'],
  ['percent-encoded non-ASCII', 'QQ%C3%A9'],
  ['percent-encoded "=" too early', 'Q%3D%3D'],
];

describe('decodeBase64: real-world variants', () => {
  it.each(validVariants)('decodes %s', (_what, input, canonical) => {
    const expected = Buffer.from(canonical, 'base64');
    expect(decodeBase64(input)).toEqual(expected);
    expect(decodeBase64(Buffer.from(input, 'utf8'))).toEqual(expected);
    expect(decodeInChunks(oneBytePieces(Buffer.from(input, 'utf8')))).toEqual(expected);
    expect(referenceOutcome(Buffer.from(input, 'utf8'))).toEqual({
      bytes: expected.toString('hex'),
    });
  });

  it.each(invalidVariants)('rejects %s with invalid_base64', (_what, input) => {
    expectAppError(
      thrownBy(() => decodeBase64(input)),
      'invalid_base64',
    );
    expectAppError(
      thrownBy(() => decodeInChunks(oneBytePieces(Buffer.from(input, 'utf8')))),
      'invalid_base64',
    );
    expect(referenceOutcome(Buffer.from(input, 'utf8'))).toEqual({ error: 'invalid_base64' });
  });

  it('gives the same result for every two-chunk split of every variant', () => {
    for (const input of [
      ...validVariants.map((row) => row[1]),
      ...invalidVariants.map((row) => row[1]),
    ]) {
      const bytes = Buffer.from(input, 'utf8');
      const whole = outcomeOf(() => decodeBase64(bytes));
      for (let cut = 0; cut <= bytes.length; cut += 1) {
        expect(outcomeOf(() => decodeInChunks(splitAt(bytes, [cut])))).toEqual(whole);
      }
    }
  });

  it('decodes a real JPEG wrapped at 76 characters (LF and CRLF), in any chunking', () => {
    for (const newline of ['\n', '\r\n']) {
      const text = Buffer.from(wrapLines(photo.toString('base64'), 76, newline) + newline);
      expect(decodeBase64(text)).toEqual(photo);
      expect(decodeInChunks(oneBytePieces(text))).toEqual(photo);
      for (let cut = 0; cut <= text.length; cut += 1) {
        // Compared as hex: jest's deep equality walks a Buffer byte by byte, slowly.
        expect(decodeInChunks(splitAt(text, [cut, cut + 3])).toString('hex')).toBe(photoHex);
      }
    }
  });

  it('names the offending character and its position, and nothing else of the input', () => {
    const error = thrownBy(() => decodeBase64('QUJD!secret'));
    expectAppError(error, 'invalid_base64');
    expect((error as Error).message).toContain('U+0021');
    expect((error as Error).message).toContain('position 5');
    expect((error as Error).message).not.toContain('secret');
  });

  it('refuses to be used after end()', () => {
    const decoder = new Base64Decoder();
    decoder.end();
    expect(() => decoder.write(Buffer.from('QQ'))).toThrow();
    expect(() => decoder.end()).toThrow();
  });
});

type Decoration = 'keep' | 'space' | 'lf' | 'crlf' | 'tab' | 'percent-upper' | 'percent-lower';

/** Writes base64 the many ways clients do: padding or not, line breaks, escaped characters. */
function decorate(text: string, decorations: readonly Decoration[]): string {
  let out = '';
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index]!;
    const hex = character.charCodeAt(0).toString(16).padStart(2, '0');
    switch (decorations[index] ?? 'keep') {
      case 'keep':
        out += character;
        break;
      case 'space':
        out += ' ' + character;
        break;
      case 'lf':
        out += '\n' + character;
        break;
      case 'crlf':
        out += character + '\r\n';
        break;
      case 'tab':
        out += character + '\t';
        break;
      case 'percent-upper':
        out += `%${hex.toUpperCase()}`;
        break;
      case 'percent-lower':
        out += `%${hex}`;
        break;
    }
  }
  return out;
}

const decorations = fc.array(
  fc.constantFrom<Decoration>(
    'keep',
    'keep',
    'keep',
    'space',
    'lf',
    'crlf',
    'tab',
    'percent-upper',
    'percent-lower',
  ),
  { maxLength: 400 },
);

describe('decodeBase64: properties', () => {
  it('decodes any bytes, however the base64 is padded, spaced or percent-encoded', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        decorations,
        (raw, unpadded, marks) => {
          const bytes = Buffer.from(raw);
          let text = bytes.toString('base64');
          if (unpadded) text = text.replace(/=+$/, '');
          const input = Buffer.from(decorate(text, marks));
          expect(decodeBase64(input)).toEqual(bytes);
          expect(decodeInChunks(oneBytePieces(input))).toEqual(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the same bytes whatever the chunking, including cuts inside "%2B"', () => {
    const input = fc
      .tuple(fc.uint8Array({ maxLength: 120 }), decorations)
      .map(([raw, marks]) => Buffer.from(decorate(Buffer.from(raw).toString('base64'), marks)))
      .chain((text) => fc.tuple(fc.constant(text), cutOffsets(text.length)));
    fc.assert(
      fc.property(input, ([text, cuts]) => {
        expect(decodeInChunks(splitAt(text, cuts))).toEqual(decodeBase64(text));
      }),
      { numRuns: 300 },
    );
  });

  const garbageCharacter = fc.oneof(
    fc.constantFrom(...'AQgw+/09=%2B3D  \n\r\t\f'.split('')),
    fc.constantFrom('!', '-', '_', '#', '\u000b', '\u0000', 'é', '%Z', '%2', '%3d', '%25', '%0a'),
  );
  const garbage = fc.oneof(
    fc.array(garbageCharacter, { maxLength: 40 }).map((parts) => Buffer.from(parts.join(''))),
    fc.uint8Array({ maxLength: 40 }).map((raw) => Buffer.from(raw)),
  );

  it('agrees with the platform (percent-decode + atob) on arbitrary input, and throws only AppErrors', () => {
    fc.assert(
      fc.property(garbage, cutOffsets(40), (input, cuts) => {
        expectOnlyAppErrors(() => decodeBase64(input), ['invalid_base64']);
        const whole = outcomeOf(() => decodeBase64(input));
        expect(whole).toEqual(referenceOutcome(input));
        expect(outcomeOf(() => decodeInChunks(splitAt(input, cuts)))).toEqual(whole);
      }),
      { numRuns: 1000 },
    );
  });
});
