/**
 * The grammar of a rendition URL's query (`/v1/images/{id}/render?w=640&fit=cover&sig=…`):
 * what each parameter may hold, and the canonical form a rendition is cached and signed by.
 * Knows neither Koa nor the store; every refusal is an AppError naming the parameter.
 */

import { AppError } from '../errors.js';
import { maxVariantSide, type VariantSpec } from '../images/variant-spec.js';

export const renderFits = ['cover', 'contain', 'inside', 'fill'] as const;
export type RenderFit = (typeof renderFits)[number];

/** `auto` is decided per request from Accept; the others are what is written. */
export const renderFormats = ['auto', 'avif', 'webp', 'jpeg', 'png'] as const;
export type RenderFormatChoice = (typeof renderFormats)[number];
export type RenderFormat = Exclude<RenderFormatChoice, 'auto'>;

export const renderGravities = ['centre', 'focus', 'attention', 'entropy'] as const;
export type RenderGravity = (typeof renderGravities)[number];

/** Longer than any URL a page writes; what is longer is noise or an attack, refused unread. */
const maxRenderQueryBytes = 1024;
/** Device pixel ratios: 1 to 4, in hundredths at most (1.5, 2.75). */
const maxDpr = 4;

/** What a URL asks for, as written (before a preset and defaults fill it in). */
export interface RenditionQuery {
  readonly w?: number;
  readonly h?: number;
  readonly fit?: RenderFit;
  readonly format?: RenderFormatChoice;
  readonly q?: number;
  readonly dpr?: number;
  readonly gravity?: RenderGravity;
  readonly preset?: string;
}

/** A rendition URL's query, parsed: the parameters and the signature, if any. */
export interface ParsedRenditionQuery {
  readonly query: RenditionQuery;
  /** Every parameter but `sig`, by name, as sent (decoded): what the signature covers. */
  readonly signed: ReadonlyMap<string, string>;
  readonly sig: string | undefined;
}

const parameterNames = ['w', 'h', 'fit', 'format', 'q', 'dpr', 'gravity', 'preset', 'sig'];

function invalid(parameter: string, problem: string): AppError {
  return new AppError('invalid_render_parameter', {
    message: `The rendition parameter "${parameter}" ${problem}.`,
  });
}

/**
 * Parses the raw query string (without `?`). Refuses a query longer than maxRenderQueryBytes,
 * a parameter it does not know (so no junk parameter can make one more cache entry), a
 * parameter given twice, and any value out of its range; the presets are those configured.
 */
export function parseRenditionQuery(
  rawQuery: string,
  presets: readonly VariantSpec[],
): ParsedRenditionQuery {
  if (Buffer.byteLength(rawQuery, 'utf8') > maxRenderQueryBytes) {
    throw new AppError('invalid_render_parameter', {
      message: `The rendition query is longer than ${maxRenderQueryBytes} bytes.`,
    });
  }
  const values = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    if (!parameterNames.includes(name)) {
      throw invalid(name.slice(0, 32), `is not one of ${parameterNames.join(', ')}`);
    }
    if (values.has(name)) throw invalid(name, 'is given more than once');
    values.set(name, value);
  }
  const query: Mutable<RenditionQuery> = {};
  const w = values.get('w');
  if (w !== undefined) query.w = wholeNumber('w', w, 1, maxVariantSide);
  const h = values.get('h');
  if (h !== undefined) query.h = wholeNumber('h', h, 1, maxVariantSide);
  const q = values.get('q');
  if (q !== undefined) query.q = wholeNumber('q', q, 1, 100);
  const dpr = values.get('dpr');
  if (dpr !== undefined) query.dpr = ratio('dpr', dpr);
  const fit = values.get('fit');
  if (fit !== undefined) query.fit = oneOf('fit', fit, renderFits);
  const format = values.get('format');
  if (format !== undefined) query.format = oneOf('format', format, renderFormats);
  const gravity = values.get('gravity');
  if (gravity !== undefined) query.gravity = oneOf('gravity', gravity, renderGravities);
  const preset = values.get('preset');
  if (preset !== undefined) {
    if (!presets.some((spec) => spec.name === preset)) {
      throw invalid('preset', `names no configured preset (${presetList(presets)})`);
    }
    query.preset = preset;
  }
  if (query.w === undefined && query.h === undefined && query.preset === undefined) {
    throw invalid('w', 'is missing: give w, h or preset');
  }
  const signed = new Map([...values].filter(([name]) => name !== 'sig'));
  return { query, signed, sig: values.get('sig') };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function presetList(presets: readonly VariantSpec[]): string {
  return presets.length === 0 ? 'none are' : presets.map((spec) => spec.name).join(', ');
}

function wholeNumber(name: string, value: string, min: number, max: number): number {
  // At most 9 digits: a longer number is out of range anyway, and never reaches Number().
  if (!/^[0-9]{1,9}$/.test(value))
    throw invalid(name, `must be a whole number from ${min} to ${max}`);
  const number = Number(value);
  if (number < min || number > max) {
    throw invalid(name, `must be from ${min} to ${max}, got ${number}`);
  }
  return number;
}

function ratio(name: string, value: string): number {
  if (!/^[0-9](?:\.[0-9]{1,2})?$/.test(value)) {
    throw invalid(name, `must be a number from 1 to ${maxDpr} with at most two decimals`);
  }
  const number = Number(value);
  if (number < 1 || number > maxDpr) {
    throw invalid(name, `must be from 1 to ${maxDpr}, got ${number}`);
  }
  return number;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalid(name, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** What is rendered, every choice made: the same spec for every URL that means the same image. */
export interface RenditionSpec {
  /** The box in output pixels (dpr applied); undefined leaves that side to the aspect ratio. */
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly fit: RenderFit;
  readonly format: RenderFormat;
  /** Undefined for PNG, which is lossless. */
  readonly quality: number | undefined;
  readonly gravity: RenderGravity;
}

export interface ResolveOptions {
  readonly presets: readonly VariantSpec[];
  /** IMAGE_VARIANT_FORMAT and IMAGE_VARIANT_QUALITY: a preset's format, unless the URL says. */
  readonly presetFormat: RenderFormat;
  readonly presetQuality: number;
  /** RENDER_MAX_PIXELS: the box, when both sides are given, holds at most this many. */
  readonly maxPixels: number;
  /** The request's Accept header, for format=auto. */
  readonly accept: string | undefined;
}

export const defaultQuality: Readonly<Record<RenderFormat, number | undefined>> = {
  avif: 50,
  webp: 80,
  jpeg: 80,
  png: undefined,
};

/**
 * Fills the query in (its preset first, then the defaults), applies dpr, and decides `auto`.
 * Refuses a box past the side limit or RENDER_MAX_PIXELS, naming the parameter to change.
 */
export function resolveRendition(query: RenditionQuery, options: ResolveOptions): RenditionSpec {
  const preset =
    query.preset === undefined
      ? undefined
      : options.presets.find((spec) => spec.name === query.preset);
  const dpr = query.dpr ?? 1;
  const side = (name: 'w' | 'h', value: number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const pixels = Math.round(value * dpr);
    if (pixels > maxVariantSide) {
      throw invalid(
        query.dpr === undefined ? name : 'dpr',
        `makes a side of ${pixels} pixels (${name} x dpr); at most ${maxVariantSide}`,
      );
    }
    return pixels;
  };
  const width = side('w', query.w ?? preset?.width);
  const height = side('h', query.h ?? preset?.height);
  if (width !== undefined && height !== undefined && width * height > options.maxPixels) {
    throw invalid(
      query.dpr === undefined ? (query.w === undefined ? 'h' : 'w') : 'dpr',
      `makes a box of ${width} x ${height} pixels; at most ${options.maxPixels} (RENDER_MAX_PIXELS)`,
    );
  }
  const choice = query.format ?? (preset === undefined ? 'auto' : options.presetFormat);
  const format = choice === 'auto' ? formatForAccept(options.accept) : choice;
  const quality =
    format === 'png'
      ? undefined
      : (query.q ??
        (preset !== undefined && query.format === undefined
          ? options.presetQuality
          : defaultQuality[format]));
  return {
    width,
    height,
    fit: query.fit ?? preset?.fit ?? 'inside',
    format,
    quality,
    gravity: query.gravity ?? 'centre',
  };
}

/**
 * AVIF, then WebP, for a client that says it takes them (browsers list them in Accept for
 * images); JPEG for everyone else. `q=0` in Accept refuses a type.
 */
export function formatForAccept(accept: string | undefined): RenderFormat {
  const accepted = new Set<string>();
  for (const part of (accept ?? '').toLowerCase().split(',')) {
    const [type = '', ...params] = part.split(';').map((piece) => piece.trim());
    const refused = params.some((param) => /^q=0(?:\.0{0,3})?$/.test(param));
    if (!refused) accepted.add(type);
  }
  if (accepted.has('image/avif')) return 'avif';
  if (accepted.has('image/webp')) return 'webp';
  return 'jpeg';
}

/** The canonical text of a spec: one line, fields in a fixed order. */
export function canonicalRendition(spec: RenditionSpec): string {
  return [
    `w=${spec.width ?? ''}`,
    `h=${spec.height ?? ''}`,
    `fit=${spec.fit}`,
    `format=${spec.format}`,
    `q=${spec.quality ?? ''}`,
    `gravity=${spec.gravity}`,
  ].join('&');
}
