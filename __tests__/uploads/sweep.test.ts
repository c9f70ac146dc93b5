import { describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createStaging, isLocalStaging, type LocalStaging } from '../../src/storage/create-staging.js';
import { sweepUploads, sweptAreasOf } from '../../src/uploads/sweep.js';
import { useCleanups } from '../http/harness.js';
import { chunkedStream } from '../storage/object-store-contract.js';

// The sweep's timing around completeBy and expiry, on both drivers, is in
// __tests__/http/direct-uploads.test.ts and __tests__/uploads/tus-protocol.test.ts.

const expiresSeconds = 600;

function directRecordOf(id: string): Record<string, unknown> {
  const now = Date.now();
  return {
    id,
    owner: null,
    size: 5,
    method: 'put',
    declaredType: null,
    nonce: 'nonce',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + expiresSeconds * 1000).toISOString(),
    completeBy: new Date(now + 2 * expiresSeconds * 1000).toISOString(),
  };
}

function tusRecordOf(id: string, expiresAt: Date): Record<string, unknown> {
  return {
    id,
    owner: null,
    length: 100,
    offset: 0,
    pieces: [],
    filename: null,
    filetype: null,
    secret: 's',
    createdAt: new Date().toISOString(),
    expiresAt: expiresAt.toISOString(),
    state: 'receiving',
    image: null,
    error: null,
  };
}

describe('one sweep for tus and direct uploads, local driver', () => {
  const defer = useCleanups();

  async function staging(): Promise<{ root: string; staging: LocalStaging }> {
    const directory = await mkdtemp(path.join(tmpdir(), 'sweep-'));
    defer(() => rm(directory, { recursive: true, force: true }));
    const made = await createStaging(loadConfig({ STORAGE_DRIVER: 'local', UPLOAD_DIR: directory }));
    if (!isLocalStaging(made)) throw new Error('not local');
    return { root: path.join(directory, '.staging'), staging: made };
  }

  const sweep = (local: LocalStaging, now: Date): ReturnType<typeof sweepUploads> =>
    sweepUploads(sweptAreasOf(local, expiresSeconds), { now });

  it('removes what is due in both areas, and only that', async () => {
    const { root, staging: local } = await staging();
    const soon = new Date(Date.now() + 1000);
    const [tusDue, tusLive, directDue] = [
      '1f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
      '2f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
      '3f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
    ];
    await local.tus.records.create(tusDue, tusRecordOf(tusDue, soon));
    await local.tus.bytes.writePiece(tusDue, '0-aaaaaaaa', chunkedStream(Buffer.alloc(10)), {
      maxBytes: 100,
    });
    await local.tus.records.create(tusLive, tusRecordOf(tusLive, new Date(Date.now() + 86_400_000)));
    await local.direct.records.create(directDue, directRecordOf(directDue));
    await local.direct.bytes.writeWhole(directDue, Readable.from([Buffer.from('12345')]), 5);
    // Past the tus upload's expiry, not yet one expiry past the direct one's completeBy.
    expect(await sweep(local, new Date(Date.now() + 2 * expiresSeconds * 1000))).toEqual({
      checked: 3,
      removed: 1,
      failed: 0,
    });
    expect(await readdir(path.join(root, 'tus'))).toEqual(expect.not.arrayContaining([tusDue]));
    const later = new Date(Date.now() + 3 * expiresSeconds * 1000 + 1000);
    expect(await sweep(local, later)).toEqual({ checked: 2, removed: 1, failed: 0 });
    expect((await readdir(path.join(root, 'direct'))).filter((entry) => entry !== '.incoming')).toEqual(
      [],
    );
    expect((await readdir(path.join(root, 'tus'))).sort()).toEqual(['.incoming', tusLive]);
  });

  it('counts an upload it cannot read as failed and sweeps the others', async () => {
    const { root, staging: local } = await staging();
    const readable = '4f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    const unreadable = '5f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    await local.direct.records.create(readable, directRecordOf(readable));
    // A record that cannot be read (EISDIR): that upload fails, the sweep goes on.
    await mkdir(path.join(root, 'direct', unreadable, 'record.1'), { recursive: true });
    const later = new Date(Date.now() + 10 * 3600 * 1000);
    expect(await sweep(local, later)).toEqual({ checked: 2, removed: 1, failed: 1 });
    expect((await readdir(path.join(root, 'direct'))).sort()).toEqual(['.incoming', unreadable]);
  });

  it('counts an area it cannot list as failed, names it, and sweeps the next', async () => {
    const { root, staging: local } = await staging();
    const directDue = '6f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    await local.direct.records.create(directDue, directRecordOf(directDue));
    // The tus area's folder gone: listing it fails (ENOENT).
    await rm(path.join(root, 'tus'), { recursive: true });
    const failures: string[] = [];
    const later = new Date(Date.now() + 10 * 3600 * 1000);
    const result = await sweepUploads(sweptAreasOf(local, expiresSeconds), {
      now: later,
      onAreaFailed: (name) => failures.push(name),
    });
    expect(result).toEqual({ checked: 1, removed: 1, failed: 1 });
    expect(failures).toEqual(['tus']);
    expect(await readdir(path.join(root, 'direct'))).toEqual(['.incoming']);
  });

  it('removes the temp files of PUTs a crash cut off with their upload', async () => {
    const { root, staging: local } = await staging();
    const id = '6f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    await local.direct.records.create(id, directRecordOf(id));
    expect(await local.direct.bytes.writeWhole(id, Readable.from([Buffer.from('12345')]), 5)).toBe(5);
    // What a process killed mid-PUT leaves: its temp file, never renamed into place.
    await writeFile(path.join(root, 'direct', id, `put-${'0'.repeat(8)}`), '12');
    const later = new Date(Date.now() + 10 * 3600 * 1000);
    expect(await sweep(local, later)).toEqual({ checked: 1, removed: 1, failed: 0 });
    expect(await readdir(path.join(root, 'direct'))).toEqual(['.incoming']);
  });

  it('removes bytes whose record is gone: tus pieces at once, a direct object after its grace', async () => {
    const { root, staging: local } = await staging();
    const tus = '7f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    const direct = '8f8a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    // Bytes that a PATCH (or a session) wrote on while its upload was removed.
    for (const [kind, id, name] of [
      ['tus', tus, 'piece.0-aaaaaaaa'],
      ['direct', direct, 'data'],
    ] as const) {
      await mkdir(path.join(root, kind, id));
      await writeFile(path.join(root, kind, id, name), 'late');
    }
    // A second on: a file's mtime comes from the kernel's clock, which may stand a little
    // ahead of Date.now() on a loaded machine; a grace of 0 is still "at once".
    const soon = new Date(Date.now() + 1000);
    expect(await sweep(local, soon)).toEqual({ checked: 1, removed: 1, failed: 0 });
    expect(await readdir(path.join(root, 'tus'))).toEqual(['.incoming']);
    expect((await readdir(path.join(root, 'direct'))).sort()).toEqual(['.incoming', direct]);
    const later = new Date(Date.now() + 3 * expiresSeconds * 1000 + 1000);
    expect(await sweep(local, later)).toEqual({ checked: 1, removed: 1, failed: 0 });
    expect(await readdir(path.join(root, 'direct'))).toEqual(['.incoming']);
  });
});
