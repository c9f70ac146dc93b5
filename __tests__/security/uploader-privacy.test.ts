import { describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { idFromIdempotencyKey } from '../../src/ingest/idempotency.js';
import {
  keptUploaderSecretFile,
  UploaderKeys,
  uploaderKeysFor,
} from '../../src/ingest/uploader-keys.js';
import { useHarnesses, type Harness } from '../http/harness.js';
import { alicesKey as aliceKey, bobsKey as bobKey, jwtFor, keyedEnv } from '../support/callers.js';
import { drivers, fixture, jsonBody, sha256 } from '../support/requests.js';
import { putImageStoredBefore } from '../support/stored-images.js';

/**
 * Issue 19, items 4 and 8. A delete token is an HMAC under UPLOADER_SECRET, not under the
 * Idempotency-Key (which anyone who knows the key could compute); and nothing that names a
 * caller is kept where GCS publishes it (custom metadata is served as X-Goog-Meta-* headers
 * with the image): only `uploader`, an HMAC of the id and the uploader.
 */

const harnessFor = useHarnesses();

/** The formula of the tokens issued before: HMAC keyed by the Idempotency-Key. */
function formerTokenOf(idempotencyKey: string, id: string): string {
  return createHmac('sha256', idempotencyKey).update(`delete-token\n${id}`).digest('base64url');
}

interface Created {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly deleteToken?: string;
}

async function upload(
  harness: Harness,
  headers: Record<string, string> = {},
  file = 'photo.png',
): Promise<{ status: number; body: Created }> {
  const response = await request(harness.callback)
    .post('/v1/images')
    .set('Content-Type', 'application/json')
    .set(headers)
    .send(jsonBody(fixture(file)));
  return { status: response.status, body: response.body as Created };
}

function deleteWith(harness: Harness, id: string, headers: Record<string, string>) {
  return request(harness.callback).delete(`/v1/images/${id}`).set(headers);
}

/** Everything a reader of the public object sees besides its bytes: headers, and metadata. */
async function publishedAbout(harness: Harness, created: Created): Promise<string> {
  if (harness.driver === 'local') {
    // The local driver serves its files itself: what its route sends is what is published.
    const served = await request(harness.callback).get(new URL(created.url).pathname);
    expect(served.status).toBe(200);
    return JSON.stringify(served.headers);
  }
  const served = await fetch(created.url);
  expect(served.status).toBe(200);
  await served.arrayBuffer();
  // What the official client reads is what GCS sends as X-Goog-Meta-* with the public image.
  const metadata = await harness.storedMetadata(created.name);
  return `${JSON.stringify([...served.headers.entries()])}\n${JSON.stringify(metadata.metadata)}`;
}

describe.each(drivers)('delete tokens and uploaders on the %s driver', (driver) => {
  it('refuses a token computed from the Idempotency-Key; the uploader’s own still deletes', async () => {
    const harness = await harnessFor(driver);
    const key = 'order-1234';
    const first = await upload(harness, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    const token = first.body.deleteToken!;
    // A third party who knows (or guesses) the key derives the id and the former token offline.
    const id = idFromIdempotencyKey(key, '');
    expect(first.body.id).toBe(id);
    const forged = await deleteWith(harness, id, { 'Delete-Token': formerTokenOf(key, id) });
    expect({ status: forged.status, body: forged.body as unknown }).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    expect(await harness.storedNames()).toEqual([first.body.name]);

    // A replay hands back the same token, without the service having stored it.
    const replay = await upload(harness, { 'Idempotency-Key': key });
    expect(replay.status).toBe(201);
    expect(replay.body.deleteToken).toBe(token);

    expect((await deleteWith(harness, id, { 'Delete-Token': token })).status).toBe(204);
    expect(await harness.storedNames()).toEqual([]);
  });

  it('judges images stored before by what they kept: a random token works, a key-derived one not', async () => {
    const harness = await harnessFor(driver);
    const bytes = fixture('photo.png');
    const seed = async (id: string, token: string): Promise<string> => {
      const name = `${id}.png`;
      // As the former version wrote them.
      await putImageStoredBefore(harness.store, name, bytes, {
        deleteTokenSha256: createHash('sha256').update(token).digest('hex'),
      });
      return name;
    };
    const key = 'order-5678';
    const derivedId = idFromIdempotencyKey(key, '');
    await seed(derivedId, formerTokenOf(key, derivedId));
    const randomId = '3f9c1b2a-4d5e-4f60-8a7b-9c0d1e2f3a4b';
    const randomToken = 'a-random-token-handed-out-before-0123';
    await seed(randomId, randomToken);

    const forged = await deleteWith(harness, derivedId, {
      'Delete-Token': formerTokenOf(key, derivedId),
    });
    expect(forged.status).toBe(403);
    // The uploader replays its upload with its key: the answer's token deletes the image.
    const replay = await upload(harness, { 'Idempotency-Key': key });
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(derivedId);
    const ownToken = replay.body.deleteToken!;
    expect((await deleteWith(harness, derivedId, { 'Delete-Token': ownToken })).status).toBe(204);

    expect((await deleteWith(harness, randomId, { 'Delete-Token': randomToken })).status).toBe(204);
    expect(await harness.storedNames()).toEqual([]);
  });

  it('publishes nothing that names the uploader, and lets only that uploader delete', async () => {
    const harness = await harnessFor(driver, keyedEnv);
    const subject = 'alice@example.com';
    const alice = { Authorization: `Bearer ${await jwtFor(subject)}` };
    const byJwt = await upload(harness, alice);
    const byJwtAgain = await upload(harness, alice, 'photo.jpg');
    const byKey = await upload(harness, { Authorization: `Bearer ${aliceKey}` });
    for (const created of [byJwt, byJwtAgain, byKey]) expect(created.status).toBe(201);

    const keyDigest = sha256(Buffer.from(aliceKey)).slice(0, 16);
    const uploaders: string[] = [];
    for (const created of [byJwt, byJwtAgain, byKey]) {
      const published = await publishedAbout(harness, created.body);
      for (const secret of [subject, 'alice', 'jwt:sub', 'api_key', keyDigest, aliceKey]) {
        expect({ name: created.body.name, published }).not.toEqual({
          name: created.body.name,
          published: expect.stringContaining(secret),
        });
      }
      expect(published).not.toMatch(/owner|deleteToken/i);
      const record = await harness.store.stat(created.body.name);
      expect(record?.metadata.uploader).toMatch(/^[0-9a-f]{64}$/);
      uploaders.push(record!.metadata.uploader!);
    }
    // Bound to the image: two images of one uploader cannot be linked through it either.
    expect(new Set(uploaders).size).toBe(3);

    const bob = { Authorization: `Bearer ${bobKey}` };
    expect((await deleteWith(harness, byJwt.body.id, bob)).status).toBe(403);
    const otherSubject = { Authorization: `Bearer ${await jwtFor('mallory')}` };
    expect((await deleteWith(harness, byJwt.body.id, otherSubject)).status).toBe(403);
    expect((await deleteWith(harness, byJwt.body.id, alice)).status).toBe(204);
    const byKeyOwner = { Authorization: `Bearer ${aliceKey}` };
    expect((await deleteWith(harness, byKey.body.id, byKeyOwner)).status).toBe(204);
  });
});

describe('the local driver’s kept files', () => {
  it('keep no caller identity in a sidecar, and the generated secret private (0600)', async () => {
    const harness = await harnessFor('local', keyedEnv);
    const created = await upload(harness, {
      Authorization: `Bearer ${await jwtFor('alice@example.com')}`,
    });
    expect(created.status).toBe(201);
    const { uploadDir } = harness.config.storage as { uploadDir: string };
    const sidecars = await readdir(path.join(uploadDir, '.meta'));
    for (const sidecar of sidecars) {
      const text = await readFile(path.join(uploadDir, '.meta', sidecar), 'utf8');
      expect(text).not.toMatch(/alice|jwt:sub|owner/);
    }
    const secretFile = keptUploaderSecretFile(uploadDir);
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
    expect((await request(harness.callback).get('/uploads/.secrets')).status).toBe(404);
    expect(
      (await request(harness.callback).get('/uploads/.secrets%2Fuploader-secret')).status,
    ).toBe(404);
  });

  it('share one generated secret between instances on one UPLOAD_DIR', async () => {
    const harness = await harnessFor('local');
    const config = harness.config;
    const [a, b] = [uploaderKeysFor(config), uploaderKeysFor(config)];
    expect(await a.deleteToken('x')).toBe(await b.deleteToken('x'));
  });
});

describe('UPLOADER_SECRET', () => {
  const secret = 'an-uploader-secret-of-32-bytes-or-more';

  it('makes the same tokens on every instance that has it, and others elsewhere', async () => {
    const config = loadConfig({ UPLOADER_SECRET: secret });
    const [a, b] = [uploaderKeysFor(config), uploaderKeysFor(config)];
    const other = new UploaderKeys(Buffer.from(`${secret}!`));
    expect(await a.deleteToken('id')).toBe(await b.deleteToken('id'));
    expect(await a.deleteToken('id')).not.toBe(await other.deleteToken('id'));
    expect(await a.uploaderOf('id', 'jwt:sub:42')).not.toBe(await a.uploaderOf('id', undefined));
  });

  it.each([
    [{ UPLOADER_SECRET: 'too-short' }],
    [{ STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'images', NODE_ENV: 'production', API_KEYS: aliceKey }],
    [{ STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'images', NODE_ENV: 'Production', API_KEYS: aliceKey }],
  ])('refuses %j, naming UPLOADER_SECRET', (env) => {
    expect(() => loadConfig(env)).toThrow(expect.objectContaining({ variable: 'UPLOADER_SECRET' }));
  });

  it('is optional for the local driver in production (kept in UPLOAD_DIR) and with GCS in development', () => {
    const renderKeys = { RENDER_SIGNING_KEYS: 'k'.repeat(32) };
    expect(
      loadConfig({ NODE_ENV: 'production', API_KEYS: aliceKey, ...renderKeys }).uploaderSecret,
    ).toBe(undefined);
    expect(loadConfig({ STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'images' }).uploaderSecret).toBe(
      undefined,
    );
  });
});
