/**
 * Whether an If-None-Match header names `etag` (RFC 9110 13.1.2: weak comparison, `*` matches
 * any current representation). Written to be shared by every route that serves stored
 * objects (the local driver's originals, renditions).
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined || header === '') return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === opaque(etag));
}
