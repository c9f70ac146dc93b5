import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DirectUploadCreated } from '../../src/http/routes/direct-uploads.js';
import { drivers, fixture, fixturesDirectory, type Driver } from '../support/requests.js';
import { emulatorEndpoint } from '../support/gcs.js';
import { newSigningAccount, signingClient } from '../support/signing.js';
import {
  serve,
  sweepStaging,
  useCleanups,
  useEmulatorProxies,
  useHarnesses,
  type Harness,
} from './harness.js';
import type { SweepResult } from '../../src/uploads/sweep.js';

/**
 * Direct uploads end to end, on both drivers: POST /v1/uploads/direct, the bytes sent to the
 * URL it gives (curl for a signed PUT, chunked PUTs to a resumable session), then complete,
 * which must answer as POST /v1/images does and leave nothing unverified behind.
 */

const run = promisify(execFile);
const account = newSigningAccount();
const keyA = 'k_direct_caller_a_0123456789';
const keyB = 'k_direct_caller_b_0123456789';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    headers: response.headers,
  };
}

describe.each(drivers)('direct uploads with the %s driver', (driver: Driver) => {
  const harnessFor = useHarnesses();
  const defer = useCleanups();

  async function start(
    env: Record<string, string> = {},
  ): Promise<{ harness: Harness; base: string }> {
    const harness = await harnessFor(driver, env, {
      storageClient: driver === 'gcs' ? signingClient(account) : undefined,
    });
    return { harness, base: await serve(harness, defer) };
  }

  function auth(key: string | undefined): Record<string, string> {
    return key === undefined ? {} : { Authorization: `Bearer ${key}` };
  }

  async function create(
    base: string,
    body: unknown,
    key?: string,
  ): Promise<Answer & { created: DirectUploadCreated }> {
    const answer = await answerOf(
      await fetch(`${base}/v1/uploads/direct`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...auth(key) },
        body: JSON.stringify(body),
      }),
    );
    return { ...answer, created: answer.body as unknown as DirectUploadCreated };
  }

  async function complete(created: DirectUploadCreated, key?: string): Promise<Answer> {
    return answerOf(await fetch(created.completeUrl, { method: 'POST', headers: auth(key) }));
  }

  /** The real curl binary PUTs the file with the headers the service asked for. */
  async function curlPut(created: DirectUploadCreated, file: string): Promise<number> {
    const headers = Object.entries(created.headers).flatMap(([name, value]) => [
      '-H',
      `${name}: ${value}`,
    ]);
    const { stdout } = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-T',
      path.join(fixturesDirectory, file),
      ...headers,
      created.url,
    ]);
    return Number(stdout);
  }

  /**
   * What is staged: the bucket's staging objects, or the files in the local staging folder's
   * upload folders (`<id>/<file>`).
   */
  async function stagedNames(harness: Harness): Promise<string[]> {
    if (driver === 'gcs') {
      return (await harness.storedNames()).filter((name) => name.startsWith('staging/'));
    }
    const { storage } = harness.config;
    if (storage.driver !== 'local') throw new Error('unreachable');
    const root = path.join(storage.uploadDir, '.staging', 'direct');
    const names: string[] = [];
    for (const id of (await readdir(root)).filter((entry) => entry !== '.incoming')) {
      names.push(...(await readdir(path.join(root, id))).map((file) => `${id}/${file}`));
    }
    return names.sort();
  }

  it('takes a photo PUT by curl and completes it with the JSON of POST /v1/images', async () => {
    const { harness, base } = await start();
    const photo = fixture('photo.jpg');
    const { status, created, headers } = await create(base, {
      size: photo.length,
      type: 'image/jpeg',
    });
    expect(status).toBe(201);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(created.method).toBe('put');
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(created.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect(created.completeUrl).toBe(`${base}/v1/uploads/${created.id}/complete`);
    if (driver === 'gcs') {
      expect(created.url).toContain(`/staging/direct/${created.id}/data?`);
      expect(created.url).toContain('X-Goog-Signature=');
    } else {
      expect(created.url.startsWith(`${base}/v1/uploads/direct/${created.id}?`)).toBe(true);
    }
    expect(await curlPut(created, 'photo.jpg')).toBe(200);

    const done = await complete(created);
    expect(done.status).toBe(201);
    const direct = await answerOf(
      await fetch(`${base}/v1/images`, {
        method: 'POST',
        headers: { 'Content-Type': 'image/jpeg' },
        body: photo,
      }),
    );
    expect(direct.status).toBe(201);
    expect(Object.keys(done.body).sort()).toEqual(Object.keys(direct.body).sort());
    for (const field of ['sha256', 'bytes', 'width', 'height', 'contentType']) {
      expect(done.body[field]).toEqual(direct.body[field]);
    }
    expect(done.headers.get('location')).toBe(done.body.url);
    const name = `${String(done.body.id)}.jpg`;
    expect(await harness.storedNames()).toEqual(
      expect.arrayContaining([name, `${String(direct.body.id)}.jpg`]),
    );
    // The staged bytes are gone; only the record stays, for a retried complete, until swept.
    expect(await stagedNames(harness)).toEqual(
      driver === 'gcs' ? [`staging/direct/${created.id}/upload.json`] : [`${created.id}/record.1`],
    );

    // A retried complete answers the same image, and stores no second one.
    const again = await complete(created);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(done.body);
    expect((await harness.storedNames()).filter((n) => !n.startsWith('staging/'))).toHaveLength(2);
  });

  it('takes a resumable session in 256 KiB chunks, answering 308 until the last', async () => {
    const { harness, base } = await start();
    const large = fixture('large.jpg');
    const { status, created } = await create(base, {
      size: large.length,
      type: 'image/jpeg',
      method: 'resumable',
    });
    expect(status).toBe(201);
    expect(created.method).toBe('resumable');
    const chunk = 256 * 1024;
    // No status queries: fake-gcs-server would commit the session on one (its issue 1362).
    for (let first = 0; first < large.length; first += chunk) {
      const last = Math.min(first + chunk, large.length) - 1;
      const response = await fetch(created.url, {
        method: 'PUT',
        headers: {
          ...created.headers,
          'Content-Range': `bytes ${first}-${last}/${large.length}`,
        },
        body: large.subarray(first, last + 1),
      });
      await response.arrayBuffer();
      if (last + 1 < large.length) {
        expect(response.status).toBe(308);
        expect(response.headers.get('range')).toBe(`bytes=0-${last}`);
      } else {
        expect([200, 201]).toContain(response.status);
      }
    }
    const done = await complete(created);
    expect(done.status).toBe(201);
    expect(done.body.bytes).toBeGreaterThan(0);
    expect(await harness.storedNames()).toContain(`${String(done.body.id)}.jpg`);
  });

  it('refuses an SVG put to the URL with 415 at complete, leaving nothing at all', async () => {
    const { harness, base } = await start();
    const svg = fixture('script.svg');
    const { created } = await create(base, { size: svg.length, type: 'image/svg+xml' });
    expect(await curlPut(created, 'script.svg')).toBe(200);
    const done = await complete(created);
    expect(done.status).toBe(415);
    expect((done.body.error as { code: string }).code).toBe('unsupported_image_type');
    await harness.expectNothingStored();
    expect(await stagedNames(harness)).toEqual([]);
    // The upload is gone with its bytes.
    expect((await complete(created)).status).toBe(404);
  });

  it('refuses more bytes than declared, at the PUT (local) or at complete (GCS)', async () => {
    const { harness, base } = await start();
    const photo = fixture('photo.jpg');
    const { created } = await create(base, { size: photo.length - 100, type: 'image/jpeg' });
    const put = await curlPut(created, 'photo.jpg');
    if (driver === 'local') {
      expect(put).toBe(413);
      expect(await stagedNames(harness)).toEqual([`${created.id}/record.1`]);
      expect((await complete(created)).status).toBe(409);
    } else {
      // fake-gcs-server ignores x-goog-content-length-range, which GCS enforces.
      expect(put).toBe(200);
      const done = await complete(created);
      expect(done.status).toBe(413);
      expect((done.body.error as { code: string }).code).toBe('upload_too_large');
      expect(await stagedNames(harness)).toEqual([]);
    }
    expect(
      await harness.storedNames().then((names) => names.filter((n) => !n.startsWith('staging/'))),
    ).toEqual([]);
  });

  it('answers 409 upload_incomplete before the bytes are there', async () => {
    const { base } = await start();
    const { created } = await create(base, { size: 1598 });
    const done = await complete(created);
    expect(done.status).toBe(409);
    expect((done.body.error as { code: string }).code).toBe('upload_incomplete');
  });

  it('validates the request: JSON only, a few KiB, size within MAX_IMAGE_BYTES', async () => {
    const { harness, base } = await start({ MAX_IMAGE_BYTES: '100000' });
    const post = async (body: string, type = 'application/json'): Promise<Answer> =>
      answerOf(
        await fetch(`${base}/v1/uploads/direct`, {
          method: 'POST',
          headers: { 'Content-Type': type },
          body,
        }),
      );
    const codeOf = (answer: Answer): string => (answer.body.error as { code: string }).code;
    expect(codeOf(await post('{"size": 10'))).toBe('invalid_json');
    expect((await post('{"size": 10')).status).toBe(400);
    expect((await post('{"size": 10}', 'text/plain')).status).toBe(415);
    expect(codeOf(await post('{"size": 10}', 'text/plain'))).toBe('json_required');
    const big = await post(JSON.stringify({ size: 10, pad: 'x'.repeat(10_000) }));
    expect([big.status, codeOf(big)]).toEqual([413, 'request_too_large']);
    const tooLarge = await post('{"size": 100001}');
    expect([tooLarge.status, codeOf(tooLarge)]).toEqual([413, 'payload_too_large']);
    for (const body of [
      '{"size": 0}',
      '{"size": -1}',
      '{"size": 1.5}',
      '{"size": "10"}',
      '{}',
      '[1]',
      '{"size": 10, "method": "post"}',
    ]) {
      const answer = await post(body);
      expect([body, answer.status, codeOf(answer)]).toEqual([body, 400, 'invalid_upload_request']);
    }
    expect(await stagedNames(harness)).toEqual([]);
  });

  it('answers 404 for a forged id and for another caller’s upload', async () => {
    const { base } = await start({ API_KEYS: `${keyA},${keyB}` });
    const photo = fixture('photo.jpg');
    const { status, created } = await create(base, { size: photo.length }, keyA);
    expect(status).toBe(201);
    expect(await curlPut(created, 'photo.jpg')).toBe(200);
    expect((await complete(created)).status).toBe(401);
    expect((await complete(created, keyB)).status).toBe(404);
    const forged = {
      ...created,
      completeUrl: `${base}/v1/uploads/00000000-0000-4000-8000-000000000000/complete`,
    };
    expect((await complete(forged, keyA)).status).toBe(404);
    const notAnId = { ...created, completeUrl: `${base}/v1/uploads/..%2F..%2Fetc/complete` };
    expect((await complete(notAnId, keyA)).status).toBe(404);
    const done = await complete(created, keyA);
    expect(done.status).toBe(201);
    expect(done.body.deleteToken).toBeUndefined();
    // Once completed, still not the other caller's.
    expect((await complete(created, keyB)).status).toBe(404);
  });

  it('sweeps uploads one expiry past completeBy, with their bytes, never one being completed', async () => {
    const { harness, base } = await start();
    const photo = fixture('photo.jpg');
    const { created: completing } = await create(base, { size: photo.length });
    expect(await curlPut(completing, 'photo.jpg')).toBe(200);
    const { created: abandoned } = await create(base, { size: 10 });
    const expiresSeconds = harness.config.staging.directExpiresSeconds;
    const sweep = (now?: Date): Promise<SweepResult> => sweepStaging(harness, now);
    expect(await sweep()).toEqual({ checked: 2, removed: 0, failed: 0 });
    // Just past completeBy: a complete admitted a moment before may still be reading.
    const pastCompleteBy = new Date(Date.now() + 2 * expiresSeconds * 1000 + 1000);
    const [swept, completed] = await Promise.all([sweep(pastCompleteBy), complete(completing)]);
    expect(swept).toEqual({ checked: 2, removed: 0, failed: 0 });
    expect(completed.status).toBe(201);
    expect((await stagedNames(harness)).length).toBeGreaterThan(0);
    const later = new Date(Date.now() + 3 * expiresSeconds * 1000 + 1000);
    expect(await sweep(later)).toEqual({ checked: 2, removed: 2, failed: 0 });
    expect(await stagedNames(harness)).toEqual([]);
    expect((await complete(completing)).status).toBe(404);
    expect((await complete(abandoned)).status).toBe(404);
  });
});

describe('the local driver’s upload URLs', () => {
  const harnessFor = useHarnesses();
  const defer = useCleanups();

  async function start(env: Record<string, string> = {}): Promise<string> {
    const harness = await harnessFor('local', env);
    return serve(harness, defer);
  }

  async function createPut(base: string, size: number): Promise<DirectUploadCreated> {
    const response = await fetch(`${base}/v1/uploads/direct`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ size }),
    });
    return (await response.json()) as DirectUploadCreated;
  }

  it('refuses a tampered signature (403) and an expired URL (410)', async () => {
    const base = await start({ DIRECT_UPLOAD_EXPIRES_SECONDS: '1' });
    const photo = fixture('photo.jpg');
    const created = await createPut(base, photo.length);
    const tampered = new URL(created.url);
    tampered.searchParams.set('size', String(photo.length + 1));
    const forged = await fetch(tampered, { method: 'PUT', body: photo });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_signature',
    );
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const late = await fetch(created.url, { method: 'PUT', body: photo });
    expect(late.status).toBe(410);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('upload_expired');
  });

  it('answers 410 upload_expired to a complete past twice the expiry, and removes the upload', async () => {
    const base = await start({ DIRECT_UPLOAD_EXPIRES_SECONDS: '1' });
    const photo = fixture('photo.jpg');
    const created = await createPut(base, photo.length);
    expect((await fetch(created.url, { method: 'PUT', body: photo })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const late = await fetch(created.completeUrl, { method: 'POST' });
    expect(late.status).toBe(410);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('upload_expired');
    expect((await fetch(created.completeUrl, { method: 'POST' })).status).toBe(404);
  });

  it('holds a session to its Content-Range: continuing, within the declared size', async () => {
    const base = await start();
    const response = await fetch(`${base}/v1/uploads/direct`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ size: 1000, method: 'resumable' }),
    });
    const created = (await response.json()) as DirectUploadCreated;
    const put = async (range: string, bytes: number): Promise<[number, string]> => {
      const answer = await fetch(created.url, {
        method: 'PUT',
        headers: { 'Content-Range': range },
        body: Buffer.alloc(bytes),
      });
      const text = await answer.text();
      return [
        answer.status,
        text === '' ? '' : ((JSON.parse(text) as { error?: { code: string } }).error?.code ?? ''),
      ];
    };
    expect(await put('bytes 10-19/1000', 10)).toEqual([400, 'invalid_content_range']);
    expect(await put('bytes 0-9/999', 10)).toEqual([400, 'upload_size_mismatch']);
    expect(await put('bytes 0-9/1001', 10)).toEqual([413, 'upload_too_large']);
    expect(await put('bytes 0-1000/*', 1001)).toEqual([413, 'upload_too_large']);
    expect(await put('bytes 0-9/1000', 11)).toEqual([400, 'invalid_content_range']);
    expect(await put('bytes nonsense', 10)).toEqual([400, 'invalid_content_range']);
    expect(await put('bytes 0-499/*', 500)).toEqual([308, '']);
    // The same chunk again (its answer was lost) is taken; then the rest completes it.
    expect(await put('bytes 0-499/*', 500)).toEqual([308, '']);
    expect(await put('bytes 500-999/1000', 500)).toEqual([200, '']);
  });

  it('refuses a declared Content-Length other than the size before reading the body', async () => {
    const base = await start();
    const created = await createPut(base, 1000);
    const response = await fetch(created.url, { method: 'PUT', body: Buffer.alloc(999) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'upload_size_mismatch',
    );
  });
});

describe('direct uploads with the gcs driver, the staged read cut off', () => {
  const harnessFor = useHarnesses();
  const defer = useCleanups();
  const emulatorProxy = useEmulatorProxies();

  it('answers 503 when the staged bytes break off mid-read, keeps the upload, completes on retry', async () => {
    const proxy = await emulatorProxy();
    // Direct staging goes through the proxy; publishing goes straight to the emulator.
    const harness = await harnessFor(
      'gcs',
      {},
      { storageClient: signingClient(account, proxy.endpoint) },
    );
    const base = await serve(harness, defer);
    const large = fixture('large.jpg');
    const created = (await (
      await fetch(`${base}/v1/uploads/direct`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ size: large.length }),
      })
    ).json()) as DirectUploadCreated;
    // Straight to the emulator, which routes path-style URLs by its own host name only.
    const direct = new URL(created.url);
    direct.host = new URL(emulatorEndpoint()).host;
    const put = await fetch(direct, { method: 'PUT', headers: created.headers, body: large });
    expect(put.status).toBe(200);
    // The record and the metadata fit; the download of the bytes does not.
    await proxy.addToxic('cut', {
      type: 'limit_data',
      stream: 'downstream',
      attributes: { bytes: 200_000 },
    });
    const cut = await answerOf(await fetch(created.completeUrl, { method: 'POST' }));
    expect(cut.status).toBe(503);
    expect(cut.body).toMatchObject({ error: { code: 'storage_unavailable' } });
    await proxy.removeAllToxics();
    const retried = await answerOf(await fetch(created.completeUrl, { method: 'POST' }));
    expect(retried.status).toBe(201);
  });
});
