import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  ifNoneMatchHolds,
  ifRangeHolds,
  notModifiedSince,
  parseHttpDate,
  parseRange,
} from '../../src/http/conditional-requests.js';

/** The parsers behind served files' 304, 206 and 416, read against RFC 9110. */

const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** Whole seconds from 1970 to 9999, where all three forms can name them. */
const instants = fc
  .date({ min: new Date(0), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((date) => new Date(Math.floor(date.getTime() / 1000) * 1000));

const rfc850 = (d: Date): string =>
  `${days[d.getUTCDay()]}, ${two(d.getUTCDate())}-${months[d.getUTCMonth()]}-` +
  `${two(d.getUTCFullYear() % 100)} ${d.toISOString().slice(11, 19)} GMT`;
const asctime = (d: Date): string =>
  `${days[d.getUTCDay()]!.slice(0, 3)} ${months[d.getUTCMonth()]} ` +
  `${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()}`;

describe('parseHttpDate', () => {
  it('reads every IMF-fixdate and the asctime form of the same instant alike', () => {
    fc.assert(
      fc.property(instants, (date) => {
        expect(parseHttpDate(date.toUTCString())).toBe(date.getTime());
        expect(parseHttpDate(asctime(date))).toBe(date.getTime());
      }),
    );
  });

  it('reads an RFC 850 date within 50 years of now in the century that puts it there', () => {
    const now = Date.UTC(2026, 11, 6);
    const near = fc.date({
      min: new Date('1977-01-01Z'),
      max: new Date('2076-12-31Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(near, (date) => {
        const second = new Date(Math.floor(date.getTime() / 1000) * 1000);
        expect(parseHttpDate(rfc850(second), now)).toBe(second.getTime());
      }),
    );
  });

  it('refuses a valid date with anything around it or changed in its shape', () => {
    const noise = fc.string({ minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(instants, noise, fc.boolean(), (date, extra, before) => {
        const text = date.toUTCString();
        expect(parseHttpDate(before ? `${extra}${text}` : `${text}${extra}`)).toBeUndefined();
        expect(parseHttpDate(text.toLowerCase())).toBeUndefined();
      }),
    );
  });

  it.each([
    'garbage 2030',
    '2030',
    'Thu, 31 Feb 2030 00:00:00 GMT',
    'Thu, 01 Jan 2030 24:00:00 GMT',
    'Thu, 01 Jan 2030 00:60:00 GMT',
    'Thu, 1 Jan 2030 00:00:00 GMT',
    'Thu, 01 Jan 2030 00:00:00 UTC',
    'Thu, 01 Jan 2030 00:00:00 +0000',
    '2030-01-01T00:00:00Z',
    '',
  ])('refuses %j', (text) => {
    expect(parseHttpDate(text)).toBeUndefined();
  });
});

describe('notModifiedSince', () => {
  it('holds from the modification second on, until now; never for a later date', () => {
    const now = Date.UTC(2026, 11, 6, 12);
    fc.assert(
      fc.property(instants, instants, (modified, since) => {
        const holds = notModifiedSince(since.toUTCString(), modified, now);
        const expected = since.getTime() <= now && modified.getTime() <= since.getTime();
        expect(holds).toBe(expected);
      }),
    );
  });
});

describe('parseRange', () => {
  const sizes = fc.nat({ max: 10_000_000 });

  it('returns a range inside the object, "unsatisfiable", or undefined, whatever the header', () => {
    const headers = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.option(fc.nat()), fc.option(fc.nat()))
        .map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
    );
    fc.assert(
      fc.property(headers, sizes, (header, size) => {
        const range = parseRange(header, size);
        if (range === undefined || range === 'unsatisfiable') return;
        expect(range.start).toBeGreaterThanOrEqual(0);
        expect(range.start).toBeLessThanOrEqual(range.end);
        expect(range.end).toBeLessThan(size);
      }),
    );
  });

  it('gives exactly the bytes asked for when they are inside the object', () => {
    fc.assert(
      fc.property(
        sizes.filter((n) => n > 0),
        fc.nat(),
        fc.nat(),
        (size, a, b) => {
          const start = a % size;
          const end = start + (b % (size - start));
          expect(parseRange(`bytes=${start}-${end}`, size)).toEqual({ start, end });
          expect(parseRange(`bytes=${start}-`, size)).toEqual({ start, end: size - 1 });
          expect(parseRange(`bytes=-${end - start + 1}`, size)).toEqual({
            start: size - (end - start + 1),
            end: size - 1,
          });
        },
      ),
    );
  });

  it('calls a range that starts at or past the end unsatisfiable', () => {
    fc.assert(
      fc.property(sizes, fc.nat(), fc.option(fc.nat()), (size, past, last) => {
        const start = size + past;
        const end = last === null ? '' : String(start + last);
        expect(parseRange(`bytes=${start}-${end}`, size)).toBe('unsatisfiable');
      }),
    );
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
  });

  it.each(['bytes=0-1,3-4', 'bytes=5-2', 'bytes=-', 'items=0-1', 'bytes=a-b', 'bytes 0-1'])(
    'reads %j as no range (the whole object)',
    (header) => {
      expect(parseRange(header, 100)).toBeUndefined();
    },
  );
});

describe('entity tags', () => {
  const tags = fc.stringMatching(/^[!#-~]{1,20}$/).map((text) => `"${text}"`);

  it('If-None-Match holds for the tag, weak or strong, anywhere in a list, and for *', () => {
    fc.assert(
      fc.property(
        tags,
        fc.array(tags),
        fc.array(tags),
        fc.boolean(),
        (tag, before, after, weak) => {
          const list = [...before, weak ? `W/${tag}` : tag, ...after].join(', ');
          expect(ifNoneMatchHolds(list, tag)).toBe(true);
          expect(ifNoneMatchHolds('*', tag)).toBe(true);
          const others = [...before, ...after].filter((other) => other !== tag);
          if (others.length > 0) expect(ifNoneMatchHolds(others.join(', '), tag)).toBe(false);
        },
      ),
    );
  });

  it('If-Range holds only for the strong tag itself or the exact Last-Modified', () => {
    fc.assert(
      fc.property(tags, tags, instants, (tag, other, modified) => {
        const lastModified = modified.toUTCString();
        expect(ifRangeHolds('', tag, lastModified)).toBe(true);
        expect(ifRangeHolds(tag, tag, lastModified)).toBe(true);
        expect(ifRangeHolds(`W/${tag}`, tag, lastModified)).toBe(false);
        expect(ifRangeHolds(lastModified, tag, lastModified)).toBe(true);
        expect(ifRangeHolds(other, tag, lastModified)).toBe(other === tag);
      }),
    );
  });
});
