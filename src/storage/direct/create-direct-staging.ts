import type { Storage } from '@google-cloud/storage';
import type { Config } from '../../config.js';
import { storageClient } from '../create-store.js';
import type { DirectStaging } from './direct-staging.js';
import { GcsDirectStaging } from './gcs-direct-staging.js';
import { LocalDirectStaging } from './local-direct-staging.js';

/**
 * Where the configured driver keeps direct uploads, ready to use. `client` replaces the GCS
 * client (tests hand in one with credentials that sign locally).
 */
export async function createDirectStaging(
  config: Config,
  client?: Storage,
): Promise<DirectStaging> {
  const { storage, staging } = config;
  if (storage.driver === 'local') {
    const local = new LocalDirectStaging(storage.uploadDir, { secret: staging.directSecret });
    await local.init();
    return local;
  }
  const gcs = client ?? (await storageClient(storage));
  return new GcsDirectStaging(gcs.bucket(storage.stagingBucket ?? storage.bucket), {
    prefix: staging.prefix,
    retry: { deadlineMs: config.storeTimeoutMs, attemptTimeoutMs: config.storeAttemptTimeoutMs },
  });
}
