import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../src/config.js';

const gcs = { STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'my-images' };

describe('GCS_CHUNK_BYTES', () => {
  it('defaults to 4 MiB', () => {
    const config = loadConfig(gcs);
    expect(config.storage).toMatchObject({ driver: 'gcs', chunkBytes: 4 * 1024 * 1024 });
  });

  it('accepts a multiple of 256 KiB', () => {
    const config = loadConfig({ ...gcs, GCS_CHUNK_BYTES: String(3 * 256 * 1024) });
    expect(config.storage).toMatchObject({ chunkBytes: 3 * 256 * 1024 });
  });

  it.each(['300000', '0', '100', 'lots'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ ...gcs, GCS_CHUNK_BYTES: value })).toThrow(/GCS_CHUNK_BYTES/);
  });
});
