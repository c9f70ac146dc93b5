/**
 * The request headers that make a GET conditional or partial (RFC 9110 §13 and §14), read
 * strictly: a header this does not read is treated as absent, never guessed at.
 */

/** Bytes `start` to `end` of an object, both included (as Content-Range counts them). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

const dayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const longDayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const monthNames = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
];
const day = `(${dayNames.join('|')})`;
const month = `(${monthNames.join('|')})`;
const time = '(\\d{2}):(\\d{2}):(\\d{2})';
const imfFixdate = new RegExp(`^${day}, (\\d{2}) ${month} (\\d{4}) ${time} GMT$`);
const rfc850Date = new RegExp(
  `^(${longDayNames.join('|')}), (\\d{2})-${month}-(\\d{2}) ${time} GMT$`,
);
const asctimeDate = new RegExp(`^${day} ${month} ([ \\d]\\d) ${time} (\\d{4})$`);

/**
 * An HTTP-date (RFC 9110 §5.6.7) as milliseconds since the epoch: the IMF-fixdate every sender
 * must use, or one of the two obsolete forms a recipient must still read (RFC 850 and asctime).
 * Undefined for anything else, including a date that names no day (31 Feb) or a leap second
 * (Date cannot hold one). `now` places a two-digit RFC 850 year: one that would be more than 50
 * years ahead is in the previous century.
 */
export function parseHttpDate(text: string, now: number = Date.now()): number | undefined {
  let parts: { year: number; month: string; day: string; time: string[] };
  let match = imfFixdate.exec(text);
  if (match !== null) {
    const [, , dd = '', mon = '', yyyy = '', ...hms] = match;
    parts = { year: Number(yyyy), month: mon, day: dd, time: hms };
  } else if ((match = rfc850Date.exec(text)) !== null) {
    const [, , dd = '', mon = '', yy = '', ...hms] = match;
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(yy);
    if (year > thisYear + 50) year -= 100;
    parts = { year, month: mon, day: dd, time: hms };
  } else if ((match = asctimeDate.exec(text)) !== null) {
    const [, , mon = '', dd = '', hh = '', mm = '', ss = '', yyyy = ''] = match;
    parts = { year: Number(yyyy), month: mon, day: dd.trim(), time: [hh, mm, ss] };
  } else {
    return undefined;
  }
  const [hour = NaN, minute = NaN, second = NaN] = parts.time.map(Number);
  const monthIndex = monthNames.indexOf(parts.month);
  const dayOfMonth = Number(parts.day);
  if (hour > 23 || minute > 59 || second > 59 || dayOfMonth < 1) return undefined;
  const date = new Date(Date.UTC(parts.year, monthIndex, dayOfMonth, hour, minute, second));
  // Date.UTC maps years 0–99 to 1900–1999; set it again so year 0050 means 0050.
  date.setUTCFullYear(parts.year, monthIndex, dayOfMonth);
  // Date.UTC rolls 31 Feb over into March: a day the month does not have is no date.
  if (date.getUTCMonth() !== monthIndex || date.getUTCDate() !== dayOfMonth) return undefined;
  return date.getTime();
}

/**
 * Whether `If-None-Match` names the representation whose strong tag is `etag`: `*`, or a tag
 * that matches it by the weak comparison (RFC 9110 §13.1.2: `W/"x"` and `"x"` both match).
 */
export function ifNoneMatchHolds(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return entityTagsOf(header)?.includes(opaque) === true;
}

/**
 * The opaque tags (quotes kept, `W/` dropped) of a list of entity tags; undefined when the
 * header is not one. A tag may hold a comma, so the list is read tag by tag, not split.
 */
function entityTagsOf(header: string): string[] | undefined {
  const element = /[ \t]*(?:(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*)?(?:,|$)/y;
  const tags: string[] = [];
  for (let at = 0; at < header.length; at = element.lastIndex) {
    element.lastIndex = at;
    const match = element.exec(header);
    if (match === null) return undefined;
    if (match[1] !== undefined) tags.push(match[1]);
  }
  return tags;
}

/**
 * Whether `If-Modified-Since` shows the client has the representation last modified at
 * `modified` (RFC 9110 §13.1.3). A date this cannot read, or one later than `now`, is invalid
 * and ignored: the answer is then the full one.
 */
export function notModifiedSince(
  header: string,
  modified: Date,
  now: number = Date.now(),
): boolean {
  const since = parseHttpDate(header.trim(), now);
  if (since === undefined || since > now) return false;
  // HTTP dates count whole seconds; the file's time has milliseconds.
  return Math.floor(modified.getTime() / 1000) * 1000 <= since;
}

/**
 * Whether a Range may be honoured under `If-Range` (RFC 9110 §13.1.5): absent, or naming these
 * bytes by the strong comparison (a weak tag never matches) or by exactly the Last-Modified sent.
 */
export function ifRangeHolds(header: string, etag: string, lastModified: string): boolean {
  const value = header.trim();
  return value === '' || value === etag || value === lastModified;
}

/**
 * The one range a `Range` header asks of an object of `size` bytes (RFC 9110 §14.1.2):
 * `unsatisfiable` when it starts past the end (or asks for the last 0 bytes); undefined for
 * the whole object when there is no header, one this does not read, or several ranges (which
 * a server may ignore, §14.2).
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i.exec(header);
  if (match === null) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '') {
    // A suffix: the last N bytes.
    if (last === '') return undefined;
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined; // invalid: the whole object is sent
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
