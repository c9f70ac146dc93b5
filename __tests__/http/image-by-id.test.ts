import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createHash, randomBytes } from 'node:crypto';
import { sha256Metadata, toObjectMetadata } from '../../src/ingest/image-record.js';
import { uploaderKeysFor } from '../../src/ingest/uploader-keys.js';
import { drivers, fixture, sha256 } from '../support/requests.js';
import { expectErrorResponse } from './expect-error.js';
import { useEmulatorProxies, useHarnesses, type Harness } from './harness.js';
import { alicesKey, bobsKey, jwtFor, keyedEnv } from '../support/callers.js';

/** The owner string an API key's caller gets (src/http/middleware/auth.ts), spelled out. */
const ownerOfKey = (key: string): string => `api_key:key:${sha256(Buffer.from(key)).slice(0, 16)}`;

const harnessFor = useHarnesses();

interface Seeded {
  readonly id: string;
  readonly name: string;
  readonly bytes: Buffer;
  readonly deleteToken: string;
}

interface SeedOptions {
  readonly file?: string;
  readonly contentType?: string;
  readonly extension?: string;
  readonly owner?: string;
  readonly frames?: number;
  /**
   * `before-uploader`: as stored before images kept `uploader`: the owner in clear and the
   * SHA-256 of a random delete token. `bare`: a record that keeps no uploader at all.
   */
  readonly kept?: 'before-uploader' | 'bare';
}

/**
 * Stores a real image with its record in the object's metadata, as the upload pipeline is to
 * write it (POST does not yet), straight through the store.
 */
async function seed(harness: Harness, options: SeedOptions = {}): Promise<Seeded> {
  const id = randomUUID();
  const name = `${id}.${options.extension ?? 'png'}`;
  const bytes = fixture(options.file ?? 'photo.png');
  // The app's own keys: the same kept secret (local) or this process's (GCS).
  const keys = uploaderKeysFor(harness.config);
  const legacyToken = randomBytes(24).toString('base64url');
  const deleteToken = options.kept === undefined ? await keys.deleteToken(id) : legacyToken;
  await harness.store.put(name, bytes, {
    contentType: options.contentType ?? 'image/png',
    metadata: {
      ...toObjectMetadata({
        width: 640,
        height: 480,
        frames: options.frames,
        orientation: 1,
        createdAt: '2026-12-01T20:00:00.000Z',
        uploader: options.kept === undefined ? await keys.uploaderOf(id, options.owner) : undefined,
      }),
      ...(options.kept === 'before-uploader'
        ? {
            ...(options.owner === undefined ? {} : { owner: options.owner }),
            deleteTokenSha256: createHash('sha256').update(legacyToken).digest('hex'),
          }
        : {}),
      ...sha256Metadata(sha256(bytes)),
    },
  });
  return { id, name, bytes, deleteToken };
}

const bearer = (credential: string): string => `Bearer ${credential}`;

/** Fails unless the image is gone: its description, and its bytes at their URL or in the bucket. */
async function expectGone(harness: Harness, image: Seeded, credential?: string): Promise<void> {
  const get = request(harness.callback).get(`/v1/images/${image.id}`);
  const response = await (credential === undefined ? get : get.set('Authorization', credential));
  expectErrorResponse(response, 'not_found');
  expect(await harness.storedNames()).not.toContain(image.name);
  expect(await harness.store.stat(image.name)).toBeUndefined();
  if (harness.driver === 'local') {
    const url = new URL(harness.store.publicUrl(image.name));
    expect((await request(harness.callback).get(url.pathname)).status).toBe(404);
  }
}

describe.each(drivers)('GET and DELETE /v1/images/:id on the %s driver', (driver) => {
  describe('GET', () => {
    it('describes a stored image as the upload’s 201 does, and keeps owner and token private', async () => {
      const harness = await harnessFor(driver);
      const image = await seed(harness, { owner: ownerOfKey(alicesKey) });

      const response = await request(harness.callback).get(`/v1/images/${image.id}`);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({
        id: image.id,
        name: image.name,
        url: harness.store.publicUrl(image.name),
        contentType: 'image/png',
        extension: 'png',
        bytes: image.bytes.length,
        sha256: sha256(image.bytes),
        width: 640,
        height: 480,
        orientation: 1,
        createdAt: '2026-12-01T20:00:00.000Z',
        // 640 wide: RENDER_WIDTHS' 320, then its own width (renditions.test.ts checks them).
        renditions: {
          srcset: expect.stringMatching(/render\?w=320&?.* 320w, .*render\?w=640&?.* 640w$/),
          widths: [
            { width: 320, url: expect.stringContaining(`/v1/images/${image.id}/render?w=320`) },
            { width: 640, url: expect.stringContaining(`/v1/images/${image.id}/render?w=640`) },
          ],
        },
        display: {
          url: harness.store.publicUrl(image.name),
          width: 640,
          height: 480,
          contentType: 'image/png',
        },
      });
      expect(response.text).not.toMatch(/owner|deleteToken|api_key/i);
    });

    it('finds an image under any allowed extension and reports its frames', async () => {
      const harness = await harnessFor(driver);
      const image = await seed(harness, {
        file: 'anim.gif',
        contentType: 'image/gif',
        extension: 'gif',
        frames: 3,
      });
      const response = await request(harness.callback).get(`/v1/images/${image.id}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        name: image.name,
        contentType: 'image/gif',
        extension: 'gif',
        frames: 3,
        bytes: image.bytes.length,
      });
    });

    it('answers 404 for an object that carries no record', async () => {
      const harness = await harnessFor(driver);
      const id = randomUUID();
      await harness.store.put(`${id}.png`, fixture('photo.png'), {
        contentType: 'image/png',
        metadata: sha256Metadata(sha256(fixture('photo.png'))),
      });
      const response = await request(harness.callback).get(`/v1/images/${id}`);
      expectErrorResponse(response, 'not_found');
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it.each([
      ['an unknown id', (): string => randomUUID()],
      ['the id in uppercase', (id: string): string => id.toUpperCase()],
      ['the object name', (id: string): string => `${id}.png`],
      ['a path climbing out', (): string => '..%2Fetc%2Fpasswd'],
      ['a path climbing out, not encoded', (): string => '../../etc/passwd'],
      ['the sidecar folder', (id: string): string => `..%2F.meta%2F${id}.png.json`],
      ['a broken percent escape', (): string => '%E0%A4%A'],
      ['an id with a NUL', (id: string): string => `${id}%00`],
    ])('answers 404 for %s', async (_label, idFor) => {
      const harness = await harnessFor(driver);
      const image = await seed(harness);
      const response = await request(harness.callback).get(`/v1/images/${idFor(image.id)}`);
      expectErrorResponse(response, 'not_found');
      expect(await harness.storedNames()).toEqual([image.name]);
    });
  });

  describe('DELETE by an authenticated caller', () => {
    it('lets the owner delete (204), after which the image is gone and nothing else is', async () => {
      const harness = await harnessFor(driver, keyedEnv);
      const image = await seed(harness, { owner: ownerOfKey(alicesKey) });
      const other = await seed(harness, { owner: ownerOfKey(alicesKey) });

      const response = await request(harness.callback)
        .delete(`/v1/images/${image.id}`)
        .set('Authorization', bearer(alicesKey));
      expect(response.status).toBe(204);
      expect(response.text).toBe('');

      await expectGone(harness, image, bearer(alicesKey));
      expect(await harness.storedNames()).toEqual([other.name]);
      expect((await harness.storedBytes(other.name)).equals(other.bytes)).toBe(true);
      expect(await harness.leftovers()).toEqual([]);
    });

    it('lets the owner of a JWT subject delete', async () => {
      const harness = await harnessFor(driver, keyedEnv);
      const image = await seed(harness, { owner: 'jwt:sub:user-42' });
      const someoneElse = await request(harness.callback)
        .delete(`/v1/images/${image.id}`)
        .set('Authorization', bearer(await jwtFor('user-43')));
      expectErrorResponse(someoneElse, 'forbidden');

      const response = await request(harness.callback)
        .delete(`/v1/images/${image.id}`)
        .set('Authorization', bearer(await jwtFor('user-42')));
      expect(response.status).toBe(204);
      await expectGone(harness, image, bearer(alicesKey));
    });

    it('refuses another caller (403) and keeps the image', async () => {
      const harness = await harnessFor(driver, keyedEnv);
      const image = await seed(harness, { owner: ownerOfKey(alicesKey) });

      const response = await request(harness.callback)
        .delete(`/v1/images/${image.id}`)
        .set('Authorization', bearer(bobsKey));
      expectErrorResponse(response, 'forbidden');
      expect(response.body).toMatchObject({
        error: { message: 'You may not delete this image.' },
      });
      expect(await harness.storedNames()).toEqual([image.name]);
      const get = await request(harness.callback)
        .get(`/v1/images/${image.id}`)
        .set('Authorization', bearer(bobsKey));
      expect(get.status).toBe(200);
    });

    it('refuses another caller’s delete token on an owned image (403)', async () => {
      const harness = await harnessFor(driver, keyedEnv);
      const image = await seed(harness, { owner: ownerOfKey(alicesKey) });
      const response = await request(harness.callback)
        .delete(`/v1/images/${image.id}`)
        .set('Authorization', bearer(bobsKey))
        .set('Delete-Token', image.deleteToken);
      expectErrorResponse(response, 'forbidden');
      expect(await harness.storedNames()).toEqual([image.name]);
    });

    it('lets the owner, and a random token, still delete an image stored before `uploader`', async () => {
      const harness = await harnessFor(driver, keyedEnv);
      const owned = await seed(harness, { owner: ownerOfKey(alicesKey), kept: 'before-uploader' });
      const byOwner = await request(harness.callback)
        .delete(`/v1/images/${owned.id}`)
        .set('Authorization', bearer(alicesKey));
      expect(byOwner.status).toBe(204);
      const image = await seed(harness, { owner: ownerOfKey(alicesKey), kept: 'before-uploader' });
      const response = await request(harness.callback)
        .delete(`/v1/images/${image.id}`)
        .set('Authorization', bearer(bobsKey))
        .set('Delete-Token', image.deleteToken);
      expect(response.status).toBe(204);
      await expectGone(harness, image, bearer(bobsKey));
    });

    it('answers 404 for an unknown id, and 401 without credentials before looking', async () => {
      const harness = await harnessFor(driver, keyedEnv);
      const image = await seed(harness, { owner: ownerOfKey(alicesKey) });
      const unknown = await request(harness.callback)
        .delete(`/v1/images/${randomUUID()}`)
        .set('Authorization', bearer(alicesKey));
      expectErrorResponse(unknown, 'not_found');

      const anonymous = await request(harness.callback)
        .delete(`/v1/images/${image.id}`)
        .set('Delete-Token', image.deleteToken);
      expectErrorResponse(anonymous, 'unauthorized');
      expect(await harness.storedNames()).toEqual([image.name]);
    });
  });

  describe('DELETE when the service runs open (anonymous callers)', () => {
    it('deletes with the right delete token (204)', async () => {
      const harness = await harnessFor(driver);
      const image = await seed(harness);
      const kept = await seed(harness);
      const response = await request(harness.callback)
        .delete(`/v1/images/${image.id}`)
        .set('Delete-Token', image.deleteToken);
      expect(response.status).toBe(204);
      await expectGone(harness, image);
      expect(await harness.storedNames()).toEqual([kept.name]);
      expect(await harness.leftovers()).toEqual([]);
    });

    it.each([
      ['no token', undefined],
      ['an empty token', ''],
      ['a wrong token', 'not-the-token'],
      ['another image’s token', 'other'],
    ])('refuses %s (403) and keeps the image', async (_label, presented) => {
      const harness = await harnessFor(driver);
      const image = await seed(harness);
      const other = await seed(harness);
      const token = presented === 'other' ? other.deleteToken : presented;
      const call = request(harness.callback).delete(`/v1/images/${image.id}`);
      const response = await (token === undefined ? call : call.set('Delete-Token', token));
      expectErrorResponse(response, 'forbidden');
      expect(await harness.storedNames()).toEqual([image.name, other.name].sort());
    });

    it('refuses any token for an image whose record keeps none', async () => {
      const harness = await harnessFor(driver);
      const image = await seed(harness, { kept: 'bare' });
      const response = await request(harness.callback)
        .delete(`/v1/images/${image.id}`)
        .set('Delete-Token', image.deleteToken);
      expectErrorResponse(response, 'forbidden');
      expect(await harness.storedNames()).toEqual([image.name]);
    });

    it('answers 404 for an unknown or malformed id, token or not', async () => {
      const harness = await harnessFor(driver);
      const image = await seed(harness);
      for (const id of [randomUUID(), image.id.toUpperCase(), `${image.id}.png`, '..%2Fetc']) {
        const response = await request(harness.callback)
          .delete(`/v1/images/${id}`)
          .set('Delete-Token', image.deleteToken);
        expectErrorResponse(response, 'not_found');
      }
      expect(await harness.storedNames()).toEqual([image.name]);
    });
  });
});

describe('the store failing', () => {
  const emulatorProxy = useEmulatorProxies();

  it.each(['stat', 'delete'] as const)(
    'answers 503 storage_unavailable with Retry-After when %s fails',
    async (operation) => {
      // The gcs driver reaches the emulator through toxiproxy; once the image is seeded the
      // proxy is disabled, so the store's calls are refused for real.
      const proxy = await emulatorProxy();
      const harness = await harnessFor('gcs', {
        GCS_API_ENDPOINT: proxy.endpoint,
        STORE_TIMEOUT_MS: '1000',
        STORE_ATTEMPT_TIMEOUT_MS: '300',
      });
      const image = await seed(harness);
      await proxy.setEnabled(false);
      const call =
        operation === 'stat'
          ? request(harness.callback).get(`/v1/images/${image.id}`)
          : request(harness.callback)
              .delete(`/v1/images/${image.id}`)
              .set('Delete-Token', image.deleteToken);
      const response = await call;
      expectErrorResponse(response, 'storage_unavailable');
      expect(response.headers['retry-after']).toBe('5');
      expect(await harness.storedNames()).toEqual([image.name]);
    },
  );
});

describe('the local driver’s sidecars', () => {
  it('are never served from /uploads/', async () => {
    const harness = await harnessFor('local');
    const image = await seed(harness, { owner: ownerOfKey(alicesKey) });
    for (const path of [
      '/uploads/.meta',
      `/uploads/.meta/${image.name}.json`,
      `/uploads/.meta%2F${image.name}.json`,
      `/uploads/..%2F.meta%2F${image.name}.json`,
      `/uploads/${image.name}.json`,
    ]) {
      const response = await request(harness.callback).get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.text).not.toContain('deleteTokenSha256');
    }
  });
});

describe('CORS for DELETE', () => {
  it('grants a browser on an allowed origin DELETE with a Delete-Token header', async () => {
    const harness = await harnessFor('local', { CORS_ORIGINS: 'https://app.example.com' });
    const response = await request(harness.callback)
      .options(`/v1/images/${randomUUID()}`)
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'DELETE')
      .set('Access-Control-Request-Headers', 'delete-token');
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(response.headers['access-control-allow-methods']).toContain('DELETE');
    expect(response.headers['access-control-allow-headers']).toMatch(/Delete-Token/);
  });
});
