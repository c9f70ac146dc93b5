import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { storageClient, storeRetryOf, type StorageDeps } from './create-store.js';
import type { Staging, StagingArea } from './staging/staging.js';
import { GcsByteArea } from './staging/gcs-byte-area.js';
import { GcsRecordStore } from './staging/gcs-record-store.js';
import { LocalByteArea, type LocalPublishing } from './staging/local-byte-area.js';
import type { ObjectStore } from './object-store.js';
import { LocalRecordStore } from './staging/local-record-store.js';
import { UploadUrlSigner } from './staging/local-upload-urls.js';

export interface StagingDeps extends StorageDeps {
  /** Told once, at warn, what to configure when GCS credentials cannot sign PUT URLs. */
  readonly logger?: Logger | undefined;
  /**
   * The store whose uploads are staged: given, a finished tus upload's pieces are published
   * into it without passing through the pipeline again where the driver can (ByteArea's
   * publishPieces: linked on the local driver, composed on GCS).
   */
  readonly store?: ObjectStore | undefined;
}

/** The local driver's staging layer, with the byte area's own capabilities in view. */
export interface LocalStaging extends Staging {
  readonly driver: 'local';
  readonly direct: { readonly records: LocalRecordStore; readonly bytes: LocalByteArea };
}

const signingAdvice =
  'direct uploads: the GCS credentials cannot sign URLs, so "method": "put" answers 501 ' +
  'signed_put_unavailable ("resumable" works). Give the service a signing identity: a service ' +
  'account key file (GOOGLE_APPLICATION_CREDENTIALS), or on Cloud Run/GKE ' +
  'roles/iam.serviceAccountTokenCreator for its service account on itself (IAM signBlob, ' +
  'docs/operations.md)';

/**
 * Where unfinished uploads wait, built from the same configuration (and, on GCS, the same
 * client) as the store: one record store and one byte area per kind of upload, on the driver
 * the configuration names. The local driver keeps them under `<UPLOAD_DIR>/.staging/<kind>/`, a
 * dot-folder never served; GCS under `<STAGING_PREFIX><kind>/` in GCS_STAGING_BUCKET (the
 * images bucket if unset), names that never match objectNamePattern.
 *
 * On GCS it finds out at once whether the credentials can sign PUT URLs, so a deployment
 * without a signing identity is told so at start-up rather than by its first client.
 */
export async function createStaging(
  config: Config,
  { client, logger, store }: StagingDeps = {},
): Promise<Staging> {
  const { storage, staging } = config;
  if (storage.driver === 'local') {
    const root = path.join(storage.uploadDir, '.staging');
    const signer = await UploadUrlSigner.open(root, staging.directSecret);
    const publishTo = store !== undefined && isLocalPublishing(store) ? store : undefined;
    const area = async (
      kind: string,
      publishing?: LocalPublishing,
    ): Promise<LocalStaging['direct']> => {
      const records = new LocalRecordStore(path.join(root, kind));
      const bytes = new LocalByteArea(path.join(root, kind), signer, publishing);
      await records.init();
      await bytes.init();
      return { records, bytes };
    };
    return {
      driver: 'local',
      tus: await area('tus', publishTo),
      direct: await area('direct'),
    } satisfies LocalStaging;
  }
  const gcs = client ?? (await storageClient(storage));
  const bucket = gcs.bucket(storage.stagingBucket ?? storage.bucket);
  const retry = storeRetryOf(config);
  const area = (kind: string, bytes: GcsByteArea): StagingArea => ({
    records: new GcsRecordStore(bucket, `${staging.prefix}${kind}/`, retry),
    bytes,
  });
  const directBytes = new GcsByteArea(bucket, `${staging.prefix}direct/`, {
    retry,
    onSigningUnavailable: (cause) => logger?.warn({ err: cause }, signingAdvice),
  });
  await directBytes.checkSigning();
  return {
    driver: 'gcs',
    tus: area(
      'tus',
      new GcsByteArea(bucket, `${staging.prefix}tus/`, {
        retry,
        publishTo: store === undefined ? undefined : gcs.bucket(storage.bucket),
      }),
    ),
    direct: area('direct', directBytes),
  };
}

/** The local driver's staging, whose direct uploads need the service's own upload route. */
export function isLocalStaging(staging: Staging): staging is LocalStaging {
  return staging.driver === 'local';
}

/** A store on this machine's file system that can take a staged file by linking it. */
function isLocalPublishing(store: ObjectStore): store is ObjectStore & LocalPublishing {
  return 'putLinked' in store && typeof store.putLinked === 'function';
}
