import { describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { LocalDirectStaging } from '../../src/storage/direct/local-direct-staging.js';
import { sweepDirectUploads } from '../../src/uploads/direct-sweep.js';
import { useCleanups } from '../http/harness.js';

// The sweep's timing around completeBy, on both drivers, is in __tests__/http/direct-uploads.test.ts.

function recordOf(id: string): Parameters<LocalDirectStaging['create']>[0] {
  const now = Date.now();
  return {
    id,
    owner: null,
    size: 5,
    method: 'put',
    declaredType: null,
    nonce: 'nonce',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 600_000).toISOString(),
    completeBy: new Date(now + 1_200_000).toISOString(),
  };
}

describe('the direct sweep, local driver', () => {
  const defer = useCleanups();

  it('counts an upload it cannot read as failed and sweeps the others', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'direct-staging-'));
    defer(() => rm(directory, { recursive: true, force: true }));
    const staging = new LocalDirectStaging(directory);
    await staging.init();
    const readable = '4f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    const unreadable = '5f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    await staging.create(recordOf(readable), {
      origin: undefined,
      serviceOrigin: 'http://127.0.0.1:1',
    });
    // A record that cannot be read (EISDIR): that upload fails, the sweep goes on.
    await mkdir(path.join(staging.folder, `${unreadable}.json`));
    const later = new Date(Date.now() + 10 * 3600 * 1000);
    const swept = await sweepDirectUploads(staging, { expiresSeconds: 600, now: later });
    expect(swept).toEqual({ checked: 2, removed: 1, failed: 1 });
    expect(await readdir(staging.folder)).toEqual([`${unreadable}.json`]);
  });

  it('removes the temp files of PUTs a crash cut off with their upload; staged bytes are 0600', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'direct-staging-'));
    defer(() => rm(directory, { recursive: true, force: true }));
    const staging = new LocalDirectStaging(directory);
    await staging.init();
    const id = '6f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    await staging.create(recordOf(id), { origin: undefined, serviceOrigin: 'http://127.0.0.1:1' });
    expect(await staging.writeWhole(id, Readable.from([Buffer.from('12345')]), 5)).toBe(5);
    expect((await stat(path.join(staging.folder, `${id}.data`))).mode & 0o777).toBe(0o600);
    // What a process killed mid-PUT leaves: its temp file, never renamed into place.
    await writeFile(path.join(staging.folder, `${id}.put-${'0'.repeat(8)}`), '12');
    const later = new Date(Date.now() + 10 * 3600 * 1000);
    expect(await sweepDirectUploads(staging, { expiresSeconds: 600, now: later })).toEqual({
      checked: 1,
      removed: 1,
      failed: 0,
    });
    expect(await readdir(staging.folder)).toEqual([]);
  });
});
