import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tus from 'tus-js-client';
import { createTestBucket } from '../support/gcs.js';
import { fixture } from '../support/requests.js';
import { killServices, startService } from '../support/service-process.js';
import { patchHeaders } from './tus-client.js';

/**
 * Two real instances (node dist/index.js) on one bucket; one is killed with SIGKILL in the
 * middle of a PATCH, and tus-js-client resumes on the other from the offset it reports.
 */

beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}, 120_000);
afterEach(killServices);

async function call(
  port: number,
  method: string,
  urlPath: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method,
    headers: { 'Tus-Resumable': '1.0.0', ...headers },
    ...(body === undefined ? {} : { body: new Uint8Array(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) };
}

describe('tus with an instance killed mid-PATCH (gcs)', () => {
  it('loses only unacknowledged bytes, and the upload finishes on the other instance', async () => {
    const bucket = await createTestBucket();
    const env = { SWEEP_INTERVAL_SECONDS: '0' };
    const [a, b] = await Promise.all([startService(bucket, env), startService(bucket, env)]);
    const photo = fixture('large.jpg');
    const created = await call(a.port, 'POST', '/v1/uploads', { 'Upload-Length': String(photo.length) });
    expect(created.status).toBe(201);
    const at = new URL(created.headers.get('location') ?? '').pathname;
    const first = 300 * 1024;
    expect((await call(a.port, 'PATCH', at, patchHeaders(0), photo.subarray(0, first))).status).toBe(204);

    // The next PATCH declares the rest, sends 200 KiB of it, and its instance dies.
    const req = httpRequest({
      host: '127.0.0.1',
      port: a.port,
      method: 'PATCH',
      path: at,
      headers: {
        'Tus-Resumable': '1.0.0',
        ...patchHeaders(first),
        'Content-Length': String(photo.length - first),
      },
    });
    req.on('error', () => undefined);
    req.write(photo.subarray(first, first + 200 * 1024));
    await sleep(300);
    a.child.kill('SIGKILL');
    await a.exited;

    const head = await call(b.port, 'HEAD', at);
    expect(head.status).toBe(200);
    const offset = Number(head.headers.get('upload-offset'));
    // What was committed survives; what the dead instance held in memory may not.
    expect(offset).toBeGreaterThanOrEqual(first);
    expect(offset).toBeLessThanOrEqual(first + 200 * 1024);

    let imageId: string | null = null;
    await new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(photo, {
        // The same upload URL, served by the surviving instance (as behind a load balancer).
        uploadUrl: `http://127.0.0.1:${b.port}${at}`,
        chunkSize: 256 * 1024,
        retryDelays: [],
        onAfterResponse: (_request, response) => {
          imageId = response.getHeader('Image-Id') ?? imageId;
        },
        onSuccess: () => resolve(),
        onError: reject,
      });
      upload.start();
    });
    const image = (await call(b.port, 'GET', at)).json as Record<string, unknown>;
    expect(image.id).toBe(imageId);
    const posted = await call(b.port, 'POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, photo);
    expect((posted.json as Record<string, unknown>).sha256).toBe(image.sha256);
    const [stored] = await bucket.file(String(image.name)).download();
    expect(stored.length).toBe(image.bytes);
  }, 120_000);
});
