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
