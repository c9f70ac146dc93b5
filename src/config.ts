import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  decodeCheckedTypes,
  defaultAllowedTypes,
  isKnownImageType,
  knownImageTypes,
  losslesslyStrippableTypes,
  structureCheckedTypes,
  type ImageMimeType,
} from './images/image-types.js';
import {
  isMetadataMode,
  isVariantFormat,
  maxVariantSide,
  metadataModes,
  parseVariantSpecs,
  variantFormats,
  VariantSpecError,
  type MetadataMode,
  type VariantFormat,
  type VariantSpec,
} from './images/variant-spec.js';
import { displayRendition } from './images/display-rendition.js';
import { heifDecoderKinds, type HeifDecoderKind } from './images/codecs/heif/heif-decoder.js';

/**
 * Configuration is read once, from an environment object handed in (never from process.env
 * at import time), validated, and returned typed. Every error names the variable at fault.
 */

export interface LocalStorageConfig {
  readonly driver: 'local';
  readonly uploadDir: string;
}

export interface GcsStorageConfig {
  readonly driver: 'gcs';
  readonly bucket: string;
  readonly projectId: string | undefined;
  /** Points the client at an emulator; credentials are then not needed. */
  readonly apiEndpoint: string | undefined;
  /**
   * Size of one request of a streamed (resumable) upload (GCS_CHUNK_BYTES): a multiple of
   * 256 KiB, as GCS requires of every chunk but the last. Each streamed upload holds at most
   * two chunks in memory.
   */
  readonly chunkBytes: number;
  /**
   * GCS_STAGING_BUCKET: a private bucket for staged (unverified) uploads; unset, they go
   * under STAGING_PREFIX in GCS_BUCKET (docs/operations.md says what that costs).
   */
  readonly stagingBucket: string | undefined;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  /** LOG_LEVEL: one of pino's levels (logLevels), `info` by default. */
  readonly logLevel: LogLevel;
  /** Base of the URLs handed back; undefined means "the store's own public URL". */
  readonly publicBaseUrl: string | undefined;
  readonly maxImageBytes: number;
  /**
   * The largest request body accepted: the base64 text of a maximum-size image, with room for
   * line breaks every 76 characters, JSON escapes, and the other members of the object.
   */
  readonly maxBodyBytes: number;
  /** Bytes of JSON allowed outside the data string (other members, keys, whitespace). */
  readonly maxJsonOverheadBytes: number;
  readonly allowedTypes: readonly ImageMimeType[];
  /**
   * Images up to this size are held in memory and written in one retryable request; larger
   * ones are streamed to the store as they arrive.
   */
  readonly streamingThresholdBytes: number;
  readonly storage: LocalStorageConfig | GcsStorageConfig;
  /**
   * IMAGE_VALIDATION=decode: where a streamed image is written as it passes, for sharp to
   * decode from disk (SPOOL_DIR). Created, and cleared of a crash's leftovers, at start-up.
   */
  readonly spoolDir: string;
  /**
   * Budget for one store call, retries and backoff included (STORE_TIMEOUT_MS); it must fit
   * inside the HTTP request's own deadline. When it runs out the client gets a 503.
   */
  readonly storeTimeoutMs: number;
  /** Budget for one attempt of a store call (STORE_ATTEMPT_TIMEOUT_MS), at most the above. */
  readonly storeAttemptTimeoutMs: number;
  /** How long GET /readyz waits for the store (READY_TIMEOUT_MS). */
  readonly readyTimeoutMs: number;
  /** After SIGTERM: readiness says 503 for this long before the listener closes. */
  readonly shutdownDelayMs: number;
  /** After the listener closes: how long in-flight uploads get to finish. */
  readonly shutdownGraceMs: number;
  readonly security: SecurityConfig;
  /** Bounds on a multipart/form-data upload beside the image's own MAX_IMAGE_BYTES. */
  readonly multipart: MultipartConfig;
  /** Resized copies of each image, and its placeholder (src/images/variants.ts). */
  readonly variants: VariantsConfig;
  /**
   * HEIC_DECODER: `wasm` (the default, libheif-js in worker threads, from npm alone) or
   * `native` (Debian's heif-convert, which must then be installed). src/images/codecs/heif/.
   */
  readonly heicDecoder: HeifDecoderKind;
  /** IMAGE_METADATA: whether a stored original keeps its EXIF/XMP/ICC (`keep`) or not. */
  readonly imageMetadata: MetadataMode;
  /** Uploads received before they are verified (tus, direct-to-bucket): never public. */
  readonly staging: StagingConfig;
  /**
   * UPLOADER_SECRET: the HMAC key of anonymous uploads' delete tokens and of the uploader
   * digest each image keeps (src/ingest/uploader-keys.ts). Unset: the local driver keeps a
   * generated one in UPLOAD_DIR; GCS outside production makes one per process; GCS in
   * production refuses to start without it.
   */
  readonly uploaderSecret: string | undefined;
  /** On-demand renditions (GET /v1/images/{id}/render, src/renditions/). */
  readonly renditions: RenditionsConfig;
}

export interface RenditionsConfig {
  /**
   * RENDER_SIGNING_KEYS, comma-separated: URLs are signed with the first, any is accepted.
   * Empty: unsigned URLs are accepted (development, or RENDER_ALLOW_UNSIGNED=true).
   */
  readonly signingKeys: readonly string[];
  /** RENDER_MAX_PIXELS: pixels of one rendition at most (its box, and its output). */
  readonly maxPixels: number;
  /** RENDER_WIDTHS: the widths every image answer lists signed URLs for (its srcset). */
  readonly widths: readonly number[];
  /** RENDER_BASE_URL: where the render route is reached; unset, the request's own origin. */
  readonly baseUrl: string | undefined;
}

export interface StagingConfig {
  /**
   * STAGING_PREFIX: where staged bytes live in the bucket (GCS), e.g. `staging/`; never a
   * public name. Direct uploads go under `<prefix>direct/`. The local driver keeps them under
   * `<UPLOAD_DIR>/.staging/`, which is never served.
   */
  readonly prefix: string;
  /** UPLOAD_EXPIRES_SECONDS: how long an unfinished resumable (tus) upload is kept. */
  readonly uploadExpiresSeconds: number;
  /** SWEEP_INTERVAL_SECONDS: how often expired staged uploads are removed; 0 turns it off. */
  readonly sweepIntervalSeconds: number;
  /**
   * DIRECT_UPLOAD_EXPIRES_SECONDS: how long a direct upload's URL (signed PUT or resumable
   * session) may be started; `complete` is taken for as long again, for a transfer under way.
   */
  readonly directExpiresSeconds: number;
  /**
   * DIRECT_UPLOAD_SECRET: the HMAC key of the local driver's upload URLs. Unset: one is
   * generated and kept in the staging folder, so instances sharing a disk agree.
   */
  readonly directSecret: string | undefined;
}

export interface VariantsConfig {
  /**
   * IMAGE_VARIANTS, in the order listed: the presets of the renderer (GET
   * /v1/images/{id}/render?preset=name). Empty (the default): none.
   */
  readonly specs: readonly VariantSpec[];
  /**
   * IMAGE_VARIANTS_EAGER: also make them at upload, as stored variants (off by default, so an
   * upload costs what storing costs; a preset is then rendered when it is first asked for).
   */
  readonly eager: boolean;
  /** IMAGE_VARIANT_FORMAT: webp (the default), avif or jpeg. */
  readonly format: VariantFormat;
  /** IMAGE_VARIANT_QUALITY, 1 to 100; by default 80 for WebP and JPEG, 50 for AVIF. */
  readonly quality: number;
  /** IMAGE_PLACEHOLDERS: on by default when variants are made eagerly, off otherwise. */
  readonly placeholders: boolean;
  /**
   * IMAGE_VARIANT_CONCURRENCY: images whose variants are made at once in this process (the
   * others wait their turn); by default the number of CPUs.
   */
  readonly concurrency: number;
}

export interface MultipartConfig {
  /** Text fields a form may carry beside its file (MULTIPART_MAX_FIELDS). */
  readonly maxFields: number;
  /** Bytes of one text field's value (MULTIPART_MAX_FIELD_BYTES). */
  readonly maxFieldBytes: number;
  /** Parts of any kind in one form, the file parts included (MULTIPART_MAX_PARTS). */
  readonly maxParts: number;
  /**
   * The largest multipart request body: the image itself (no base64 here) plus every text
   * field at its largest, plus multipartPartOverheadBytes of delimiter and headers per part.
   * Config.maxBodyBytes is the JSON body's bound and does not apply.
   */
  readonly maxBodyBytes: number;
}

/**
 * Delimiter and headers of one part as browsers and curl write them take 150 to 300 bytes;
 * this leaves room for a long filename. Busboy's own bound on a part's headers is 16 KiB.
 */
export const multipartPartOverheadBytes = 1024;

export type ImageValidationMode = 'decode' | 'structure';

export interface AuthConfig {
  /** SHA-256 digests of the accepted API keys (plain keys are hashed on load). */
  readonly apiKeyHashes: readonly Buffer[];
  /** HS256 secret for JWTs issued by the web frontend's backend. */
  readonly jwtSecret: Uint8Array | undefined;
  readonly jwtJwksUrl: string | undefined;
  readonly jwtIssuer: string | undefined;
  readonly jwtAudience: string | undefined;
  /**
   * JWT_MAX_AGE_SECONDS: a token issued (`iat`) longer ago than this is refused, and `iat` is
   * required; 0 turns the bound off (a token without `exp` then never expires).
   */
  readonly jwtMaxAgeSeconds: number;
  /** True when no credentials are configured and the service runs open. */
  readonly anonymous: boolean;
}

export interface SecurityConfig {
  readonly auth: AuthConfig;
  readonly corsOrigins: readonly string[];
  /** Requests per minute per caller; 0 turns rate limiting off. */
  readonly rateLimitPerMinute: number;
  /** Shared rate-limit counts for several instances; in memory when unset. */
  readonly redisUrl: string | undefined;
  /** REDIS_CONNECT_TIMEOUT_MS: how long one attempt to connect to Redis may take. */
  readonly redisConnectTimeoutMs: number;
  /** REDIS_COMMAND_TIMEOUT_MS: how long a count waits for Redis before the instance counts alone. */
  readonly redisCommandTimeoutMs: number;
  /** How many reverse proxies in front of the service append to X-Forwarded-For. */
  readonly trustedProxyCount: number;
  readonly maxImagePixels: number;
  readonly maxConcurrentUploads: number;
  /** MAX_OPEN_UPLOADS_PER_CALLER: tus and direct uploads a caller may hold open; 0 is no limit. */
  readonly maxOpenUploadsPerCaller: number;
  readonly imageValidation: ImageValidationMode;
  /** Sharp's time limit for decoding one image. */
  readonly decodeTimeoutSeconds: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /**
   * How long an answer carrying a stored file may make no progress, the client reading
   * nothing, before its connection is cut (SEND_TIMEOUT_MS, as nginx's send_timeout).
   */
  readonly sendTimeoutMs: number;
  /**
   * Stored files open for serving at one time (MAX_SERVED_FILES); more requests wait for a
   * place, holding no file, so clients cannot run the process out of descriptors.
   */
  readonly maxServedFiles: number;
  /**
   * After an answer sent before the request body was read to its end, how long the rest of
   * the body is still read and discarded before the connection is cut (LINGERING_TIME_MS, as
   * nginx's lingering_time); 0 closes at once, and the client may then see a reset instead.
   */
  readonly lingeringTimeMs: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function readUrl(env: Env, name: string): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http or https URL, got "${raw}"`);
  }
  if (url.search || url.hash) {
    throw new ConfigError(name, 'must not carry a query string or fragment');
  }
  return raw.replace(/\/+$/, '');
}

function readAllowedTypes(
  env: Env,
  verifiable: readonly ImageMimeType[],
): readonly ImageMimeType[] {
  const raw = read(env, 'ALLOWED_TYPES');
  // The defaults the validation mode can verify: HEIC and HEIF are in both (their structure is
  // walked; src/images/codecs/heif/ decodes them).
  if (raw === undefined) return defaultAllowedTypes.filter((type) => verifiable.includes(type));
  const types = raw
    .split(',')
    .map((type) => type.trim().toLowerCase())
    .filter((type) => type !== '');
  if (types.length === 0) throw new ConfigError('ALLOWED_TYPES', 'must name at least one type');
  for (const type of types) {
    if (!isKnownImageType(type)) {
      throw new ConfigError(
        'ALLOWED_TYPES',
        `names "${type}", which is not a raster image type this service can verify ` +
          `(known: ${Object.keys(knownImageTypes).join(', ')})`,
      );
    }
  }
  return [...new Set(types)] as ImageMimeType[];
}

/** pino's level names, the values LOG_LEVEL takes. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

function readLogLevel(env: Env): LogLevel {
  const level = read(env, 'LOG_LEVEL')?.toLowerCase() ?? 'info';
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${logLevels.join(', ')}, got "${level}"`);
  }
  return level as LogLevel;
}

/** Whether a NODE_ENV value names production, in any case: `Production` was meant as it. */
export function namesProduction(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'production';
}

/**
 * Whether NODE_ENV says production, where the service refuses to start open. A short
 * spelling of it is refused rather than guessed either way.
 */
function isProduction(env: Env): boolean {
  const value = read(env, 'NODE_ENV')?.toLowerCase();
  if (value === 'prod' || value === 'prd') {
    throw new ConfigError(
      'NODE_ENV',
      `must be spelled "production" to mean production, got "${value}"`,
    );
  }
  return namesProduction(value);
}

function readHost(env: Env): string {
  const host = read(env, 'HOST') ?? '0.0.0.0';
  // An address, or a name the resolver can look up; anything else fails only at listen().
  const hostname =
    /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/i;
  if (isIP(host) === 0 && !hostname.test(host)) {
    throw new ConfigError('HOST', `must be an IP address or a host name, got "${host}"`);
  }
  return host;
}

const base64LineOverhead = 4 / 76; // "\r\n" escaped in JSON is four bytes per 76-character line

export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const port = readInteger(env, 'PORT', 3000, 0, 65535);
  const host = readHost(env);
  const logLevel = readLogLevel(env);
  const maxImageBytes = readInteger(env, 'MAX_IMAGE_BYTES', 10 * 1024 * 1024, 1, 2 ** 32);
  const maxJsonOverheadBytes = 64 * 1024;
  const base64Length = Math.ceil(maxImageBytes / 3) * 4;
  const maxBodyBytes =
    base64Length + Math.ceil(base64Length * base64LineOverhead) + maxJsonOverheadBytes;

  const driver = read(env, 'STORAGE_DRIVER') ?? 'local';
  let storage: Config['storage'];
  if (driver === 'local') {
    storage = {
      driver,
      uploadDir: path.resolve(cwd, read(env, 'UPLOAD_DIR') ?? './uploads'),
    };
  } else if (driver === 'gcs') {
    const bucket = read(env, 'GCS_BUCKET');
    if (bucket === undefined) {
      throw new ConfigError('GCS_BUCKET', 'is required when STORAGE_DRIVER=gcs');
    }
    if (!isBucketName(bucket)) {
      throw new ConfigError('GCS_BUCKET', `is not a valid bucket name: "${bucket}"`);
    }
    const stagingBucket = read(env, 'GCS_STAGING_BUCKET');
    if (stagingBucket !== undefined && !isBucketName(stagingBucket)) {
      throw new ConfigError('GCS_STAGING_BUCKET', `is not a valid bucket name: "${stagingBucket}"`);
    }
    storage = {
      driver,
      bucket,
      projectId: read(env, 'GCS_PROJECT_ID'),
      apiEndpoint: readUrl(env, 'GCS_API_ENDPOINT'),
      chunkBytes: readChunkBytes(env),
      stagingBucket,
    };
  } else {
    throw new ConfigError('STORAGE_DRIVER', `must be "local" or "gcs", got "${driver}"`);
  }

  const spoolDir = path.resolve(
    cwd,
    read(env, 'SPOOL_DIR') ?? path.join(os.tmpdir(), 'image-ingest-spool'),
  );
  if (storage.driver === 'local' && isSameOrInside(spoolDir, storage.uploadDir)) {
    // Spool files there would sit among the stored objects, and be listed as if they were.
    throw new ConfigError('SPOOL_DIR', `must be outside UPLOAD_DIR (${storage.uploadDir})`);
  }

  let publicBaseUrl = readUrl(env, 'PUBLIC_BASE_URL');
  if (publicBaseUrl === undefined && storage.driver === 'local') {
    // The local driver serves its own files, so its URLs must point back at this server.
    const displayHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
    publicBaseUrl = `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}`;
  }

  const security = loadSecurityConfig(env);
  const verifiable =
    security.imageValidation === 'decode' ? decodeCheckedTypes : structureCheckedTypes;
  const allowedTypes = readAllowedTypes(env, verifiable);
  const unverifiable = allowedTypes.filter((type) => !verifiable.includes(type));
  if (unverifiable.length > 0) {
    // Name the setting to change: the mode if the other one could verify them, else the list.
    const otherMode = security.imageValidation === 'decode' ? 'structure' : 'decode';
    const otherVerifiable = otherMode === 'decode' ? decodeCheckedTypes : structureCheckedTypes;
    const fixByMode = unverifiable.every((type) => otherVerifiable.includes(type));
    throw new ConfigError(
      fixByMode ? 'IMAGE_VALIDATION' : 'ALLOWED_TYPES',
      `does not fit: IMAGE_VALIDATION=${security.imageValidation} cannot verify ${unverifiable.join(', ')}` +
        (fixByMode ? `; use IMAGE_VALIDATION=${otherMode}` : '; remove them from ALLOWED_TYPES'),
    );
  }
  const imageMetadata = readMetadataMode(env);
  if (imageMetadata === 'strip') {
    // Publishing such a type would publish its EXIF as sent: refuse to start instead.
    const unstrippable = allowedTypes.filter((type) => !losslesslyStrippableTypes.includes(type));
    if (unstrippable.length > 0) {
      throw new ConfigError(
        'ALLOWED_TYPES',
        `does not fit IMAGE_METADATA=strip: ${unstrippable.join(', ')} cannot be stored without ` +
          'their metadata (no lossless route); remove them or set IMAGE_METADATA=keep',
      );
    }
  }
  const storeTimeoutMs = readInteger(env, 'STORE_TIMEOUT_MS', 20_000, 100, 10 * 60_000);
  const storeAttemptTimeoutMs = readInteger(
    env,
    'STORE_ATTEMPT_TIMEOUT_MS',
    Math.min(10_000, storeTimeoutMs),
    50,
    10 * 60_000,
  );
  if (storeAttemptTimeoutMs > storeTimeoutMs) {
    throw new ConfigError(
      'STORE_ATTEMPT_TIMEOUT_MS',
      `must not exceed STORE_TIMEOUT_MS (${storeTimeoutMs}), got ${storeAttemptTimeoutMs}`,
    );
  }

  return {
    port,
    host,
    logLevel,
    storeTimeoutMs,
    storeAttemptTimeoutMs,
    readyTimeoutMs: readInteger(env, 'READY_TIMEOUT_MS', 2_000, 50, 60_000),
    shutdownDelayMs: readInteger(env, 'SHUTDOWN_DELAY_MS', 0, 0, 10 * 60_000),
    shutdownGraceMs: readInteger(env, 'SHUTDOWN_GRACE_MS', 25_000, 0, 60 * 60_000),
    publicBaseUrl,
    maxImageBytes,
    maxBodyBytes,
    maxJsonOverheadBytes,
    allowedTypes,
    streamingThresholdBytes: readInteger(
      env,
      'STREAMING_THRESHOLD_BYTES',
      4 * 1024 * 1024,
      0,
      2 ** 30,
    ),
    storage,
    spoolDir,
    security,
    multipart: loadMultipartConfig(env, maxImageBytes),
    variants: loadVariantsConfig(env),
    heicDecoder: readHeicDecoder(env),
    imageMetadata,
    staging: loadStagingConfig(env),
    uploaderSecret: readUploaderSecret(env, storage.driver),
    renditions: loadRenditionsConfig(env),
  };
}

function loadRenditionsConfig(env: Env): RenditionsConfig {
  const signingKeys = readList(env, 'RENDER_SIGNING_KEYS');
  if (signingKeys.some((key) => Buffer.byteLength(key, 'utf8') < 32)) {
    throw new ConfigError('RENDER_SIGNING_KEYS', 'must hold keys of at least 32 bytes each');
  }
  const allowUnsigned = readBoolean(env, 'RENDER_ALLOW_UNSIGNED');
  if (signingKeys.length === 0 && isProduction(env) && allowUnsigned !== true) {
    // Unsigned, anyone could make the server render every size of every image.
    throw new ConfigError(
      'RENDER_SIGNING_KEYS',
      'must be set when NODE_ENV=production (or RENDER_ALLOW_UNSIGNED=true to accept unsigned renditions)',
    );
  }
  const widthsText = read(env, 'RENDER_WIDTHS') ?? '320,640,960,1280,1920';
  const widths = widthsText.split(',').map((text) => {
    const width = text.trim();
    if (!/^[0-9]{1,5}$/.test(width) || Number(width) < 1 || Number(width) > maxVariantSide) {
      throw new ConfigError(
        'RENDER_WIDTHS',
        `must be comma-separated widths from 1 to ${maxVariantSide}, got "${widthsText}"`,
      );
    }
    return Number(width);
  });
  return {
    signingKeys,
    maxPixels: readInteger(env, 'RENDER_MAX_PIXELS', 16_777_216, 1, maxVariantSide ** 2),
    widths: [...new Set(widths)].sort((a, b) => a - b),
    baseUrl: readUrl(env, 'RENDER_BASE_URL'),
  };
}

function readUploaderSecret(env: Env, driver: Config['storage']['driver']): string | undefined {
  const secret = read(env, 'UPLOADER_SECRET');
  if (secret !== undefined && Buffer.byteLength(secret, 'utf8') < 32) {
    throw new ConfigError('UPLOADER_SECRET', 'must be at least 32 bytes long');
  }
  if (secret === undefined && driver === 'gcs' && isProduction(env)) {
    // No folder every instance shares to keep a generated one in: each would make its own,
    // and a token or an ownership would hold only on the instance that made it.
    throw new ConfigError(
      'UPLOADER_SECRET',
      'is required with STORAGE_DRIVER=gcs when NODE_ENV=production (the same on every instance)',
    );
  }
  return secret;
}

function loadStagingConfig(env: Env): StagingConfig {
  const prefix = read(env, 'STAGING_PREFIX') ?? 'staging/';
  // Object names of images start with a hex digit; a prefix ending in "/" keeps staged names
  // apart from them and from each other.
  const dotSegment = /(?:^|\/)\.{1,2}\//;
  if (
    !/^[a-z][a-z0-9._-]{0,62}\/(?:[a-z0-9._-]{1,63}\/)*$/.test(prefix) ||
    dotSegment.test(prefix)
  ) {
    throw new ConfigError(
      'STAGING_PREFIX',
      `must be folder names of a-z, 0-9, ".", "_", "-", each ending in "/", starting with a letter, got "${prefix}"`,
    );
  }
  const secret = read(env, 'DIRECT_UPLOAD_SECRET');
  if (secret !== undefined && Buffer.byteLength(secret, 'utf8') < 32) {
    throw new ConfigError('DIRECT_UPLOAD_SECRET', 'must be at least 32 bytes long');
  }
  return {
    prefix,
    uploadExpiresSeconds: readInteger(env, 'UPLOAD_EXPIRES_SECONDS', 86_400, 1, 30 * 86_400),
    sweepIntervalSeconds: readInteger(env, 'SWEEP_INTERVAL_SECONDS', 600, 0, 86_400),
    // V4 signed URLs last at most seven days.
    directExpiresSeconds: readInteger(env, 'DIRECT_UPLOAD_EXPIRES_SECONDS', 600, 1, 7 * 24 * 3600),
    directSecret: secret,
  };
}

function loadVariantsConfig(env: Env): VariantsConfig {
  let specs: VariantSpec[];
  try {
    specs = parseVariantSpecs(read(env, 'IMAGE_VARIANTS') ?? '');
  } catch (error) {
    if (error instanceof VariantSpecError) throw new ConfigError('IMAGE_VARIANTS', error.problem);
    throw error;
  }
  if (specs.some((spec) => spec.name === displayRendition.name)) {
    throw new ConfigError(
      'IMAGE_VARIANTS',
      `must not name a variant "${displayRendition.name}": that is the display rendition's name`,
    );
  }
  const format = read(env, 'IMAGE_VARIANT_FORMAT')?.toLowerCase() ?? 'webp';
  if (!isVariantFormat(format)) {
    throw new ConfigError(
      'IMAGE_VARIANT_FORMAT',
      `must be one of ${Object.keys(variantFormats).join(', ')}, got "${format}"`,
    );
  }
  const eager = readBoolean(env, 'IMAGE_VARIANTS_EAGER') === true;
  const placeholders = read(env, 'IMAGE_PLACEHOLDERS')?.toLowerCase();
  if (placeholders !== undefined && placeholders !== 'on' && placeholders !== 'off') {
    throw new ConfigError('IMAGE_PLACEHOLDERS', `must be "on" or "off", got "${placeholders}"`);
  }
  return {
    specs,
    eager,
    format,
    quality: readInteger(
      env,
      'IMAGE_VARIANT_QUALITY',
      variantFormats[format].defaultQuality,
      1,
      100,
    ),
    // A placeholder costs a decode at upload: by default only where variants already do.
    placeholders: placeholders === undefined ? specs.length > 0 && eager : placeholders === 'on',
    concurrency: readInteger(env, 'IMAGE_VARIANT_CONCURRENCY', os.availableParallelism(), 1, 256),
  };
}

function readHeicDecoder(env: Env): HeifDecoderKind {
  const kind = read(env, 'HEIC_DECODER')?.toLowerCase() ?? 'wasm';
  if (!(heifDecoderKinds as readonly string[]).includes(kind)) {
    throw new ConfigError(
      'HEIC_DECODER',
      `must be one of ${heifDecoderKinds.join(', ')}, got "${kind}"`,
    );
  }
  return kind as HeifDecoderKind;
}

function readMetadataMode(env: Env): MetadataMode {
  const mode = read(env, 'IMAGE_METADATA')?.toLowerCase() ?? 'strip';
  if (!isMetadataMode(mode)) {
    throw new ConfigError(
      'IMAGE_METADATA',
      `must be one of ${metadataModes.join(', ')}, got "${mode}"`,
    );
  }
  return mode;
}

function loadMultipartConfig(env: Env, maxImageBytes: number): MultipartConfig {
  const maxFields = readInteger(env, 'MULTIPART_MAX_FIELDS', 20, 0, 1_000);
  const maxFieldBytes = readInteger(env, 'MULTIPART_MAX_FIELD_BYTES', 16 * 1024, 1, 1024 * 1024);
  const maxParts = readInteger(env, 'MULTIPART_MAX_PARTS', 50, 1, 10_000);
  if (maxParts <= maxFields) {
    // Every text field allowed, and the file: a smaller count makes the fields limit a lie.
    throw new ConfigError(
      'MULTIPART_MAX_PARTS',
      `must be more than MULTIPART_MAX_FIELDS (${maxFields}), to leave room for the file, got ${maxParts}`,
    );
  }
  return {
    maxFields,
    maxFieldBytes,
    maxParts,
    maxBodyBytes: maxImageBytes + maxFields * maxFieldBytes + maxParts * multipartPartOverheadBytes,
  };
}

function isBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name);
}

function isSameOrInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!path.isAbsolute(relative) && relative.split(path.sep)[0] !== '..');
}

/** GCS refuses a non-final chunk whose size is not a multiple of 256 KiB. */
const gcsChunkGranule = 256 * 1024;

function readChunkBytes(env: Env): number {
  const value = readInteger(env, 'GCS_CHUNK_BYTES', 4 * 1024 * 1024, gcsChunkGranule, 2 ** 30);
  if (value % gcsChunkGranule !== 0) {
    throw new ConfigError(
      'GCS_CHUNK_BYTES',
      `must be a multiple of 262144 (256 KiB), got ${value}`,
    );
  }
  return value;
}

/** "true" or "false"; undefined when unset. */
function readBoolean(env: Env, name: string): boolean | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') {
    throw new ConfigError(name, `must be "true" or "false", got "${value}"`);
  }
  return value === 'true';
}

function readList(env: Env, name: string): string[] {
  return (read(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function readApiKeyHashes(env: Env): Buffer[] {
  return readList(env, 'API_KEYS').map((key) => {
    const hashed = /^sha256:(.*)$/i.exec(key);
    if (hashed === null) {
      if (!/^[\x21-\x7e]+$/.test(key)) {
        // `Authorization: Bearer <key>` carries visible ASCII only: such a key never matches.
        throw new ConfigError(
          'API_KEYS',
          'holds a key with a space or a character other than visible ASCII, which no ' +
            'Authorization header can carry',
        );
      }
      if (key.length < 16) {
        // Short keys can be guessed; the variable is named, the key itself never printed.
        throw new ConfigError('API_KEYS', 'holds a key shorter than 16 characters');
      }
      return createHash('sha256').update(key, 'utf8').digest();
    }
    const hex = hashed[1] ?? '';
    if (!/^[0-9a-f]{64}$/i.test(hex)) {
      throw new ConfigError('API_KEYS', 'holds a "sha256:" entry that is not 64 hex digits');
    }
    return Buffer.from(hex, 'hex');
  });
}

function readOrigins(env: Env): string[] {
  return readList(env, 'CORS_ORIGINS').map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError('CORS_ORIGINS', `holds "${origin}", which is not an origin`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
      throw new ConfigError(
        'CORS_ORIGINS',
        `holds "${origin}"; each entry must be an exact origin such as https://app.example.com`,
      );
    }
    return origin;
  });
}

function readRedisUrl(env: Env): string | undefined {
  const raw = read(env, 'REDIS_URL');
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    // The URL may hold a password: name the variable, never print the value.
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL');
  }
  return raw;
}

function loadSecurityConfig(env: Env): SecurityConfig {
  const apiKeyHashes = readApiKeyHashes(env);
  const secret = read(env, 'JWT_SECRET');
  if (secret !== undefined && Buffer.byteLength(secret, 'utf8') < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes long for HS256');
  }
  const jwtJwksUrl = readUrl(env, 'JWT_JWKS_URL');
  const jwtIssuer = read(env, 'JWT_ISSUER');
  const jwtAudience = read(env, 'JWT_AUDIENCE');
  const jwtConfigured = secret !== undefined || jwtJwksUrl !== undefined;
  if (jwtConfigured && jwtIssuer === undefined) {
    throw new ConfigError('JWT_ISSUER', 'is required when JWT_SECRET or JWT_JWKS_URL is set');
  }
  if (jwtConfigured && jwtAudience === undefined) {
    throw new ConfigError('JWT_AUDIENCE', 'is required when JWT_SECRET or JWT_JWKS_URL is set');
  }

  const allowAnonymous = readBoolean(env, 'ALLOW_ANONYMOUS');
  const anonymous = apiKeyHashes.length === 0 && !jwtConfigured;
  const production = isProduction(env);
  if (anonymous && production && allowAnonymous !== true) {
    throw new ConfigError(
      'ALLOW_ANONYMOUS',
      'must be "true" to run without API_KEYS, JWT_SECRET or JWT_JWKS_URL when NODE_ENV=production',
    );
  }

  const headersTimeoutMs = readInteger(env, 'HEADERS_TIMEOUT_MS', 10_000, 1, 600_000);
  const requestTimeoutMs = readInteger(env, 'REQUEST_TIMEOUT_MS', 120_000, 1, 3_600_000);
  if (requestTimeoutMs < headersTimeoutMs) {
    // Node's http.createServer throws a RangeError for this order, naming neither variable.
    throw new ConfigError(
      'REQUEST_TIMEOUT_MS',
      `must be at least HEADERS_TIMEOUT_MS (${headersTimeoutMs}), got ${requestTimeoutMs}`,
    );
  }

  const imageValidation = read(env, 'IMAGE_VALIDATION') ?? 'decode';
  if (imageValidation !== 'decode' && imageValidation !== 'structure') {
    throw new ConfigError(
      'IMAGE_VALIDATION',
      `must be "decode" or "structure", got "${imageValidation}"`,
    );
  }

  return {
    auth: {
      apiKeyHashes,
      jwtSecret: secret === undefined ? undefined : new TextEncoder().encode(secret),
      jwtJwksUrl,
      jwtIssuer,
      jwtAudience,
      jwtMaxAgeSeconds: readInteger(env, 'JWT_MAX_AGE_SECONDS', 86_400, 0, 366 * 86_400),
      anonymous,
    },
    corsOrigins: readOrigins(env),
    rateLimitPerMinute: readInteger(env, 'RATE_LIMIT', 60, 0, 1_000_000),
    redisUrl: readRedisUrl(env),
    redisConnectTimeoutMs: readInteger(env, 'REDIS_CONNECT_TIMEOUT_MS', 2000, 1, 60_000),
    redisCommandTimeoutMs: readInteger(env, 'REDIS_COMMAND_TIMEOUT_MS', 250, 1, 60_000),
    trustedProxyCount: readInteger(env, 'TRUSTED_PROXY_COUNT', 0, 0, 10),
    maxImagePixels: readInteger(env, 'MAX_IMAGE_PIXELS', 100_000_000, 1, 2 ** 32),
    maxConcurrentUploads: readInteger(env, 'MAX_CONCURRENT_UPLOADS', 16, 1, 10_000),
    maxOpenUploadsPerCaller: readInteger(env, 'MAX_OPEN_UPLOADS_PER_CALLER', 100, 0, 1_000_000),
    imageValidation,
    decodeTimeoutSeconds: readInteger(env, 'DECODE_TIMEOUT_SECONDS', 10, 1, 3600),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: readInteger(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 1, 600_000),
    sendTimeoutMs: readInteger(env, 'SEND_TIMEOUT_MS', 60_000, 1, 600_000),
    maxServedFiles: readInteger(env, 'MAX_SERVED_FILES', 1024, 1, 1_000_000),
    lingeringTimeMs: readInteger(env, 'LINGERING_TIME_MS', 5_000, 0, 60_000),
  };
}
