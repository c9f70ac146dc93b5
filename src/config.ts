import path from 'node:path';

/**
 * Configuration is read once, from an environment object handed in (never from process.env
 * at import time), validated, and returned typed. Every error names the variable at fault.
 */

export const knownImageTypes = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/heic': 'heic',
  'image/heif': 'heif',
  'image/jxl': 'jxl',
  'image/bmp': 'bmp',
  'image/tiff': 'tif',
} as const;

export type ImageMimeType = keyof typeof knownImageTypes;

export const defaultAllowedTypes: readonly ImageMimeType[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
];

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
}

export interface Config {
  readonly port: number;
  readonly host: string;
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

function readAllowedTypes(env: Env): readonly ImageMimeType[] {
  const raw = read(env, 'ALLOWED_TYPES');
  if (raw === undefined) return defaultAllowedTypes;
  const types = raw
    .split(',')
    .map((type) => type.trim().toLowerCase())
    .filter((type) => type !== '');
  if (types.length === 0) throw new ConfigError('ALLOWED_TYPES', 'must name at least one type');
  for (const type of types) {
    if (!(type in knownImageTypes)) {
      throw new ConfigError(
        'ALLOWED_TYPES',
        `names "${type}", which is not a raster image type this service can verify ` +
          `(known: ${Object.keys(knownImageTypes).join(', ')})`,
      );
    }
  }
  return [...new Set(types)] as ImageMimeType[];
}

const base64LineOverhead = 4 / 76; // "\r\n" escaped in JSON is four bytes per 76-character line

export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const port = readInteger(env, 'PORT', 3000, 0, 65535);
  const host = read(env, 'HOST') ?? '0.0.0.0';
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
    if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
      throw new ConfigError('GCS_BUCKET', `is not a valid bucket name: "${bucket}"`);
    }
    storage = {
      driver,
      bucket,
      projectId: read(env, 'GCS_PROJECT_ID'),
      apiEndpoint: readUrl(env, 'GCS_API_ENDPOINT'),
    };
  } else {
    throw new ConfigError('STORAGE_DRIVER', `must be "local" or "gcs", got "${driver}"`);
  }

  let publicBaseUrl = readUrl(env, 'PUBLIC_BASE_URL');
  if (publicBaseUrl === undefined && storage.driver === 'local') {
    // The local driver serves its own files, so its URLs must point back at this server.
    const displayHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
    publicBaseUrl = `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}`;
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
    storeTimeoutMs,
    storeAttemptTimeoutMs,
    readyTimeoutMs: readInteger(env, 'READY_TIMEOUT_MS', 2_000, 50, 60_000),
    shutdownDelayMs: readInteger(env, 'SHUTDOWN_DELAY_MS', 0, 0, 10 * 60_000),
    shutdownGraceMs: readInteger(env, 'SHUTDOWN_GRACE_MS', 25_000, 0, 60 * 60_000),
    publicBaseUrl,
    maxImageBytes,
    maxBodyBytes,
    maxJsonOverheadBytes,
    allowedTypes: readAllowedTypes(env),
    streamingThresholdBytes: readInteger(
      env,
      'STREAMING_THRESHOLD_BYTES',
      4 * 1024 * 1024,
      0,
      2 ** 30,
    ),
    storage,
  };
}
