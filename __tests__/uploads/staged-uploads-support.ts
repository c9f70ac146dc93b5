import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { sharedHeldImageBuffers } from '../../src/ingest/held-image-buffers.js';
import { uploaderKeysFor } from '../../src/ingest/uploader-keys.js';
import { createStaging, isLocalStaging, type LocalStaging } from '../../src/storage/create-staging.js';
import { createStore } from '../../src/storage/create-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import type { BaseIngestContext } from '../../src/uploads/complete-staged-upload.js';

/** A local store and staging layer in a temp folder, and what the pipeline needs: no server. */
export interface StagedUploadsSubject {
  readonly config: Config;
  readonly store: ObjectStore;
  readonly staging: LocalStaging;
  readonly base: BaseIngestContext;
  /** The folder of one kind's staging area. */
  readonly stagingFolder: (kind: 'tus' | 'direct') => string;
  readonly dispose: () => Promise<void>;
}

export async function stagedUploadsSubject(env: Record<string, string> = {}): Promise<StagedUploadsSubject> {
  const directory = await mkdtemp(path.join(tmpdir(), 'staged-uploads-'));
  const config = loadConfig({
    STORAGE_DRIVER: 'local',
    UPLOAD_DIR: path.join(directory, 'uploads'),
    SPOOL_DIR: path.join(directory, 'spool'),
    IMAGE_VALIDATION: 'structure',
    // The bytes published are those sent, so a test can compare them.
    IMAGE_METADATA: 'keep',
    ...env,
  });
  const store = await createStore(config);
  const staging = await createStaging(config, { store });
  if (!isLocalStaging(staging)) throw new Error('not the local driver');
  const base: BaseIngestContext = {
    store,
    heldImageBuffers: sharedHeldImageBuffers(),
    limits: config,
    uploaderKeys: uploaderKeysFor(config),
    validation: {
      mode: config.security.imageValidation,
      maxPixels: config.security.maxImagePixels,
      decodeTimeoutSeconds: config.security.decodeTimeoutSeconds,
    },
    metadata: config.imageMetadata,
  };
  return {
    config,
    store,
    staging,
    base,
    stagingFolder: (kind) => path.join(directory, 'uploads', '.staging', kind),
    dispose: () => rm(directory, { recursive: true, force: true }),
  };
}
