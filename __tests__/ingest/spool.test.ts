import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareSpoolDirectory, SpoolFile } from '../../src/ingest/spool.js';

const fixture = (name: string): Promise<Buffer> => readFile(`__tests__/fixtures/${name}`);
const hoursAgo = (hours: number): Date => new Date(Date.now() - hours * 3_600_000);

describe('the decode spool', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'spool-test-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates its folder and removes only its own stale files at start-up', async () => {
    const directory = path.join(root, 'spool');
    await prepareSpoolDirectory(directory);
    const stale = path.join(directory, '3f2b8c1e-9a4d-4c7e-8b1a-2d6e5f7a9b0c.spool');
    const young = path.join(directory, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d.spool');
    const foreign = path.join(directory, 'someone-elses-file.tmp');
    for (const file of [stale, young, foreign]) await writeFile(file, 'x');
    await utimes(stale, hoursAgo(2), hoursAgo(2));
    await utimes(foreign, hoursAgo(2), hoursAgo(2));

    await prepareSpoolDirectory(directory);

    expect((await readdir(directory)).sort()).toEqual(
      [path.basename(young), path.basename(foreign)].sort(),
    );
  });

  it('writes the bytes exactly, to a private file with a fresh name, and removes it', async () => {
    const image = await fixture('large.jpg');
    const first = await SpoolFile.create(root);
    const second = await SpoolFile.create(root);
    expect(first.path).not.toBe(second.path);
    for (let at = 0; at < image.length; at += 65_536) {
      await first.write(image.subarray(at, at + 65_536));
    }
    await first.close();
    expect((await readFile(first.path)).equals(image)).toBe(true);
    expect((await stat(first.path)).mode & 0o777).toBe(0o600);

    await first.remove();
    await first.remove();
    await second.remove();
    expect(await readdir(root)).toEqual([]);
  });

  it('makes the folder again if a tmp cleaner removed it', async () => {
    const directory = path.join(root, 'spool');
    await prepareSpoolDirectory(directory);
    await rm(directory, { recursive: true });
    const spool = await SpoolFile.create(directory);
    await spool.remove();
    expect(await readdir(directory)).toEqual([]);
  });
});
