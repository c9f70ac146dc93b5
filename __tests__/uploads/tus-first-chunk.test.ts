import { describe, expect, it } from '@jest/globals';
import type { Socket } from 'node:net';
import * as tus from 'tus-js-client';
import { close, listen, useCleanups, useHarnesses } from '../http/harness.js';
import { sniffSampleBytes } from '../../src/ingest/sniff.js';
import { drivers, fixture } from '../support/requests.js';
import { stagedIds, stagedPieceCount, uploadPath } from './tus-client.js';

/**
 * A refused type ends a tus upload at its first chunk, not its last: 8 MiB of SVG, HTML or an
 * executable sent through tus-js-client in 1 MiB chunks gets its 415 after the first PATCH,
 * the server having read little more than that chunk; then HEAD is 410, GET
 * /v1/uploads/{id} tells why, and nothing of the bytes stays.
 */

const harnessFor = useHarnesses();
const defer = useCleanups();

const chunkSize = 1024 * 1024;
const totalBytes = 8 * chunkSize;

/** A fixture made `totalBytes` long the way its format allows, still the same kind of file. */
function padded(name: string, fill: (room: number) => Buffer): Buffer {
  const bytes = fixture(name);
  return fill(totalBytes - bytes.length);
}

const hostile = {
  // Whitespace and a comment before the closing tag: still the same scriptable SVG.
  svg: padded('script.svg', (room) => {
    const text = fixture('script.svg').toString('utf8');
    const at = text.lastIndexOf('</svg>');
    const comment = `<!--${' '.repeat(room - 7)}-->`;
    return Buffer.from(text.slice(0, at) + comment + text.slice(at), 'utf8');
  }),
  html: padded('page.html', (room) =>
    Buffer.concat([fixture('page.html'), Buffer.from(`<!--${' '.repeat(room - 7)}-->`)]),
  ),
  // An overlay after the PE image, as installers carry: still an executable.
  exe: padded('program.exe', (room) => Buffer.concat([fixture('program.exe'), Buffer.alloc(room)])),
};

describe.each(drivers)('tus: a refused type ends the upload at its first chunk (%s)', (driver) => {
  it.each(Object.entries(hostile))('%s, 8 MiB in 1 MiB chunks', async (_kind, file) => {
    expect(file.length).toBe(totalBytes);
    const harness = await harnessFor(driver);
    const { server, port } = await listen(harness.callback);
    defer(() => close(server));
    // What the server read off its sockets: headers and bodies of every request.
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => sockets.add(socket));
    const bytesRead = (): number => [...sockets].reduce((sum, socket) => sum + socket.bytesRead, 0);
    const origin = `http://127.0.0.1:${port}`;

    let patches = 0;
    let url = '';
    const failure = await new Promise<tus.DetailedError>((resolve, reject) => {
      const upload = new tus.Upload(file, {
        endpoint: `${origin}/v1/uploads`,
        chunkSize,
        retryDelays: [],
        metadata: { filename: 'holiday.jpg', filetype: 'image/jpeg' },
        onBeforeRequest: (request) => {
          if (request.getMethod() === 'PATCH') patches += 1;
        },
        onSuccess: () => reject(new Error('the upload was taken')),
        onError: (error) => {
          url = upload.url ?? '';
          resolve(error as tus.DetailedError);
        },
      });
      upload.start();
    });

    expect(patches).toBe(1);
    expect(failure.originalResponse?.getStatus()).toBe(415);
    const body = JSON.parse(failure.originalResponse?.getBody() ?? '{}') as {
      error?: { code?: string };
    };
    expect(body.error?.code).toBe('unsupported_image_type');
    // At most the first chunk, and the headers of the creation and that PATCH: not 8 MiB. The
    // arrival check decides at the first sniffSampleBytes, so the server may stop reading
    // within the chunk (what the socket had buffered by then is read too).
    expect(bytesRead()).toBeGreaterThanOrEqual(sniffSampleBytes);
    expect(bytesRead()).toBeLessThan(chunkSize + 16 * 1024);

    const headers = { 'Tus-Resumable': '1.0.0' };
    const at = `${origin}${uploadPath(url)}`;
    expect((await fetch(at, { method: 'HEAD', headers })).status).toBe(410);
    const status = await fetch(at, { headers });
    expect(status.status).toBe(415);
    expect(((await status.json()) as { error: { code: string } }).error.code).toBe(
      'unsupported_image_type',
    );
    // The record stays to say why until it expires; its bytes are gone, nothing was stored.
    const id = uploadPath(url).split('/').pop() ?? '';
    expect(await stagedIds(harness)).toEqual([id]);
    expect(await stagedPieceCount(harness, id)).toBe(0);
    expect((await harness.storedNames()).filter((name) => !name.startsWith('staging/'))).toEqual(
      [],
    );
  });
});
