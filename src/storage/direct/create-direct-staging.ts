import type { Storage } from '@google-cloud/storage';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { storageClient } from '../create-store.js';
import type { DirectStaging } from './direct-staging.js';
import { GcsDirectStaging } from './gcs-direct-staging.js';
import { LocalDirectStaging } from './local-direct-staging.js';

export interface DirectStagingOptions {
  /** Replaces the GCS client (tests hand in one with credentials that sign locally). */
  readonly client?: Storage | undefined;
  /** Told once, at warn, what to configure when GCS credentials cannot sign PUT URLs. */
  readonly logger?: Logger | undefined;
}

const signingAdvice =
  'direct uploads: the GCS credentials cannot sign URLs, so "method": "put" answers 501 ' +
  'signed_put_unavailable ("resumable" works). Give the service a signing identity: a service ' +
  'account key file (GOOGLE_APPLICATION_CREDENTIALS), or on Cloud Run/GKE ' +
  'roles/iam.serviceAccountTokenCreator for its service account on itself (IAM signBlob, ' +
  'docs/operations.md)';

/**
 * Where the configured driver keeps direct uploads, ready to use. On GCS it finds out at once
 * whether the credentials can sign PUT URLs, so a deployment without a signing identity is
 * told so at start-up rather than by its first client.
 */
export async function createDirectStaging(
  config: Config,
  { client, logger }: DirectStagingOptions = {},
): Promise<DirectStaging> {
  const { storage, staging } = config;
  if (storage.driver === 'local') {
    const local = new LocalDirectStaging(storage.uploadDir, { secret: staging.directSecret });
    await local.init();
    return local;
  }
  const gcs = client ?? (await storageClient(storage));
  const direct = new GcsDirectStaging(gcs.bucket(storage.stagingBucket ?? storage.bucket), {
    prefix: staging.prefix,
    retry: { deadlineMs: config.storeTimeoutMs, attemptTimeoutMs: config.storeAttemptTimeoutMs },
    onSigningUnavailable: (cause) => logger?.warn({ err: cause }, signingAdvice),
  });
  await direct.checkSigning();
  return direct;
}
