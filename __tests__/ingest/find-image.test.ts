import { describe, expect, it } from '@jest/globals';
import { findStoredImage } from '../../src/ingest/find-image.js';
import { sha256Metadata, toObjectMetadata } from '../../src/ingest/image-record.js';
import type { ObjectStore, StoredObjectInfo } from '../../src/storage/object-store.js';

const id = '0b7f4a52-1c3e-4d6f-8a9b-2c4d6e8f0a1b';
const metadata = {
  ...toObjectMetadata({
    width: 3,
    height: 2,
    frames: undefined,
    orientation: 1,
    createdAt: '2026-12-01T20:00:00.000Z',
    uploader: undefined,
  }),
  ...sha256Metadata('c'.repeat(64)),
};

/** A store holding `objects`, recording every name it was asked about. */
function storeOf(objects: Record<string, StoredObjectInfo>): {
  store: ObjectStore;
  asked: string[];
} {
  const asked: string[] = [];
  const store = {
    stat: (name: string) => {
      asked.push(name);
      return Promise.resolve(objects[name]);
    },
  } as Partial<ObjectStore> as ObjectStore;
  return { store, asked };
}

describe('findStoredImage', () => {
  it('looks under each allowed type’s extension and reads the record found', async () => {
    const { store, asked } = storeOf({
      [`${id}.webp`]: { size: 10, contentType: 'image/webp', md5: undefined, metadata },
    });
    const record = await findStoredImage(store, id, ['image/png', 'image/webp', 'image/png']);
    expect(asked.sort()).toEqual([`${id}.png`, `${id}.webp`]);
    expect(record).toMatchObject({ id, name: `${id}.webp`, contentType: 'image/webp', bytes: 10 });
  });

  it('takes the content type from the extension when the object has none', async () => {
    const { store } = storeOf({
      [`${id}.tif`]: { size: 10, contentType: undefined, md5: undefined, metadata },
    });
    expect(await findStoredImage(store, id, ['image/tiff'])).toMatchObject({
      contentType: 'image/tiff',
      extension: 'tif',
    });
  });

  it('answers undefined for an object without a record', async () => {
    const { store } = storeOf({
      [`${id}.png`]: { size: 10, contentType: 'image/png', md5: undefined, metadata: {} },
    });
    expect(await findStoredImage(store, id, ['image/png'])).toBeUndefined();
  });

  it.each([
    id.toUpperCase(),
    `${id}.png`,
    `../${id}`,
    `${id}/..`,
    `${id}\n`,
    ` ${id}`,
    '',
    '0b7f4a52-1c3e-4d6f-8a9b-2c4d6e8f0a1',
  ])('never builds a name from %j', async (candidate) => {
    const { store, asked } = storeOf({});
    expect(await findStoredImage(store, candidate, ['image/png'])).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('stops and waits for the other lookups when one fails, before it answers', async () => {
    // One extension's stat fails at once; the others stand for stats still retrying, which
    // end only when told to stop. The failure must come out only once they have ended.
    const ended: string[] = [];
    const failure = Object.assign(new Error('store unreachable'), { code: 'ECONNREFUSED' });
    const store = {
      stat: (name: string, signal?: AbortSignal) => {
        if (name.endsWith('.png')) return Promise.reject(failure);
        return new Promise<never>((_, reject) => {
          signal?.addEventListener('abort', () => {
            setTimeout(() => {
              ended.push(name);
              reject(new Error('stopped'));
            }, 20);
          });
        });
      },
    } as Partial<ObjectStore> as ObjectStore;
    await expect(
      findStoredImage(store, id, ['image/webp', 'image/png', 'image/jpeg']),
    ).rejects.toBe(failure);
    expect(ended.sort()).toEqual([`${id}.jpg`, `${id}.webp`]);
  });

  it('stops the lookups when the caller’s signal fires', async () => {
    const stopped: string[] = [];
    const store = {
      stat: (name: string, signal?: AbortSignal) =>
        new Promise<never>((_, reject) => {
          signal?.addEventListener('abort', () => {
            stopped.push(name);
            reject(signal.reason as Error);
          });
        }),
    } as Partial<ObjectStore> as ObjectStore;
    const caller = new AbortController();
    const found = findStoredImage(store, id, ['image/webp', 'image/png'], caller.signal);
    const gone = new Error('client closed the connection');
    caller.abort(gone);
    await expect(found).rejects.toBe(gone);
    expect(stopped.sort()).toEqual([`${id}.png`, `${id}.webp`]);
  });
});
