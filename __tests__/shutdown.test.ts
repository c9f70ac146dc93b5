import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bucket } from '@google-cloud/storage';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest, Agent } from 'node:http';
import { createTestBucket, listObjectNames } from './support/gcs.js';
import { killServices, startService } from './support/service-process.js';

/**
 * SIGTERM on the real built service (node dist/index.js), backed by the GCS emulator, in the
 * middle of 50 concurrent uploads that trickle their bodies in. The promise: readiness turns
 * 503 first, new connections are refused once the listener closes, in-flight uploads finish
 * within the grace period, the process exits 0, every 201 has its object with the right hash,
 * and nothing else was stored.
 */

const concurrentUploads = 50;

let body: Buffer;
let imageSha256: string;

beforeAll(async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  const image = await readFile('__tests__/fixtures/large.jpg');
  imageSha256 = createHash('sha256').update(image).digest('hex');
  body = Buffer.from(
    JSON.stringify({ data: `data:image/jpeg;base64,${image.toString('base64')}` }),
  );
}, 120_000);

afterEach(killServices);

interface UploadResult {
  readonly status: number | 'connection_error';
  readonly name?: string;
  readonly sha256?: string;
}

/**
 * One upload whose body trickles in (32 KiB every `pauseMs`), so it is still in flight when
 * the signal comes; `started` resolves once its first bytes are on the wire.
 */
function trickleUpload(
  port: number,
  pauseMs: number,
): {
  started: Promise<void>;
  result: Promise<UploadResult>;
} {
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const result = new Promise<UploadResult>((resolve) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/images',
      agent: new Agent({ keepAlive: false }),
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
    });
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const parsed = JSON.parse(Buffer.concat(chunks).toString()) as {
          name?: string;
          sha256?: string;
        };
        resolve({ status: response.statusCode ?? 0, name: parsed.name, sha256: parsed.sha256 });
      });
      response.on('error', () => resolve({ status: 'connection_error' }));
    });
    req.on('error', () => resolve({ status: 'connection_error' }));
    let offset = 0;
    const step = 32 * 1024;
    const sendNext = (): void => {
      if (req.destroyed) return;
      const chunk = body.subarray(offset, offset + step);
      offset += chunk.length;
      const last = offset >= body.length;
      req.write(chunk, () => {
        if (offset === chunk.length) markStarted();
        if (last) req.end();
        else setTimeout(sendNext, pauseMs);
      });
    };
    sendNext();
  });
  return { started, result };
}

async function readyStatus(port: number): Promise<number | 'refused'> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'refused';
  }
}

async function expectBucketHoldsExactlyThe201s(
  bucket: Bucket,
  results: UploadResult[],
): Promise<void> {
  const created = results.filter((result) => result.status === 201);
  expect(created.every((result) => result.sha256 === imageSha256)).toBe(true);
  expect(await listObjectNames(bucket)).toEqual(created.map((result) => result.name).sort());
  for (const result of created) {
    const [stored] = await bucket.file(result.name!).download();
    expect(createHash('sha256').update(stored).digest('hex')).toBe(imageSha256);
  }
}

describe('SIGTERM during 50 concurrent uploads', () => {
  it('turns readiness 503, refuses new connections, finishes every upload and exits 0', async () => {
    const bucket = await createTestBucket();
    const service = await startService(bucket, {
      SHUTDOWN_DELAY_MS: '500',
      SHUTDOWN_GRACE_MS: '20000',
    });
    expect(await readyStatus(service.port)).toBe(200);

    const uploads = Array.from({ length: concurrentUploads }, () =>
      trickleUpload(service.port, 20),
    );
    await Promise.all(uploads.map((upload) => upload.started));
    service.child.kill('SIGTERM');

    // During the delay the listener is still open and says "not ready". Waiting for the line
    // the handler logs, not a fixed time: under load a busy event loop runs it later.
    await service.logged('shutdown: readiness now 503');
    expect(await readyStatus(service.port)).toBe(503);
    // After it, the listener is closed: new connections are refused (its timer, too, may fire
    // late on a loaded machine: look again for a while rather than once).
    await new Promise((resolve) => setTimeout(resolve, 600));
    let status = await readyStatus(service.port);
    for (let tries = 0; status !== 'refused' && tries < 40; tries += 1) {
      expect(status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await readyStatus(service.port);
    }
    expect(status).toBe('refused');

    const results = await Promise.all(uploads.map((upload) => upload.result));
    expect(await service.exited).toBe(0);
    expect(results.map((result) => result.status)).toEqual(Array(concurrentUploads).fill(201));
    await expectBucketHoldsExactlyThe201s(bucket, results);
  }, 60_000);

  it('cuts what the grace period cannot wait for, storing nothing for it, and still exits 0', async () => {
    const bucket = await createTestBucket();
    const service = await startService(bucket, {
      SHUTDOWN_DELAY_MS: '0',
      SHUTDOWN_GRACE_MS: '300',
    });
    // ~43 chunks 100 ms apart: each upload needs over 4 s, far beyond the grace period.
    const uploads = Array.from({ length: concurrentUploads }, () =>
      trickleUpload(service.port, 100),
    );
    await Promise.all(uploads.map((upload) => upload.started));
    const signalledAt = Date.now();
    service.child.kill('SIGTERM');

    expect(await service.exited).toBe(0);
    // Exits at the end of the grace period, not when the slow uploads would have finished.
    expect(Date.now() - signalledAt).toBeLessThan(3_000);
    const results = await Promise.all(uploads.map((upload) => upload.result));
    expect(results.some((result) => result.status !== 201)).toBe(true);
    await expectBucketHoldsExactlyThe201s(bucket, results);
  }, 60_000);
});
