import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { GcsStore } from '../../src/storage/gcs-store.js';
import { createTestBucket, emulatorEndpoint } from '../support/gcs.js';

describe('GcsStore smoke', () => {
  it('writes and reads back', async () => {
    const bucket = await createTestBucket();
    const store = new GcsStore(bucket, { apiEndpoint: emulatorEndpoint() });
    const bytes = await readFile('__tests__/fixtures/photo.png');
    const name = '3739ec4e-d0dc-49d2-8920-891665515837.png';
    await store.put(name, bytes, { contentType: 'image/png', metadata: { sha256: 'x' } });
    const [meta] = await bucket.file(name).getMetadata();
    expect(meta.contentType).toBe('image/png');
    expect(meta.metadata).toEqual({ sha256: 'x' });
    const response = await fetch(store.publicUrl(name));
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
    await expect(
      store.put(name, bytes, { contentType: 'image/png', metadata: {} }),
    ).rejects.toMatchObject({ kind: 'exists' });
  });
});
