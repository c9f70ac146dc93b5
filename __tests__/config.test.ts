import { describe, expect, it } from '@jest/globals';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';

describe('SPOOL_DIR', () => {
  it('defaults to a folder of its own under the system temp folder', () => {
    expect(loadConfig({}).spoolDir).toBe(path.join(tmpdir(), 'image-ingest-spool'));
  });

  it('is resolved against the working directory', () => {
    expect(loadConfig({ SPOOL_DIR: 'var/spool' }, '/srv/ingest').spoolDir).toBe(
      '/srv/ingest/var/spool',
    );
  });

  it.each(['/srv/uploads', '/srv/uploads/.spool'])(
    'refuses %s, inside UPLOAD_DIR, naming SPOOL_DIR',
    (spoolDir) => {
      expect(() => loadConfig({ UPLOAD_DIR: '/srv/uploads', SPOOL_DIR: spoolDir })).toThrow(
        expect.objectContaining({ variable: 'SPOOL_DIR' }),
      );
    },
  );

  it('accepts a sibling of UPLOAD_DIR whose name merely starts the same', () => {
    const config = loadConfig({ UPLOAD_DIR: '/srv/uploads', SPOOL_DIR: '/srv/uploads-spool' });
    expect(config.spoolDir).toBe('/srv/uploads-spool');
  });
});

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
