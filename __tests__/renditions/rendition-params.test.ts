import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isAppError } from '../../src/errors.js';
import {
  canonicalRendition,
  formatForAccept,
  parseRenditionQuery,
  resolveRendition,
  type ResolveOptions,
} from '../../src/renditions/rendition-params.js';
import type { VariantSpec } from '../../src/images/variant-spec.js';

const presets: VariantSpec[] = [{ name: 'thumbnail', width: 160, height: 160, fit: 'cover' }];
const resolveOptions: ResolveOptions = {
  presets,
  presetFormat: 'webp',
  presetQuality: 70,
  maxPixels: 16_777_216,
  accept: undefined,
};

function problemOf(query: string): string {
  try {
    parseRenditionQuery(query, presets);
  } catch (error) {
    if (isAppError(error) && error.code === 'invalid_render_parameter') return error.message;
    throw error;
  }
  throw new Error(`"${query}" was accepted`);
}

describe('parseRenditionQuery', () => {
  it('reads every parameter, and keeps what the signature covers apart from sig', () => {
    const parsed = parseRenditionQuery(
      'w=640&h=480&fit=cover&format=webp&q=75&dpr=2&gravity=attention&sig=abc',
      presets,
    );
    expect(parsed.query).toEqual({
      w: 640,
      h: 480,
      fit: 'cover',
      format: 'webp',
      q: 75,
      dpr: 2,
      gravity: 'attention',
    });
    expect(parsed.sig).toBe('abc');
    expect([...parsed.signed.keys()].sort()).toEqual(
      ['dpr', 'fit', 'format', 'gravity', 'h', 'q', 'w'].sort(),
    );
  });

  it.each([
    ['w=0', '"w"'],
    ['w=8193', '"w"'],
    ['w=99999999999999999999', '"w"'],
    ['w=1.5', '"w"'],
    ['w=10&q=101', '"q"'],
    ['w=10&dpr=0.5', '"dpr"'],
    ['w=10&dpr=1.234', '"dpr"'],
    ['w=10&gravity=north', '"gravity"'],
    ['w=10&W=10', '"W"'],
    ['w=10&sig=a&sig=b', '"sig"'],
    ['preset=Thumbnail', '"preset"'],
    ['', '"w"'],
  ])('refuses %s, naming %s', (query, named) => {
    expect(problemOf(query)).toContain(named);
  });

  it('never throws anything but invalid_render_parameter, whatever the query', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseRenditionQuery(text, presets);
        } catch (error) {
          expect(isAppError(error) && error.code === 'invalid_render_parameter').toBe(true);
        }
      }),
    );
  });
});

describe('resolveRendition', () => {
  it('applies dpr, the defaults and a preset (whose parameters the URL may override)', () => {
    expect(resolveRendition({ w: 320, dpr: 2 }, resolveOptions)).toEqual({
      width: 640,
      height: undefined,
      fit: 'inside',
      format: 'jpeg',
      quality: 80,
      gravity: 'centre',
    });
    expect(resolveRendition({ preset: 'thumbnail' }, resolveOptions)).toMatchObject({
      width: 160,
      height: 160,
      fit: 'cover',
      format: 'webp',
      quality: 70,
    });
    expect(
      resolveRendition({ preset: 'thumbnail', format: 'png', q: 5 }, resolveOptions),
    ).toMatchObject({
      format: 'png',
      quality: undefined,
    });
  });

  it('gives URLs that mean the same image the same canonical text', () => {
    const a = resolveRendition(
      { w: 640, format: 'auto' },
      { ...resolveOptions, accept: 'image/webp' },
    );
    const b = resolveRendition({ w: 320, dpr: 2, format: 'webp', q: 80 }, resolveOptions);
    expect(canonicalRendition(a)).toBe(canonicalRendition(b));
  });

  it('refuses a box past RENDER_MAX_PIXELS or a side past 8192 once dpr is applied', () => {
    expect(() =>
      resolveRendition({ w: 3000, h: 3000 }, { ...resolveOptions, maxPixels: 1_000_000 }),
    ).toThrow(/RENDER_MAX_PIXELS/);
    expect(() => resolveRendition({ w: 4000, dpr: 3 }, resolveOptions)).toThrow(/"dpr"/);
  });
});

describe('formatForAccept', () => {
  it.each([
    ['image/avif,image/webp,image/apng,image/*,*/*;q=0.8', 'avif'],
    ['image/webp,*/*', 'webp'],
    ['image/avif;q=0,image/webp', 'webp'],
    ['*/*', 'jpeg'],
    [undefined, 'jpeg'],
  ])('%s gives %s', (accept, format) => {
    expect(formatForAccept(accept)).toBe(format);
  });
});
