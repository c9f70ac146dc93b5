import { sha256Metadata, toObjectMetadata } from '../../src/ingest/image-record.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { sha256 } from './requests.js';

/**
 * Puts a PNG straight into the store as an earlier version of the service wrote it: the facts
 * of its record, no `uploader`, and `before` (e.g. `owner` in clear, `deleteTokenSha256`).
 */
export async function putImageStoredBefore(
  store: ObjectStore,
  name: string,
  bytes: Buffer,
  before: Record<string, string>,
): Promise<void> {
  await store.put(name, bytes, {
    contentType: 'image/png',
    metadata: {
      ...toObjectMetadata({
        width: 640,
        height: 480,
        frames: undefined,
        orientation: 1,
        createdAt: '2026-12-01T20:00:00.000Z',
        uploader: undefined,
      }),
      ...before,
      ...sha256Metadata(sha256(bytes)),
    },
  });
}
