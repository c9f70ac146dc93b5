import { describe, expect, it } from '@jest/globals';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { pino } from 'pino';
import { loadConfig, logLevels } from '../src/config.js';
import { createHttpServer } from '../src/http/server.js';
import { chooseLogFormat } from '../src/logger.js';

describe('SPOOL_DIR', () => {
  it('defaults to a folder of its own under the system temp folder', () => {
    expect(loadConfig({}).spoolDir).toBe(path.join(tmpdir(), 'image-ingest-spool'));
  });

  it('is resolved against the working directory', () => {
    expect(loadConfig({ SPOOL_DIR: 'var/spool' }, '/srv/ingest').spoolDir).toBe(
      '/srv/ingest/var/spool',
    );
  });

  it.each(['/srv/uploads', '/srv/uploads/.spool'])(
    'refuses %s, inside UPLOAD_DIR, naming SPOOL_DIR',
    (spoolDir) => {
      expect(() => loadConfig({ UPLOAD_DIR: '/srv/uploads', SPOOL_DIR: spoolDir })).toThrow(
        expect.objectContaining({ variable: 'SPOOL_DIR' }),
      );
    },
  );

  it('accepts a sibling of UPLOAD_DIR whose name merely starts the same', () => {
    const config = loadConfig({ UPLOAD_DIR: '/srv/uploads', SPOOL_DIR: '/srv/uploads-spool' });
    expect(config.spoolDir).toBe('/srv/uploads-spool');
  });
});

const gcs = { STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'my-images' };

describe('GCS_CHUNK_BYTES', () => {
  it('defaults to 4 MiB', () => {
    const config = loadConfig(gcs);
    expect(config.storage).toMatchObject({ driver: 'gcs', chunkBytes: 4 * 1024 * 1024 });
  });

  it('accepts a multiple of 256 KiB', () => {
    const config = loadConfig({ ...gcs, GCS_CHUNK_BYTES: String(3 * 256 * 1024) });
    expect(config.storage).toMatchObject({ chunkBytes: 3 * 256 * 1024 });
  });

  it.each(['300000', '0', '100', 'lots'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ ...gcs, GCS_CHUNK_BYTES: value })).toThrow(/GCS_CHUNK_BYTES/);
  });
});

describe('staging (STAGING_PREFIX, UPLOAD_EXPIRES_SECONDS, SWEEP_INTERVAL_SECONDS)', () => {
  it('defaults to staging/, 24 hours and 10 minutes; direct URLs 10 minutes', () => {
    expect(loadConfig(gcs).staging).toEqual({
      prefix: 'staging/',
      uploadExpiresSeconds: 86_400,
      sweepIntervalSeconds: 600,
      directExpiresSeconds: 600,
      directSecret: undefined,
    });
  });

  it('takes a nested prefix and a sweep turned off', () => {
    const config = loadConfig({
      ...gcs,
      STAGING_PREFIX: 'private/staging/',
      SWEEP_INTERVAL_SECONDS: '0',
    });
    expect(config.staging).toMatchObject({ prefix: 'private/staging/', sweepIntervalSeconds: 0 });
  });

  it.each(['staging', '/staging/', '0abc/', 'a//', 'Staging/', '../x/', 'a/../'])(
    'refuses the prefix %s, naming STAGING_PREFIX',
    (value) => {
      expect(() => loadConfig({ ...gcs, STAGING_PREFIX: value })).toThrow(/STAGING_PREFIX/);
    },
  );

  it.each(['0', '-5', 'a day', String(31 * 86_400)])(
    'refuses an expiry of %s, naming UPLOAD_EXPIRES_SECONDS',
    (value) => {
      expect(() => loadConfig({ UPLOAD_EXPIRES_SECONDS: value })).toThrow(/UPLOAD_EXPIRES_SECONDS/);
    },
  );
});

describe('multipart limits', () => {
  it('defaults to 20 fields of 16 KiB in at most 50 parts', () => {
    expect(loadConfig({}).multipart).toMatchObject({
      maxFields: 20,
      maxFieldBytes: 16 * 1024,
      maxParts: 50,
    });
  });

  it('bounds the multipart body by the image itself, not its base64, plus the fields and parts', () => {
    const config = loadConfig({
      MAX_IMAGE_BYTES: '1000000',
      MULTIPART_MAX_FIELDS: '2',
      MULTIPART_MAX_FIELD_BYTES: '100',
      MULTIPART_MAX_PARTS: '4',
    });
    expect(config.multipart.maxBodyBytes).toBe(1_000_000 + 2 * 100 + 4 * 1024);
    expect(config.multipart.maxBodyBytes).toBeLessThan(config.maxBodyBytes);
  });

  it('takes zero text fields', () => {
    expect(
      loadConfig({ MULTIPART_MAX_FIELDS: '0', MULTIPART_MAX_PARTS: '1' }).multipart,
    ).toMatchObject({ maxFields: 0, maxParts: 1 });
  });

  it.each([
    ['MULTIPART_MAX_FIELDS', 'many'],
    ['MULTIPART_MAX_FIELDS', '1001'],
    ['MULTIPART_MAX_FIELD_BYTES', '0'],
    ['MULTIPART_MAX_FIELD_BYTES', '-1'],
    ['MULTIPART_MAX_FIELD_BYTES', String(1024 * 1024 + 1)],
    ['MULTIPART_MAX_PARTS', '0'],
    ['MULTIPART_MAX_PARTS', '1.5'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(expect.objectContaining({ variable }));
  });

  it('refuses fewer parts than text fields plus the file, naming MULTIPART_MAX_PARTS', () => {
    expect(() => loadConfig({ MULTIPART_MAX_FIELDS: '10', MULTIPART_MAX_PARTS: '10' })).toThrow(
      expect.objectContaining({ variable: 'MULTIPART_MAX_PARTS' }),
    );
  });
});

describe('IMAGE_VARIANTS', () => {
  it('defaults to no variants, WebP at quality 80, no placeholders, metadata stripped', () => {
    const config = loadConfig({});
    expect(config.variants).toMatchObject({
      specs: [],
      format: 'webp',
      quality: 80,
      placeholders: false,
    });
    expect(config.variants.concurrency).toBeGreaterThanOrEqual(1);
    expect(config.imageMetadata).toBe('strip');
  });

  it('reads name:W, name:WxH and name:WxH:fit entries in order', () => {
    const config = loadConfig({
      IMAGE_VARIANTS: ' thumbnail:320x320:cover, small:640 ,large:1600x1200:contain,',
    });
    expect(config.variants.specs).toEqual([
      { name: 'thumbnail', width: 320, height: 320, fit: 'cover' },
      { name: 'small', width: 640, height: 640, fit: 'inside' },
      { name: 'large', width: 1600, height: 1200, fit: 'contain' },
    ]);
  });

  it('turns placeholders on by default once variants are made at upload', () => {
    const eager = { IMAGE_VARIANTS: 'small:640', IMAGE_VARIANTS_EAGER: 'true' };
    expect(loadConfig(eager).variants.placeholders).toBe(true);
    // Presets alone (rendered when asked for) cost an upload nothing: no placeholder either.
    expect(loadConfig({ IMAGE_VARIANTS: 'small:640' }).variants).toMatchObject({
      eager: false,
      placeholders: false,
    });
    const off = loadConfig({ ...eager, IMAGE_PLACEHOLDERS: 'off' });
    expect(off.variants.placeholders).toBe(false);
    expect(loadConfig({ IMAGE_PLACEHOLDERS: 'on' }).variants.placeholders).toBe(true);
  });

  it.each([
    ['a duplicate name', 'small:640,small:320', /more than once/],
    ['a zero side', 'small:0', /between 1 and 8192/],
    ['a huge side', 'small:640x9000', /between 1 and 8192/],
    ['an unknown fit', 'small:640:fill', /fit must be one of inside, cover, contain/],
    ['a bad name', 'Small:640', /name must be/],
    ['a name too long', `${'a'.repeat(33)}:640`, /name must be/],
    ['no size', 'small', /expected name:W/],
    ['a bad size', 'small:640x', /expected name:W/],
    ['too many parts', 'small:640:cover:extra', /expected name:W/],
    ['nine variants', 'a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1', /at most 8/],
  ])('refuses %s, naming IMAGE_VARIANTS', (_, value, problem) => {
    expect(() => loadConfig({ IMAGE_VARIANTS: value })).toThrow(
      expect.objectContaining({
        variable: 'IMAGE_VARIANTS',
        message: expect.stringMatching(problem),
      }),
    );
  });
});

describe('IMAGE_VARIANT_FORMAT and IMAGE_VARIANT_QUALITY', () => {
  it.each([
    ['webp', 80],
    ['avif', 50],
    ['JPEG', 80],
  ])('%s defaults to quality %i', (format, quality) => {
    const config = loadConfig({ IMAGE_VARIANT_FORMAT: format });
    expect(config.variants).toMatchObject({ format: format.toLowerCase(), quality });
  });

  it('takes a quality of its own', () => {
    expect(loadConfig({ IMAGE_VARIANT_QUALITY: '65' }).variants.quality).toBe(65);
  });

  it('refuses an unknown format, naming IMAGE_VARIANT_FORMAT', () => {
    expect(() => loadConfig({ IMAGE_VARIANT_FORMAT: 'png' })).toThrow(
      expect.objectContaining({ variable: 'IMAGE_VARIANT_FORMAT' }),
    );
  });

  it.each(['0', '101', 'high'])('refuses quality %s, naming IMAGE_VARIANT_QUALITY', (value) => {
    expect(() => loadConfig({ IMAGE_VARIANT_QUALITY: value })).toThrow(/IMAGE_VARIANT_QUALITY/);
  });
});

describe('IMAGE_PLACEHOLDERS, IMAGE_VARIANT_CONCURRENCY and IMAGE_METADATA', () => {
  it('refuses anything but on or off, naming IMAGE_PLACEHOLDERS', () => {
    expect(() => loadConfig({ IMAGE_PLACEHOLDERS: 'yes' })).toThrow(
      expect.objectContaining({ variable: 'IMAGE_PLACEHOLDERS' }),
    );
  });

  it('takes a concurrency, and refuses 0 naming IMAGE_VARIANT_CONCURRENCY', () => {
    expect(loadConfig({ IMAGE_VARIANT_CONCURRENCY: '3' }).variants.concurrency).toBe(3);
    expect(() => loadConfig({ IMAGE_VARIANT_CONCURRENCY: '0' })).toThrow(
      /IMAGE_VARIANT_CONCURRENCY/,
    );
  });

  it('takes HEIC_DECODER wasm (the default) or native, naming it otherwise', () => {
    expect(loadConfig({}).heicDecoder).toBe('wasm');
    expect(loadConfig({ HEIC_DECODER: 'Native' }).heicDecoder).toBe('native');
    expect(() => loadConfig({ HEIC_DECODER: 'vips' })).toThrow(
      expect.objectContaining({ variable: 'HEIC_DECODER' }),
    );
  });

  it('keeps the name "display" for the display rendition, naming IMAGE_VARIANTS', () => {
    expect(() => loadConfig({ IMAGE_VARIANTS: 'display:640' })).toThrow(
      expect.objectContaining({ variable: 'IMAGE_VARIANTS' }),
    );
  });

  it('takes keep, and refuses anything but strip or keep, naming IMAGE_METADATA', () => {
    expect(loadConfig({ IMAGE_METADATA: 'keep' }).imageMetadata).toBe('keep');
    expect(() => loadConfig({ IMAGE_METADATA: 'some' })).toThrow(
      expect.objectContaining({ variable: 'IMAGE_METADATA' }),
    );
  });

  it('refuses to strip a type without a lossless route, naming ALLOWED_TYPES', () => {
    // TIFF keeps its metadata in the IFDs that point at its pixels: no lossless route.
    const tiff = { ALLOWED_TYPES: 'image/png,image/tiff' };
    expect(() => loadConfig(tiff)).toThrow(
      expect.objectContaining({
        variable: 'ALLOWED_TYPES',
        message: expect.stringMatching(/tiff/),
      }),
    );
    expect(loadConfig({ ...tiff, IMAGE_METADATA: 'keep' }).allowedTypes).toContain('image/tiff');
    // JPEG, PNG, GIF, WebP, AVIF, HEIC and HEIF are stripped losslessly.
    const all = 'image/jpeg,image/png,image/gif,image/webp,image/avif,image/heic,image/heif';
    expect(loadConfig({ ALLOWED_TYPES: all }).imageMetadata).toBe('strip');
  });

  it('allows HEIC and HEIF by default where the validation mode can verify them', () => {
    const structure = loadConfig({ IMAGE_VALIDATION: 'structure' }).allowedTypes;
    expect(structure).toEqual(expect.arrayContaining(['image/heic', 'image/heif', 'image/jpeg']));
    expect(
      loadConfig({ IMAGE_VALIDATION: 'structure', ALLOWED_TYPES: 'image/heic' }).imageMetadata,
    ).toBe('strip');
    // Decode mode verifies them too (src/images/codecs/heif/ decodes HEVC): in its defaults,
    // and allowed when asked for.
    expect(loadConfig({}).allowedTypes).toEqual(
      expect.arrayContaining(['image/heic', 'image/heif', 'image/jpeg']),
    );
    expect(loadConfig({ ALLOWED_TYPES: 'image/heic,image/heif' }).allowedTypes).toEqual([
      'image/heic',
      'image/heif',
    ]);
    // Image sequences: no mode verifies their tracks.
    expect(() =>
      loadConfig({ IMAGE_VALIDATION: 'structure', ALLOWED_TYPES: 'image/heic-sequence' }),
    ).toThrow(expect.objectContaining({ variable: 'ALLOWED_TYPES' }));
  });
});

describe('values that would fail later are refused at load, naming the variable', () => {
  it.each([
    [{ REQUEST_TIMEOUT_MS: '1000' }, 'REQUEST_TIMEOUT_MS'],
    [{ REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '5001' }, 'REQUEST_TIMEOUT_MS'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ API_KEYS: 'k_live_with a space_0123456789' }, 'API_KEYS'],
    [{ API_KEYS: 'k_live_ключ_0123456789abcdef' }, 'API_KEYS'],
    [{ NODE_ENV: 'Production' }, 'ALLOW_ANONYMOUS'],
    [{ NODE_ENV: 'PRODUCTION' }, 'ALLOW_ANONYMOUS'],
    [{ NODE_ENV: ' production ' }, 'ALLOW_ANONYMOUS'],
    [{ NODE_ENV: 'prod' }, 'NODE_ENV'],
    [{ NODE_ENV: 'Prod', API_KEYS: 'k_live_0123456789abcdef' }, 'NODE_ENV'],
    [{ HOST: 'not a host' }, 'HOST'],
    [{ HOST: 'http://0.0.0.0' }, 'HOST'],
    [{ SEND_TIMEOUT_MS: '0' }, 'SEND_TIMEOUT_MS'],
    [{ SEND_TIMEOUT_MS: '30s' }, 'SEND_TIMEOUT_MS'],
    [{ MAX_SERVED_FILES: '0' }, 'MAX_SERVED_FILES'],
  ] as [Record<string, string>, string][])('refuses %j, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(expect.objectContaining({ variable }));
  });

  it('never prints an API key it refuses', () => {
    expect(() => loadConfig({ API_KEYS: 'k_live_has blank_0123456789' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('has blank') }),
    );
  });

  it('takes every pino level in any case, and starts a server with timeouts that meet', () => {
    const config = loadConfig({
      LOG_LEVEL: 'DEBUG',
      REQUEST_TIMEOUT_MS: '1000',
      HEADERS_TIMEOUT_MS: '1000',
    });
    expect(config.logLevel).toBe('debug');
    for (const level of logLevels) expect(pino({ level }).level).toBe(level);
    const server = createHttpServer(new Koa(), config.security);
    expect(server.requestTimeout).toBe(1000);
  });

  it.each(['::', '127.0.0.1', 'localhost', 'image-ingest.internal'])('takes HOST=%s', (host) => {
    expect(loadConfig({ HOST: host }).host).toBe(host);
  });

  it('runs open outside production (NODE_ENV=staging), pretty only outside production', () => {
    expect(loadConfig({ NODE_ENV: 'staging' }).security.auth.anonymous).toBe(true);
    expect(chooseLogFormat({ NODE_ENV: 'Production' }, true)).toBe(false);
    expect(chooseLogFormat({ NODE_ENV: 'development' }, true)).toBe(true);
  });
});

describe('renditions (RENDER_*)', () => {
  const key = 'k'.repeat(32);
  const production = { NODE_ENV: 'production', API_KEYS: 'a'.repeat(32) };

  it('reads the keys, widths and limits, with defaults', () => {
    expect(loadConfig({}).renditions).toEqual({
      signingKeys: [],
      maxPixels: 16_777_216,
      widths: [320, 640, 960, 1280, 1920],
      baseUrl: undefined,
    });
    const config = loadConfig({
      RENDER_SIGNING_KEYS: ` ${key}, ${'o'.repeat(40)} `,
      RENDER_WIDTHS: '640,320,640',
      RENDER_MAX_PIXELS: '1000000',
      RENDER_BASE_URL: 'https://images.example.com/',
    });
    expect(config.renditions).toEqual({
      signingKeys: [key, 'o'.repeat(40)],
      maxPixels: 1_000_000,
      widths: [320, 640],
      baseUrl: 'https://images.example.com',
    });
  });

  it('refuses to start in production with unsigned renditions, unless told to', () => {
    expect(() => loadConfig(production)).toThrow(
      expect.objectContaining({ variable: 'RENDER_SIGNING_KEYS' }),
    );
    expect(
      loadConfig({ ...production, RENDER_ALLOW_UNSIGNED: 'true' }).renditions.signingKeys,
    ).toEqual([]);
    expect(loadConfig({ ...production, RENDER_SIGNING_KEYS: key }).renditions.signingKeys).toEqual([
      key,
    ]);
  });

  it.each([
    ['RENDER_SIGNING_KEYS', 'short'],
    ['RENDER_ALLOW_UNSIGNED', 'yes'],
    ['RENDER_WIDTHS', '320,abc'],
    ['RENDER_WIDTHS', '0'],
    ['RENDER_WIDTHS', '9000'],
    ['RENDER_MAX_PIXELS', '0'],
    ['IMAGE_VARIANTS_EAGER', 'on'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(expect.objectContaining({ variable }));
  });
});
