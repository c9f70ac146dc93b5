import { describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { isStorageError, type ObjectStore } from '../../src/storage/object-store.js';

/** One store under test, fresh and empty, with ways to look at it that bypass the driver. */
export interface StoreUnderTest {
  readonly store: ObjectStore;
  /** Names of the objects a reader can see, sorted. */
  listNames(): Promise<string[]>;
  readBytes(name: string): Promise<Buffer>;
  /** Anything a write left behind outside the visible objects (temp files); [] when none. */
  leftovers(): Promise<string[]>;
  /** What publicUrl(name) must return. */
  expectedPublicUrl(name: string): string;
}

export interface StoreFactory {
  makeStore(): Promise<StoreUnderTest>;
}

const chunkSize = 16 * 1024;

export function objectName(extension = 'png'): string {
  return `${randomUUID()}.${extension}`;
}

/** A stream of `bytes` in many chunks, so the driver really streams rather than buffers. */
export function chunkedStream(bytes: Buffer): Readable {
  function* chunks(): Generator<Buffer> {
    for (let offset = 0; offset < bytes.length; offset += chunkSize) {
      yield bytes.subarray(offset, offset + chunkSize);
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * Hands out `bytes` chunk by chunk as the driver asks for them (a stream is only read as fast
 * as its destination drains, so they have reached the driver's writer), then, when asked for
 * more, calls `whenDrained` instead of ending: the stream fails or hangs like a client that
 * stopped halfway.
 */
function streamThen(bytes: Buffer, whenDrained: (stream: Readable) => void): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset < bytes.length) {
        this.push(bytes.subarray(offset, offset + chunkSize));
        offset += chunkSize;
      } else {
        whenDrained(this);
      }
    },
  });
}

/** The reason `promise` rejected with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject, but it resolved');
    },
    (reason: unknown) => reason,
  );
}

const options = { contentType: 'image/png', metadata: { sha256: 'not-checked-by-the-store' } };

/**
 * The behaviour every ObjectStore driver promises (tus runs one `shouldWriteUploads()` against
 * each of its stores the same way): exact bytes, never overwrite, all or nothing.
 */
export function shouldBehaveAsObjectStore(factory: StoreFactory): void {
  async function expectNothingLeft(subject: StoreUnderTest, except: string[] = []): Promise<void> {
    expect(await subject.listNames()).toEqual(except);
    expect(await subject.leftovers()).toEqual([]);
  }

  describe('put', () => {
    it('stores a Buffer byte for byte', async () => {
      const subject = await factory.makeStore();
      const bytes = randomBytes(100_000);
      const name = objectName();
      await subject.store.put(name, bytes, options);
      expect(await subject.listNames()).toEqual([name]);
      expect((await subject.readBytes(name)).equals(bytes)).toBe(true);
      expect(await subject.leftovers()).toEqual([]);
    });

    it('stores a streamed Readable byte for byte', async () => {
      const subject = await factory.makeStore();
      const bytes = randomBytes(1024 * 1024 + 7);
      const name = objectName();
      await subject.store.put(name, chunkedStream(bytes), options);
      expect(await subject.listNames()).toEqual([name]);
      expect((await subject.readBytes(name)).equals(bytes)).toBe(true);
      expect(await subject.leftovers()).toEqual([]);
    });

    it.each([
      ['a Buffer', (bytes: Buffer): Buffer | Readable => bytes],
      ['a Readable', (bytes: Buffer): Buffer | Readable => chunkedStream(bytes)],
    ])(
      'refuses to overwrite an existing name with %s (kind "exists") and keeps the first object',
      async (_label, body) => {
        const subject = await factory.makeStore();
        const first = randomBytes(50_000);
        const name = objectName();
        await subject.store.put(name, first, options);

        const error = await rejectionOf(
          subject.store.put(name, body(randomBytes(60_000)), options),
        );
        expect(isStorageError(error)).toBe(true);
        expect(error).toMatchObject({ kind: 'exists' });

        expect(await subject.listNames()).toEqual([name]);
        expect((await subject.readBytes(name)).equals(first)).toBe(true);
        expect(await subject.leftovers()).toEqual([]);
      },
    );

    it('leaves nothing when the stream fails after some bytes were written', async () => {
      const subject = await factory.makeStore();
      const stream = streamThen(randomBytes(512 * 1024), (source) =>
        source.destroy(new Error('the client sent garbage')),
      );
      const error = await rejectionOf(subject.store.put(objectName(), stream, options));
      expect(error).toMatchObject({ message: expect.any(String) });
      await expectNothingLeft(subject);
    });

    it('leaves nothing when the signal aborts in the middle of a stream', async () => {
      const subject = await factory.makeStore();
      const controller = new AbortController();
      // The client goes away: the body never ends, the request's signal fires.
      const stream = streamThen(randomBytes(512 * 1024), () =>
        controller.abort(new Error('client closed the connection')),
      );
      const name = objectName();
      let askedForFinalMetadata = false;
      const error = await rejectionOf(
        subject.store.put(name, stream, {
          ...options,
          finalMetadata: () => {
            askedForFinalMetadata = true;
            return { sha256: 'of a body that never ended' };
          },
          signal: controller.signal,
        }),
      );
      expect(error).toMatchObject({ message: expect.any(String) });
      expect(askedForFinalMetadata).toBe(false);
      // No object, no temp file, and no metadata (the local driver's sidecar) either.
      await expectNothingLeft(subject);
      expect(await subject.store.stat(name)).toBeUndefined();
    });

    it('writes nothing for a signal that was already aborted', async () => {
      const subject = await factory.makeStore();
      const signal = AbortSignal.abort(new Error('client closed the connection'));
      const error = await rejectionOf(
        subject.store.put(objectName(), randomBytes(1000), { ...options, signal }),
      );
      expect(error).toMatchObject({ message: expect.any(String) });
      await expectNothingLeft(subject);
    });

    it.each([
      ['a Buffer', (bytes: Buffer): Buffer | Readable => bytes],
      ['a Readable', (bytes: Buffer): Buffer | Readable => chunkedStream(bytes)],
    ])(
      'keeps the first object’s content type and metadata when a write with %s is refused',
      async (_label, body) => {
        const subject = await factory.makeStore();
        const name = objectName();
        const first = randomBytes(2000);
        await subject.store.put(name, first, {
          contentType: 'image/png',
          metadata: { written: 'first' },
        });

        const error = await rejectionOf(
          subject.store.put(name, body(randomBytes(3000)), {
            contentType: 'image/jpeg',
            metadata: { written: 'second' },
            finalMetadata: () => ({ sha256: 'of the second body' }),
          }),
        );
        expect(error).toMatchObject({ name: 'StorageError', kind: 'exists' });
        expect(await subject.store.stat(name)).toMatchObject({
          size: first.length,
          contentType: 'image/png',
        });
        expect((await subject.store.stat(name))?.metadata).toEqual({ written: 'first' });
        await expectNothingLeft(subject, [name]);
      },
    );

    it('keeps other objects when one write fails', async () => {
      const subject = await factory.makeStore();
      const kept = objectName();
      await subject.store.put(kept, randomBytes(1000), options);
      const stream = streamThen(randomBytes(64 * 1024), (source) =>
        source.destroy(new Error('cut')),
      );
      await rejectionOf(subject.store.put(objectName(), stream, options));
      await expectNothingLeft(subject, [kept]);
    });
  });

  describe('stat', () => {
    it.each([
      ['a Buffer', (bytes: Buffer): Buffer | Readable => bytes],
      ['a Readable', (bytes: Buffer): Buffer | Readable => chunkedStream(bytes)],
    ])(
      'reports the size, content type and metadata put with %s, finalMetadata merged over it',
      async (_label, body) => {
        const subject = await factory.makeStore();
        const bytes = randomBytes(300_000);
        const name = objectName('webp');
        await subject.store.put(name, body(bytes), {
          contentType: 'image/webp',
          metadata: { width: '640', owner: 'api_key:key:0123', sha256: 'replaced' },
          finalMetadata: () => ({ sha256: 'a'.repeat(64) }),
        });

        const info = await subject.store.stat(name);
        expect(info).toMatchObject({ size: bytes.length, contentType: 'image/webp' });
        expect(info?.metadata).toEqual({
          width: '640',
          owner: 'api_key:key:0123',
          sha256: 'a'.repeat(64),
        });
        await expectNothingLeft(subject, [name]);
      },
    );

    it('answers undefined for a name with no object', async () => {
      const subject = await factory.makeStore();
      await subject.store.put(objectName(), randomBytes(10), options);
      expect(await subject.store.stat(objectName())).toBeUndefined();
    });

    it('says whether an object exists, as stat does, before and after its delete', async () => {
      const subject = await factory.makeStore();
      const name = objectName();
      expect(await subject.store.exists(name)).toBe(false);
      await subject.store.put(name, randomBytes(10), options);
      expect(await subject.store.exists(name)).toBe(true);
      expect(await subject.store.exists(objectName())).toBe(false);
      await subject.store.delete(name);
      expect(await subject.store.exists(name)).toBe(false);
    });
  });

  describe('read', () => {
    async function readAll(stream: Readable): Promise<Buffer> {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }

    it('streams the exact bytes, with their count', async () => {
      const subject = await factory.makeStore();
      const bytes = randomBytes(300_000);
      const name = objectName('webp');
      await subject.store.put(name, chunkedStream(bytes), {
        contentType: 'image/webp',
        metadata: { renditionOf: 'x' },
      });
      const found = await subject.store.read(name);
      expect(found?.size).toBe(bytes.length);
      expect(Buffer.compare(await readAll(found!.body), bytes)).toBe(0);
    });

    it('names a file holding the exact bytes, where the driver keeps files (filePath)', async () => {
      const subject = await factory.makeStore();
      const { store } = subject;
      if (store.filePath === undefined) {
        expect(store.driver).toBe('gcs');
        return;
      }
      const bytes = randomBytes(100_000);
      const name = objectName('webp');
      await store.put(name, bytes, options);
      expect(Buffer.compare(await readFile(store.filePath(name)), bytes)).toBe(0);
      await store.delete(name);
      await expect(readFile(store.filePath(name))).rejects.toThrow(/ENOENT/);
    });

    it('answers undefined for a name with no object, and for a deleted one', async () => {
      const subject = await factory.makeStore();
      const name = objectName();
      expect(await subject.store.read(name)).toBeUndefined();
      await subject.store.put(name, randomBytes(10), options);
      await subject.store.delete(name);
      expect(await subject.store.read(name)).toBeUndefined();
    });
  });

  describe('updateMetadata', () => {
    it('sets entries and keeps the others, the bytes and the content type', async () => {
      const subject = await factory.makeStore();
      const name = objectName();
      const bytes = randomBytes(1000);
      await subject.store.put(name, bytes, { contentType: 'image/png', metadata: { width: '64' } });
      expect(await subject.store.updateMetadata(name, { focus: '0.25,0.75' })).toBe(true);
      expect(await subject.store.updateMetadata(name, { focus: '0.5,0.5' })).toBe(true);
      const info = await subject.store.stat(name);
      expect(info).toMatchObject({ size: 1000, contentType: 'image/png' });
      expect(info?.metadata).toEqual({ width: '64', focus: '0.5,0.5' });
      expect(Buffer.compare(await subject.readBytes(name), bytes)).toBe(0);
      await expectNothingLeft(subject, [name]);
    });

    it('answers false for a name with no object, and creates nothing', async () => {
      const subject = await factory.makeStore();
      expect(await subject.store.updateMetadata(objectName(), { focus: '0,0' })).toBe(false);
      await expectNothingLeft(subject);
    });
  });

  describe('list', () => {
    it('names every object under a prefix, and nothing else', async () => {
      const subject = await factory.makeStore();
      const id = randomUUID();
      const other = objectName();
      const names = [`${id}.jpg`, `${id}.r-0123456789abcdef01234567.webp`, `${id}.thumbnail.webp`];
      for (const name of [...names, other]) {
        await subject.store.put(name, randomBytes(10), options);
      }
      expect((await subject.store.list(`${id}.`)).sort()).toEqual([...names].sort());
      await subject.store.delete(names[1]!);
      expect((await subject.store.list(`${id}.`)).sort()).toEqual([names[0], names[2]].sort());
      expect(await subject.store.list(`${randomUUID()}.`)).toEqual([]);
    });
  });

  describe('delete', () => {
    it('removes the object and its metadata', async () => {
      const subject = await factory.makeStore();
      const name = objectName();
      await subject.store.put(name, randomBytes(1000), options);
      await subject.store.delete(name);
      expect(await subject.store.stat(name)).toBeUndefined();
      // For the local driver: its sidecar is gone too, not only the file.
      await expectNothingLeft(subject);
    });

    it('removes the object', async () => {
      const subject = await factory.makeStore();
      const kept = objectName();
      const removed = objectName('jpg');
      await subject.store.put(kept, randomBytes(10), options);
      await subject.store.put(removed, randomBytes(10), options);
      await subject.store.delete(removed);
      expect(await subject.listNames()).toEqual([kept]);
    });

    it('accepts a name that does not exist', async () => {
      const subject = await factory.makeStore();
      await expect(subject.store.delete(objectName())).resolves.toBeUndefined();
      await expectNothingLeft(subject);
    });

    it('frees the name for a new object, which keeps only its own metadata', async () => {
      const subject = await factory.makeStore();
      const name = objectName();
      await subject.store.put(name, randomBytes(10), {
        contentType: 'image/png',
        metadata: { written: 'first', owner: 'jwt:sub:someone' },
      });
      await subject.store.delete(name);
      const again = randomBytes(20);
      await subject.store.put(name, again, {
        contentType: 'image/gif',
        metadata: { written: 'second' },
      });
      expect((await subject.readBytes(name)).equals(again)).toBe(true);
      const info = await subject.store.stat(name);
      expect(info).toMatchObject({ size: 20, contentType: 'image/gif' });
      expect(info?.metadata).toEqual({ written: 'second' });
    });
  });

  describe('publicUrl', () => {
    it('names the object under the store’s public base', async () => {
      const subject = await factory.makeStore();
      const name = objectName('webp');
      expect(subject.store.publicUrl(name)).toBe(subject.expectedPublicUrl(name));
      expect(() => new URL(subject.store.publicUrl(name))).not.toThrow();
    });
  });
}
