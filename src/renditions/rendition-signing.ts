/**
 * Signed rendition URLs: `sig` is the unpadded base64url HMAC-SHA256, under one of
 * RENDER_SIGNING_KEYS, of the path and the query without `sig`, its parameters sorted by name:
 * `/v1/images/{id}/render?dpr=2&fit=cover&w=640`. Signing uses the first key; any key is
 * accepted, so keys can be rotated (add the new one first, drop the old one once no page
 * carries its URLs).
 */

import { createHmac, timingSafeEqual } from 'node:crypto';

/** The path of an image's renditions; ids are checked before this is built. */
export function renditionPath(id: string): string {
  return `/v1/images/${id}/render`;
}

/**
 * The text that is signed: the path, `?`, then `name=value` pairs sorted by name and joined
 * by `&`, each part percent-encoded as encodeURIComponent does (every value this API takes is
 * plain ASCII letters, digits and dots, so they read as written).
 */
export function signedText(path: string, params: ReadonlyMap<string, string>): string {
  const pairs = [...params]
    .filter(([name]) => name !== 'sig')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${path}?${pairs.join('&')}`;
}

export function signRendition(
  path: string,
  params: ReadonlyMap<string, string>,
  key: string,
): string {
  return createHmac('sha256', key).update(signedText(path, params)).digest('base64url');
}

/** Whether `sig` was made by any of `keys` over exactly these parameters (constant time). */
export function renditionSignatureMatches(
  path: string,
  params: ReadonlyMap<string, string>,
  sig: string,
  keys: readonly string[],
): boolean {
  const presented = Buffer.from(sig, 'base64url');
  // base64url decoding skips characters outside the alphabet: insist on the canonical text.
  if (presented.toString('base64url') !== sig) return false;
  const text = signedText(path, params);
  let matched = false;
  for (const key of keys) {
    const expected = createHmac('sha256', key).update(text).digest();
    // Every key is tried, so the time taken does not tell which one matched.
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) {
      matched = true;
    }
  }
  return matched;
}

/** A query string, its parameters in the order given, with `sig` appended when a key is given. */
export function renditionQueryString(
  path: string,
  params: ReadonlyMap<string, string>,
  key: string | undefined,
): string {
  const query = new URLSearchParams([...params]);
  if (key !== undefined) query.set('sig', signRendition(path, params, key));
  return query.toString();
}
