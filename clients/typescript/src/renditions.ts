import type { Image } from './types.js';

/** What a rendition URL asks for (GET /v1/images/{id}/render); at least width, height or preset. */
export interface RenditionOptions {
  /** The box in CSS pixels (before dpr). */
  readonly width?: number;
  readonly height?: number;
  readonly fit?: 'inside' | 'cover' | 'contain' | 'fill';
  /** `auto` (the service's default): AVIF, WebP or JPEG by the browser's Accept. */
  readonly format?: 'auto' | 'avif' | 'webp' | 'jpeg' | 'png';
  readonly quality?: number;
  /** Device pixel ratio, 1 to 4. */
  readonly dpr?: number;
  readonly gravity?: 'centre' | 'focus' | 'attention' | 'entropy';
  /** A preset (IMAGE_VARIANTS) by name; alone, it needs no signature. */
  readonly preset?: string;
}

export interface RenditionUrlOptions {
  /**
   * A key of the service's RENDER_SIGNING_KEYS, to sign the URL: for servers only (a key in a
   * browser signs any size for anyone). Without it the URL goes unsigned.
   */
  readonly key?: string;
  /**
   * Where the service is (or a CDN in front of it); by default the origin of the rendition
   * URLs the image's description carries.
   */
  readonly baseUrl?: string;
}

const parameterNames: Readonly<Record<keyof RenditionOptions, string>> = {
  width: 'w',
  height: 'h',
  fit: 'fit',
  format: 'format',
  quality: 'q',
  dpr: 'dpr',
  gravity: 'gravity',
  preset: 'preset',
};

/**
 * The URL of one rendition of `image`, signed when given a key: HMAC-SHA256 over the path and
 * the query sorted by name, unpadded base64url (docs/api.md). Web Crypto, so it runs in Node
 * and in browsers alike.
 */
export async function renditionUrl(
  image: Pick<Image, 'id' | 'renditions'>,
  options: RenditionOptions,
  { key, baseUrl }: RenditionUrlOptions = {},
): Promise<string> {
  const origin = baseUrl ?? originOf(image);
  const path = `/v1/images/${image.id}/render`;
  const pairs = (Object.keys(parameterNames) as (keyof RenditionOptions)[])
    .filter((name) => options[name] !== undefined)
    .map((name) => [parameterNames[name], String(options[name])] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (pairs.length === 0) throw new TypeError('renditionUrl needs a width, a height or a preset');
  const query = pairs
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  const sig = key === undefined ? '' : `&sig=${await hmacBase64Url(key, `${path}?${query}`)}`;
  return `${origin}${path}?${query}${sig}`;
}

/**
 * The value of an `<img srcset>` for `image`: its renditions at the service's widths, or what
 * every browser shows of it (`display`: the original, or the JPEG made of a HEIC) at its own
 * width when the service lists none.
 */
export function srcset(image: Pick<Image, 'display' | 'renditions'>): string {
  return image.renditions?.srcset ?? `${image.display.url} ${image.display.width}w`;
}

function originOf(image: Pick<Image, 'renditions'>): string {
  const first = image.renditions?.widths[0]?.url;
  if (first === undefined) {
    throw new TypeError('the image lists no renditions: give renditionUrl a baseUrl');
  }
  return new URL(first).origin + new URL(first).pathname.replace(/\/v1\/images\/.*$/, '');
}

async function hmacBase64Url(key: string, text: string): Promise<string> {
  const encoder = new TextEncoder();
  const cryptoKey = await crypto.subtle.importKey(
    'raw',
    encoder.encode(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(text)),
  );
  let binary = '';
  for (const byte of signature) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}
