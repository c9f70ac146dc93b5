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
});
