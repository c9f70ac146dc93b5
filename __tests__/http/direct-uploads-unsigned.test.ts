import { describe, expect, it } from '@jest/globals';
import { Storage } from '@google-cloud/storage';
import { logLevelOf } from '../../src/http/log-levels.js';
import { createStaging } from '../../src/storage/create-staging.js';
import { DirectUploads } from '../../src/uploads/direct-uploads.js';
import { LogCapture } from '../security/helpers.js';
import { fixture } from '../support/requests.js';
import { newSigningAccount, signingClient } from '../support/signing.js';
import { listen, close, useCleanups, useHarnesses, type Harness } from './harness.js';

/**
 * GCS with credentials that cannot sign (here: the emulator's client, which has none at all,
 * as a deployment without a key file or signBlob permission). A signed PUT is then a
 * configuration fact, not an outage: 501 signed_put_unavailable pointing the client at a
 * resumable session (which needs no signature and works), never a 503 "try again later"; and
 * what to configure is logged once, at start-up.
 */

const harnessFor = useHarnesses();
const defer = useCleanups();

async function serve(harness: Harness): Promise<string> {
  const { server, port } = await listen(harness.callback);
  defer(() => close(server));
  return `http://127.0.0.1:${port}`;
}

async function createUpload(
  base: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const response = await fetch(`${base}/v1/uploads/direct`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    retryAfter: response.headers.get('retry-after'),
  };
}

describe('direct uploads on GCS without a signing identity', () => {
  it('answers a PUT 501 signed_put_unavailable, naming "resumable", and stores nothing', async () => {
    const harness = await harnessFor('gcs');
    const base = await serve(harness);
    const photo = fixture('photo.jpg');
    for (const request of [{ size: photo.length, method: 'put' }, { size: photo.length }]) {
      const answer = await createUpload(base, request);
      expect(answer.status).toBe(501);
      expect(answer.retryAfter).toBeNull();
      expect(answer.body).toEqual({
        error: {
          code: 'signed_put_unavailable',
          message:
            'This service cannot sign upload URLs for "method": "put"; create the upload with ' +
            '"method": "resumable" instead.',
        },
      });
    }
    // Not even a record waits for the sweep.
    expect(await harness.storedNames()).toEqual([]);
  });

  it('refuses a PUT before it writes a record, so a bucket that fails cannot make it a 503', async () => {
    const harness = await harnessFor('gcs');
    // Staging over a bucket that answers nothing (a closed port), with short store deadlines.
    const config = { ...harness.config, storeTimeoutMs: 300, storeAttemptTimeoutMs: 100 };
    const client = new Storage({
      apiEndpoint: 'http://127.0.0.1:9',
      projectId: 'test-project',
      retryOptions: { autoRetry: false },
    });
    const staging = await createStaging(config, { client });
    expect(staging.direct.bytes.offers('put')).toBe(false);
    expect(staging.direct.bytes.offers('resumable')).toBe(true);
    const uploads = new DirectUploads({
      staging: staging.direct,
      maxImageBytes: config.maxImageBytes,
      expiresSeconds: 600,
    });
    const target = { origin: undefined, serviceOrigin: 'http://127.0.0.1' };
    const create = (method: 'put' | 'resumable'): Promise<unknown> =>
      uploads.create({ owner: undefined, size: 10, declaredType: null, method }, target);
    await expect(create('put')).rejects.toMatchObject({ code: 'signed_put_unavailable' });
    // The same bucket fails a resumable upload as the outage it is.
    await expect(create('resumable')).rejects.toMatchObject({ code: 'storage_unavailable' });
  });

  it('still takes the same image through a resumable session', async () => {
    const harness = await harnessFor('gcs');
    const base = await serve(harness);
    const photo = fixture('photo.jpg');
    const answer = await createUpload(base, { size: photo.length, method: 'resumable' });
    expect(answer.status).toBe(201);
    const sent = await fetch(String(answer.body.url), {
      method: 'PUT',
      headers: answer.body.headers as Record<string, string>,
      body: photo,
    });
    await sent.arrayBuffer();
    expect([200, 201]).toContain(sent.status);
    const done = await fetch(String(answer.body.completeUrl), { method: 'POST' });
    const image = (await done.json()) as Record<string, unknown>;
    expect(done.status).toBe(201);
    expect(await harness.storedNames()).toContain(`${String(image.id)}.jpg`);
  });

  it('logs what to configure once, at start-up, however many PUTs are asked for', async () => {
    const harness = await harnessFor('gcs');
    const log = new LogCapture();
    const staging = await createStaging(harness.config, { logger: log.logger });
    const warnings = (): unknown[] =>
      log.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ level: 40 });
    const message = String((warnings()[0] as { msg: unknown }).msg);
    expect(message).toContain('GOOGLE_APPLICATION_CREDENTIALS');
    expect(message).toContain('roles/iam.serviceAccountTokenCreator');
    expect(message).toContain('"resumable" works');

    const now = Date.now();
    const request = {
      size: 10,
      method: 'put' as const,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 60_000).toISOString(),
    };
    const target = { origin: undefined, serviceOrigin: 'http://127.0.0.1' };
    for (const id of [
      '3b0c5a0e-8a4f-4b7e-9d51-6f2a1c9e0b11',
      '4c1d6b1f-9b50-4c8f-ae62-7a3b2dae1c22',
    ]) {
      await expect(staging.direct.bytes.target({ ...request, id }, target)).rejects.toMatchObject({
        name: 'StagingError',
        kind: 'cannot_sign',
      });
    }
    expect(warnings()).toHaveLength(1);
    // Each refused PUT is the client's to redirect, logged with its request at info only.
    expect(logLevelOf(501, 'signed_put_unavailable')).toBe('info');
  });

  it('warns of nothing when the credentials can sign', async () => {
    const harness = await harnessFor('gcs');
    const log = new LogCapture();
    await createStaging(harness.config, {
      client: signingClient(newSigningAccount()),
      logger: log.logger,
    });
    expect(log.lines).toEqual([]);
  });
});
