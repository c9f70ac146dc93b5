import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalStore } from '../../src/storage/local-store.js';
import { localLeftovers, localObjectNames } from '../support/local-upload-dir.js';
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
      return {
        store,
        listNames: () => localObjectNames(directory),
        readBytes: (name) => readFile(path.join(directory, name)),
        leftovers: () => localLeftovers(directory),
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

  describe('sidecars', () => {
    async function freshStore(): Promise<{ store: LocalStore; directory: string }> {
      const directory = await freshDirectory();
      const store = new LocalStore(directory, baseUrl);
      await store.init();
      return { store, directory };
    }
    const sidecarOf = (directory: string, name: string): string =>
      path.join(directory, '.meta', `${name}.json`);

    it('keeps content type and metadata next to the object, outside the served names', async () => {
      const { store, directory } = await freshStore();
      const name = objectName();
      await store.put(name, Buffer.from('bytes'), {
        contentType: 'image/png',
        metadata: { width: '1' },
      });
      expect(JSON.parse(await readFile(sidecarOf(directory, name), 'utf8'))).toEqual({
        contentType: 'image/png',
        metadata: { width: '1' },
      });
      expect(await store.open('.meta')).toBeUndefined();
      expect(await store.open(`.meta/${name}.json`)).toBeUndefined();
    });

    it('describes an object stored before sidecars existed from its bytes', async () => {
      const { store, directory } = await freshStore();
      const name = objectName();
      const bytes = Buffer.from('stored by an older version');
      await writeFile(path.join(directory, name), bytes);
      expect(await store.stat(name)).toEqual({
        size: bytes.length,
        contentType: undefined,
        md5: createHash('md5').update(bytes).digest('base64'),
        metadata: { sha256: createHash('sha256').update(bytes).digest('hex') },
      });
    });

    it('refuses to overwrite an object without a sidecar and gives it none', async () => {
      const { store, directory } = await freshStore();
      const name = objectName();
      await writeFile(path.join(directory, name), 'older');
      await expect(
        store.put(name, Buffer.from('newer'), { contentType: 'image/png', metadata: { a: 'b' } }),
      ).rejects.toMatchObject({ name: 'StorageError', kind: 'exists' });
      expect(await readFile(path.join(directory, name), 'utf8')).toBe('older');
      expect(await localLeftovers(directory)).toEqual([]);
      await expect(stat(sidecarOf(directory, name))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('takes the name of a sidecar a crash left long ago without its object, not of a fresh one', async () => {
      const { store, directory } = await freshStore();
      const [old, fresh] = [objectName(), objectName()];
      const orphan = JSON.stringify({ contentType: 'image/png', metadata: { left: 'by a crash' } });
      await writeFile(sidecarOf(directory, old), orphan);
      await writeFile(sidecarOf(directory, fresh), orphan);
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(sidecarOf(directory, old), twoHoursAgo, twoHoursAgo);

      const options = { contentType: 'image/gif', metadata: { written: 'now' } };
      await store.put(old, Buffer.from('x'), options);
      expect((await store.stat(old))?.metadata).toEqual({ written: 'now' });
      // A fresh one may belong to a write between its two links: the name is taken.
      await expect(store.put(fresh, Buffer.from('x'), options)).rejects.toMatchObject({
        kind: 'exists',
      });
      expect(await localObjectNames(directory)).toEqual([old]);
    });

    it('refuses a sidecar it did not write rather than guessing', async () => {
      const { store, directory } = await freshStore();
      const name = objectName();
      await store.put(name, Buffer.from('x'), { contentType: 'image/png', metadata: {} });
      await writeFile(sidecarOf(directory, name), '{"contentType": 7}');
      await expect(store.stat(name)).rejects.toThrow(/sidecar/);
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
      await file?.close();
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
      // Staging (.staging/) is the staging layer's (createStaging), not the store's.
      expect(await readdir(directory)).toEqual(['.incoming', '.meta']);
      expect(await localLeftovers(directory)).toEqual([]);
    });
  });

  describe('putConcatenated', () => {
    it('stores the first `size` bytes of each file in turn, past the copy buffer, and leaves no temp file', async () => {
      const directory = await freshDirectory();
      const store = new LocalStore(directory, baseUrl);
      await store.init();
      const parts = [randomBytes(1536 * 1024 + 7), randomBytes(5), randomBytes(2 * 1024 * 1024)];
      const pieces = await freshDirectory();
      const files = await Promise.all(
        parts.map(async (part, index) => {
          const file = path.join(pieces, `piece-${index}`);
          // Longer than what counts: a writer that died past its commit.
          await writeFile(file, Buffer.concat([part, Buffer.from('not counted')]));
          return { file, size: part.length };
        }),
      );
      const name = objectName('jpg');
      await store.putConcatenated(name, files, { contentType: 'image/jpeg', metadata: {} });
      expect((await readFile(path.join(directory, name))).equals(Buffer.concat(parts))).toBe(true);
      expect((await store.stat(name))?.size).toBe(
        parts.reduce((sum, part) => sum + part.length, 0),
      );
      expect(await localLeftovers(directory)).toEqual([]);
    });

    it('fails on a file shorter than its size, storing nothing and leaving no temp file', async () => {
      const directory = await freshDirectory();
      const store = new LocalStore(directory, baseUrl);
      await store.init();
      const file = path.join(await freshDirectory(), 'short');
      await writeFile(file, randomBytes(100));
      const name = objectName('jpg');
      await expect(
        store.putConcatenated(name, [{ file, size: 101 }], {
          contentType: 'image/jpeg',
          metadata: {},
        }),
      ).rejects.toThrow(/fewer than 101 bytes/);
      expect(await localObjectNames(directory)).toEqual([]);
      expect(await localLeftovers(directory)).toEqual([]);
    });
  });
});
