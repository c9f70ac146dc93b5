import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalStore } from '../../src/storage/local-store.js';
import { objectName, shouldBehaveAsObjectStore } from './object-store-contract.js';

const baseUrl = 'http://images.test:8080';
const directories: string[] = [];

async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'local-store-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('LocalStore', () => {
  shouldBehaveAsObjectStore({
    async makeStore() {
      const directory = await freshDirectory();
      const store = new LocalStore(directory, baseUrl);
      await store.init();
      const incoming = path.join(directory, '.incoming');
      return {
        store,
        listNames: async () =>
          (await readdir(directory)).filter((entry) => entry !== '.incoming').sort(),
        readBytes: (name) => readFile(path.join(directory, name)),
        leftovers: async () => (await readdir(incoming)).sort(),
        expectedPublicUrl: (name) => `${baseUrl}/uploads/${name}`,
      };
    },
  });

  describe('init', () => {
    it('removes temp files a crashed process left long ago, and keeps fresh ones', async () => {
      const directory = await freshDirectory();
      await new LocalStore(directory, baseUrl).init();
      const incoming = path.join(directory, '.incoming');
      await writeFile(path.join(incoming, 'stale.part'), 'left by a crash');
      await writeFile(path.join(incoming, 'fresh.part'), 'being written right now');
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(path.join(incoming, 'stale.part'), twoHoursAgo, twoHoursAgo);

      await new LocalStore(directory, baseUrl).init();
      expect(await readdir(incoming)).toEqual(['fresh.part']);
    });
  });

  describe('open', () => {
    it('opens a stored object with its size', async () => {
      const directory = await freshDirectory();
      const store = new LocalStore(directory, baseUrl);
      await store.init();
      const name = objectName();
      await store.put(name, Buffer.from('hello'), { contentType: 'image/png', metadata: {} });
      const file = await store.open(name);
      expect(file?.size).toBe(5);
      file?.stream.destroy();
    });

    it.each(['.incoming', '../package.json', 'README.md', `${objectName()}`])(
      'refuses %s, which is not a stored object name',
      async (name) => {
        const directory = await freshDirectory();
        const store = new LocalStore(directory, baseUrl);
        await store.init();
        expect(await store.open(name)).toBeUndefined();
        await expect(stat(path.join(directory, '.incoming'))).resolves.toBeDefined();
      },
    );

    it('refuses to write a name the service would never make', async () => {
      const directory = await freshDirectory();
      const store = new LocalStore(directory, baseUrl);
      await store.init();
      await expect(
        store.put('../escape.png', Buffer.from('x'), { contentType: 'image/png', metadata: {} }),
      ).rejects.toThrow(/unsafe object name/);
      expect(await readdir(directory)).toEqual(['.incoming']);
    });
  });
});
