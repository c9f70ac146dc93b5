import { describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expectErrorResponse } from '../http/expect-error.js';
import { sweepStaging, useHarnesses } from '../http/harness.js';
import { drivers, fixture } from '../support/requests.js';
import {
  patchHeaders,
  useTusServers,
  stagedIds,
  stagedPieceCount,
  uploadPath,
  type TusServer,
} from './tus-client.js';

const harnessFor = useHarnesses();
const serveTusFor = useTusServers();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function create(server: TusServer, length: number): Promise<string> {
  const response = await server.call('POST', '/v1/uploads', { 'Upload-Length': String(length) });
  expect(response.status).toBe(201);
  return uploadPath(response.headers.location);
}

describe.each(drivers)('tus hostile input (%s)', (driver) => {
  it('a chunked PATCH past Upload-Length answers 413 and keeps none of it', async () => {
    const harness = await harnessFor(driver);
    const server = await serveTusFor(harness);
    const at = await create(server, 1000);
    const response = await fetch(`${server.origin}${at}`, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', ...patchHeaders(0) },
      body: new Blob([new Uint8Array(5000)]).stream(),
      duplex: 'half',
    });
    expectErrorResponse(
      { status: response.status, headers: Object.fromEntries(response.headers), body: await response.json() },
      'upload_too_large',
    );
    const head = await server.call('HEAD', at);
    expect(head.headers['upload-offset']).toBe('0');
    expect(await stagedPieceCount(harness, at.split('/').pop() ?? '')).toBe(0);
  });

  it('a PATCH cut mid-body keeps the bytes that arrived, and the client resumes from there', async () => {
    const harness = await harnessFor(driver);
    const server = await serveTusFor(harness);
    const at = await create(server, 200_000);
    const { port } = new URL(server.origin);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `PATCH ${at} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n` +
        'Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n' +
        'Content-Length: 200000\r\n\r\n',
    );
    // A photo's first bytes: anything else is refused by its type once 4100 bytes are in.
    socket.write(fixture('large.jpg').subarray(0, 70_000));
    await sleep(300);
    socket.destroy();
    // The cut is seen and the kept bytes committed a moment later.
    let offset = '0';
    for (let attempt = 0; attempt < 50 && offset === '0'; attempt += 1) {
      await sleep(100);
      offset = (await server.call('HEAD', at)).headers['upload-offset'] ?? '0';
    }
    expect(offset).toBe('70000');
  });

  // Ten thousand on disk; on the emulator (one process on a shared two-core machine, about
  // 30 ms a record) a thousand, which exercises the same listing pages and concurrency.
  const abandoned = driver === 'local' ? 10_000 : 1_000;

  it(`${abandoned} uploads created and abandoned are all swept, and memory stays flat`, async () => {
    const harness = await harnessFor(driver, {
      UPLOAD_EXPIRES_SECONDS: '1',
      RATE_LIMIT: '0',
      // One caller abandoning thousands is the point here, not a limit to stop it at.
      MAX_OPEN_UPLOADS_PER_CALLER: '0',
    });
    const server = await serveTusFor(harness);
    const createMany = async (count: number): Promise<void> => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < count) {
            next += 1;
            await create(server, 1000);
          }
        }),
      );
    };
    await createMany(200);
    await sleep(1100);
    await sweepStaging(harness);
    const before = heapUsed();

    await createMany(abandoned);
    expect((await stagedIds(harness)).length).toBe(abandoned);
    await sleep(1100);
    const swept = await sweepStaging(harness);
    expect(swept).toEqual({ checked: abandoned, removed: abandoned, failed: 0 });
    expect(await stagedIds(harness)).toEqual([]);
    if (driver === 'gcs') expect(await harness.storedNames()).toEqual([]);
    // Nothing about an upload lives in this process: a generous bound, no timing.
    expect(heapUsed() - before).toBeLessThan(32 * 1024 * 1024);
  }, 300_000);
});
