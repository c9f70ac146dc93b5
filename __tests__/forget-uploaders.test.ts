import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { forgetUploaders } from '../src/forget-uploaders.js';
import { uploaderKeysFor } from '../src/ingest/uploader-keys.js';
import { useHarnesses } from './http/harness.js';
import { alicesKey, bobsKey, keyedEnv } from './support/callers.js';
import { emulatorClient } from './support/gcs.js';
import { putImageStoredBefore } from './support/stored-images.js';
import { fixture, sha256 } from './support/requests.js';

/**
 * `node dist/forget-uploaders.js` on the emulator: images an earlier version stored with
 * `owner` in clear (served as X-Goog-Meta-Owner) keep `uploader` instead, and their owner
 * still deletes them.
 */

const harnessFor = useHarnesses();
const ownerOfKey = (key: string): string => `api_key:key:${sha256(Buffer.from(key)).slice(0, 16)}`;

describe('forgetUploaders', () => {
  it('replaces a clear owner by the uploader HMAC; the owner still deletes, no one else', async () => {
    const harness = await harnessFor('gcs', {
      ...keyedEnv,
      UPLOADER_SECRET: 'an-uploader-secret-of-32-bytes-or-more',
    });
    const bytes = fixture('photo.png');
    const id = randomUUID();
    const name = `${id}.png`;
    await putImageStoredBefore(harness.store, name, bytes, { owner: ownerOfKey(alicesKey) });
    const bucket = emulatorClient().bucket((harness.config.storage as { bucket: string }).bucket);

    expect(await forgetUploaders(bucket, uploaderKeysFor(harness.config))).toEqual({
      rewritten: 1,
      skipped: 0,
    });
    const metadata = (await harness.storedMetadata(name)).metadata ?? {};
    // GCS drops a key set to null; fake-gcs-server keeps it, empty. Either way nobody is named.
    expect(metadata.owner ?? '').toBe('');
    expect(metadata.uploader).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(metadata)).not.toContain('api_key');
    // Nothing left to rewrite on a second run.
    expect(await forgetUploaders(bucket, uploaderKeysFor(harness.config))).toEqual({
      rewritten: 0,
      skipped: 0,
    });

    const byBob = await request(harness.callback)
      .delete(`/v1/images/${id}`)
      .set('Authorization', `Bearer ${bobsKey}`);
    expect(byBob.status).toBe(403);
    const byAlice = await request(harness.callback)
      .delete(`/v1/images/${id}`)
      .set('Authorization', `Bearer ${alicesKey}`);
    expect(byAlice.status).toBe(204);
  });
});
