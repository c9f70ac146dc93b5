import { Storage, type StorageOptions } from '@google-cloud/storage';
import type { Config, GcsStorageConfig } from '../config.js';
import { GcsStore } from './gcs-store.js';
import { LocalStore } from './local-store.js';
import { loadNativeCrc32cGenerator } from './native-crc32c.js';
import type { ObjectStore } from './object-store.js';

export interface StorageDeps {
  /**
   * The GCS client, made once (storageClient) and shared by the store and the staging layer;
   * one is made when left out. Tests hand in one with credentials that sign locally.
   */
  readonly client?: Storage | undefined;
}

/** Builds the store the configuration names, ready to use. */
export async function createStore(
  config: Config,
  { client }: StorageDeps = {},
): Promise<ObjectStore> {
  const { storage } = config;
  if (storage.driver === 'local') {
    // The local driver serves its files itself, so config always gives it a base URL.
    const store = new LocalStore(storage.uploadDir, config.publicBaseUrl ?? '');
    await store.init();
    return store;
  }
  const gcs = client ?? (await storageClient(storage));
  return new GcsStore(gcs.bucket(storage.bucket), {
    publicBaseUrl: config.publicBaseUrl,
    apiEndpoint: storage.apiEndpoint,
    chunkBytes: storage.chunkBytes,
    retry: storeRetryOf(config),
  });
}

/** STORE_TIMEOUT_MS and STORE_ATTEMPT_TIMEOUT_MS, for every GCS call of store and staging. */
export function storeRetryOf(config: Config): { deadlineMs: number; attemptTimeoutMs: number } {
  return { deadlineMs: config.storeTimeoutMs, attemptTimeoutMs: config.storeAttemptTimeoutMs };
}

/** The official client for the configured bucket; `extra` adds options (tests: credentials). */
export async function storageClient(
  storage: GcsStorageConfig,
  extra: StorageOptions = {},
): Promise<Storage> {
  const crc32cGenerator = await loadNativeCrc32cGenerator();
  return new Storage({
    ...(crc32cGenerator === undefined ? {} : { crc32cGenerator }),
    // GcsStore runs its own bounded retry loop; the client's (600 s by default) would nest
    // inside it and outlive the deadline.
    retryOptions: { autoRetry: false },
    ...(storage.projectId === undefined ? {} : { projectId: storage.projectId }),
    ...(storage.apiEndpoint === undefined ? {} : { apiEndpoint: storage.apiEndpoint }),
    ...extra,
  });
}
