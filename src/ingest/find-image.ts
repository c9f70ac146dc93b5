import { typeOfExtensionName, type ImageMimeType } from '../images/image-types.js';
import type { ObjectStore } from '../storage/object-store.js';
import { findEarlierObject } from './idempotency.js';
import { fromStoredObject, type ImageRecord } from './image-record.js';

/** The ids this service gives images: UUIDs in lowercase, the form object names use. */
const imageIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isImageId(id: string): boolean {
  return imageIdPattern.test(id);
}

/**
 * Finds the image stored under `id`, whatever extension its type gave it, and reads its record
 * back from the object's metadata. Undefined for an id this service would never make, for no
 * such object, and for an object that does not carry a complete record. The id comes from a
 * client, so it is checked before any name is built from it.
 */
export async function findStoredImage(
  store: ObjectStore,
  id: string,
  allowedTypes: readonly ImageMimeType[],
  signal?: AbortSignal,
): Promise<ImageRecord | undefined> {
  if (!isImageId(id)) return undefined;
  const found = await findEarlierObject(store, id, allowedTypes, signal);
  if (found === undefined) return undefined;
  const extension = found.name.slice(found.name.lastIndexOf('.') + 1);
  const contentType = found.info.contentType ?? typeOfExtensionName(extension);
  return contentType === undefined
    ? undefined
    : fromStoredObject(found.name, contentType, found.info);
}

/**
 * Removes a stored image: its variants first, then the original. Should a delete fail midway,
 * the original still lists what is left, and a second attempt finishes the job.
 */
export async function deleteStoredImage(store: ObjectStore, record: ImageRecord): Promise<void> {
  const derived = [
    ...(record.variants ?? []),
    ...(record.display === undefined ? [] : [record.display]),
  ];
  await Promise.all(derived.map((variant) => store.delete(variant.objectName)));
  await store.delete(record.name);
}
