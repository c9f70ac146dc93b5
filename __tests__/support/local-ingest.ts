import { afterAll, beforeEach } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HeldImageBuffers } from '../../src/ingest/held-image-buffers.js';
import type { IngestContext } from '../../src/ingest/ingest-image.js';
import { UploaderKeys } from '../../src/ingest/uploader-keys.js';
import { LocalStore } from '../../src/storage/local-store.js';

/** A local store in a fresh temporary folder for each test; the folders go after the file. */
export interface LocalStoreFolder {
  readonly directory: string;
  readonly store: LocalStore;
}

export function useLocalStores(prefix: string): () => LocalStoreFolder {
  let current: LocalStoreFolder | undefined;
  const directories: string[] = [];
  beforeEach(async () => {
    const directory = await mkdtemp(path.join(tmpdir(), prefix));
    directories.push(directory);
    const store = new LocalStore(directory, 'http://localhost');
    await store.init();
    current = { directory, store };
  });
  afterAll(async () => {
    await Promise.all(
      directories.map((directory) => rm(directory, { recursive: true, force: true })),
    );
  });
  return () => {
    if (current === undefined) throw new Error('no local store outside a test');
    return current;
  };
}

/** The pipeline's context without a server: JPEG and PNG, structure validation, 10 MiB. */
export function pipelineContext(
  store: LocalStore,
  heldImageBuffers: HeldImageBuffers,
): IngestContext {
  return {
    store,
    heldImageBuffers,
    limits: {
      maxImageBytes: 10 * 1024 * 1024,
      allowedTypes: ['image/jpeg', 'image/png'],
      streamingThresholdBytes: 4 * 1024 * 1024,
    },
    validation: { mode: 'structure', maxPixels: 100_000_000, decodeTimeoutSeconds: 10 },
    uploaderKeys: new UploaderKeys(randomBytes(32)),
  };
}
