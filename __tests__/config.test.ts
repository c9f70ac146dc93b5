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

describe('multipart limits', () => {
  it('defaults to 20 fields of 16 KiB in at most 50 parts', () => {
    expect(loadConfig({}).multipart).toMatchObject({
      maxFields: 20,
      maxFieldBytes: 16 * 1024,
      maxParts: 50,
    });
  });

  it('bounds the multipart body by the image itself, not its base64, plus the fields and parts', () => {
    const config = loadConfig({
      MAX_IMAGE_BYTES: '1000000',
      MULTIPART_MAX_FIELDS: '2',
      MULTIPART_MAX_FIELD_BYTES: '100',
      MULTIPART_MAX_PARTS: '4',
    });
    expect(config.multipart.maxBodyBytes).toBe(1_000_000 + 2 * 100 + 4 * 1024);
    expect(config.multipart.maxBodyBytes).toBeLessThan(config.maxBodyBytes);
  });

  it('takes zero text fields', () => {
    expect(
      loadConfig({ MULTIPART_MAX_FIELDS: '0', MULTIPART_MAX_PARTS: '1' }).multipart,
    ).toMatchObject({ maxFields: 0, maxParts: 1 });
  });

  it.each([
    ['MULTIPART_MAX_FIELDS', 'many'],
    ['MULTIPART_MAX_FIELDS', '1001'],
    ['MULTIPART_MAX_FIELD_BYTES', '0'],
    ['MULTIPART_MAX_FIELD_BYTES', '-1'],
    ['MULTIPART_MAX_FIELD_BYTES', String(1024 * 1024 + 1)],
    ['MULTIPART_MAX_PARTS', '0'],
    ['MULTIPART_MAX_PARTS', '1.5'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(expect.objectContaining({ variable }));
  });

  it('refuses fewer parts than text fields plus the file, naming MULTIPART_MAX_PARTS', () => {
    expect(() => loadConfig({ MULTIPART_MAX_FIELDS: '10', MULTIPART_MAX_PARTS: '10' })).toThrow(
      expect.objectContaining({ variable: 'MULTIPART_MAX_PARTS' }),
    );
  });
});
