import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config.js';
import { OpenUploads } from '../../src/uploads/open-uploads.js';
import { drivers, type Driver } from '../support/requests.js';
import { newSigningAccount, signingClient } from '../support/signing.js';
import { listen, useCleanups, useHarnesses } from '../http/harness.js';

const account = newSigningAccount();

describe('OpenUploads', () => {
  it('refuses a caller past the limit until one of its uploads closes or expires', () => {
    let now = 0;
    const open = new OpenUploads(2, () => now);
    open.admit('a').opened('a1', 1000);
    open.admit('a').opened('a2', 2000);
    expect(() => open.admit('a')).toThrow(expect.objectContaining({ code: 'too_many_open_uploads' }));
    // Another caller has its own count.
    open.admit('b').opened('b1', 1000);
    open.close('a1');
    open.admit('a').opened('a3', 3000);
    expect(open.countOf('a')).toBe(2);
    now = 2000;
    // a2 expired: its place is free without a close.
    expect(open.countOf('a')).toBe(1);
    open.extend('a3', 10_000);
    now = 5000;
    expect(open.countOf('a')).toBe(1);
  });

  it('a creation that failed gives its place back; 0 is no limit', () => {
    const open = new OpenUploads(1);
    open.admit('a').cancel();
    open.admit('a').opened('a1', Date.now() + 1000);
    expect(() => open.admit('a')).toThrow();
    const unlimited = new OpenUploads(0);
    for (let index = 0; index < 5; index += 1) unlimited.admit('a').opened(`u${index}`, Infinity);
    expect(unlimited.countOf('a')).toBe(0);
  });

  it('MAX_OPEN_UPLOADS_PER_CALLER: 100 by default, 0 to 1,000,000, named when wrong', () => {
    expect(loadConfig({}).security.maxOpenUploadsPerCaller).toBe(100);
    expect(loadConfig({ MAX_OPEN_UPLOADS_PER_CALLER: '0' }).security.maxOpenUploadsPerCaller).toBe(0);
    expect(() => loadConfig({ MAX_OPEN_UPLOADS_PER_CALLER: 'many' })).toThrow(
      expect.objectContaining({ variable: 'MAX_OPEN_UPLOADS_PER_CALLER' }),
    );
  });
});

describe.each(drivers)('open uploads per caller, %s driver', (driver: Driver) => {
  const harnessFor = useHarnesses();
  const defer = useCleanups();
  const keyA = 'k_open_uploads_caller_a_0123';
  const keyB = 'k_open_uploads_caller_b_0123';

  it('tus and direct uploads count together, per caller, and a finished one frees its place', async () => {
    const harness = await harnessFor(
      driver,
      { MAX_OPEN_UPLOADS_PER_CALLER: '2', API_KEYS: `${keyA},${keyB}`, RATE_LIMIT: '0' },
      { storageClient: driver === 'gcs' ? signingClient(account) : undefined },
    );
    const { server, port } = await listen(harness.callback);
    defer(() => new Promise((resolve) => server.close(resolve)));
    const base = `http://127.0.0.1:${port}`;
    const createTus = (key: string): Promise<Response> =>
      fetch(`${base}/v1/uploads`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' },
      });
    const createDirect = (key: string): Promise<Response> =>
      fetch(`${base}/v1/uploads/direct`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ size: 10 }),
      });

    const first = await createTus(keyA);
    expect(first.status).toBe(201);
    expect((await createDirect(keyA)).status).toBe(201);
    const refused = await createTus(keyA);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: 'too_many_open_uploads' } });
    expect((await createDirect(keyA)).status).toBe(429);
    // Another caller is not held back by this one.
    expect((await createTus(keyB)).status).toBe(201);

    // A terminated upload frees its place.
    const deleted = await fetch(first.headers.get('location')!, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${keyA}`, 'Tus-Resumable': '1.0.0' },
    });
    expect(deleted.status).toBe(204);
    const again = await createTus(keyA);
    expect(again.status).toBe(201);
    // So does a finished one (its last byte: refused as not an image, the upload is over).
    const patched = await fetch(again.headers.get('location')!, {
      method: 'PATCH',
      headers: {
        Authorization: `Bearer ${keyA}`,
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
      },
      body: new Uint8Array(Buffer.from('not image!')),
    });
    expect(patched.status).toBe(415);
    expect((await createTus(keyA)).status).toBe(201);
  });
});
