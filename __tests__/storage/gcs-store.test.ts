import { describe, expect, it } from '@jest/globals';
import type { Bucket } from '@google-cloud/storage';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../src/config.js';
import { createStore } from '../../src/storage/create-store.js';
import { GcsStore } from '../../src/storage/gcs-store.js';
import { immutableCacheControl, type ObjectStore } from '../../src/storage/object-store.js';
import { startEmulator } from '../support/emulator.js';
import {
  createTestBucket,
  emulatorClient,
  emulatorEndpoint,
  listObjectNames,
} from '../support/gcs.js';
import {
  chunkedStream,
  objectName,
  rejectionOf,
  shouldBehaveAsObjectStore,
} from './object-store-contract.js';

/** The store exactly as the service builds it from its environment, on a fresh bucket. */
async function storeOnFreshBucket(
  endpoint = emulatorEndpoint(),
): Promise<{ store: ObjectStore; bucket: Bucket }> {
  const bucket = await createTestBucket(endpoint);
  const store = await createStore(
    loadConfig({ STORAGE_DRIVER: 'gcs', GCS_BUCKET: bucket.name, GCS_API_ENDPOINT: endpoint }),
  );
  return { store, bucket };
}

async function download(bucket: Bucket, name: string): Promise<Buffer> {
  const [contents] = await bucket.file(name).download();
  return contents;
}

describe('GcsStore', () => {
  shouldBehaveAsObjectStore({
    async makeStore() {
      const { store, bucket } = await storeOnFreshBucket();
      return {
        store,
        listNames: () => listObjectNames(bucket),
        readBytes: (name) => download(bucket, name),
        // A failed upload has no temp object to leave: GCS keeps nothing of a request that
        // did not complete, which listNames() already checks.
        leftovers: () => Promise.resolve([]),
        expectedPublicUrl: (name) => `${emulatorEndpoint()}/${bucket.name}/${name}`,
      };
    },
  });

  describe('against the emulator', () => {
    const photo = readFile('__tests__/fixtures/photo.png');
    const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

    it.each([
      ['a Buffer', (bytes: Buffer) => bytes],
      ['a Readable', (bytes: Buffer) => chunkedStream(bytes)],
    ])('keeps content type, cache control and custom metadata for %s', async (_label, body) => {
      const { store, bucket } = await storeOnFreshBucket();
      const bytes = await photo;
      const name = objectName('png');
      await store.put(name, body(bytes), {
        contentType: 'image/png',
        metadata: { sha256: sha256(bytes) },
      });

      // Read back with the official client, not through the store.
      const [metadata] = await bucket.file(name).getMetadata();
      expect(metadata.contentType).toBe('image/png');
      expect(metadata.cacheControl).toBe(immutableCacheControl);
      expect(metadata.metadata).toEqual({ sha256: sha256(bytes) });
      expect(Number(metadata.size)).toBe(bytes.length);
      expect((await download(bucket, name)).equals(bytes)).toBe(true);
    });

    it('hands out a public URL that serves the stored bytes', async () => {
      const { store } = await storeOnFreshBucket();
      const bytes = randomBytes(300_000);
      const name = objectName('jpg');
      await store.put(name, bytes, { contentType: 'image/jpeg', metadata: {} });

      const response = await fetch(store.publicUrl(name));
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it('uses the configured public base URL for returned URLs', () => {
      const bucket = emulatorClient().bucket('some-bucket');
      const store = new GcsStore(bucket, { publicBaseUrl: 'https://cdn.example.com/img' });
      expect(store.publicUrl('a.png')).toBe('https://cdn.example.com/img/a.png');
      expect(new GcsStore(bucket).publicUrl('a.png')).toBe(
        'https://storage.googleapis.com/some-bucket/a.png',
      );
    });

    it('reports a bucket that does not exist as unavailable', async () => {
      const store = await createStore(
        loadConfig({
          STORAGE_DRIVER: 'gcs',
          GCS_BUCKET: 'no-such-bucket-here',
          GCS_API_ENDPOINT: emulatorEndpoint(),
        }),
      );
      for (const body of [randomBytes(100), chunkedStream(randomBytes(100_000))]) {
        const error = await rejectionOf(
          store.put(objectName(), body, { contentType: 'image/png', metadata: {} }),
        );
        expect(error).toMatchObject({ name: 'StorageError', kind: 'unavailable' });
      }
    });

    // Bounded by the test timeout: with the SDK's default retry options this takes minutes.
    it('reports a stopped emulator as unavailable, after a bounded retry', async () => {
      const emulator = await startEmulator();
      try {
        const { store } = await storeOnFreshBucket(emulator.endpoint);
        await emulator.stop();
        for (const body of [randomBytes(100), chunkedStream(randomBytes(100_000))]) {
          const error = await rejectionOf(
            store.put(objectName(), body, { contentType: 'image/png', metadata: {} }),
          );
          expect(error).toMatchObject({ name: 'StorageError', kind: 'unavailable' });
        }
      } finally {
        await emulator.stop();
      }
    }, 25_000);
  });
});
