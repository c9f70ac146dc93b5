import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import sharp from 'sharp';
import * as tus from 'tus-js-client';
import { close, useCleanups, useHarnesses, type Harness } from '../http/harness.js';
import { storeEnvOf, useServiceProcesses, type Service } from '../support/service-process.js';
import { startToxiproxy } from '../support/toxiproxy.js';
import { sniffSampleBytes } from '../../src/ingest/sniff.js';
import { photoWithExif } from '../support/exif-photo.js';
import { drivers, fixture, sha256 } from '../support/requests.js';
import { stagedIds, stagedPieceCount, uploadPath } from './tus-client.js';

/**
 * Two real service processes (node dist/index.js) over one store: the same bucket on the GCS
 * emulator, or the same upload folder. A tus upload moves between them request by request, and
 * survives one of them being killed (SIGKILL) in the middle of a PATCH body.
 */

const harnessFor = useHarnesses();
const defer = useCleanups();
const startService = useServiceProcesses();

beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}, 120_000);

const originOf = (service: Service): string => `http://127.0.0.1:${service.port}`;

/** Two processes over the harness's store. */
async function twoInstances(
  harness: Harness,
  extra: Record<string, string> = {},
): Promise<[Service, Service]> {
  const env = { ...storeEnvOf(harness), MAX_CONCURRENT_UPLOADS: '20', ...extra };
  return Promise.all([startService(env), startService(env)]);
}

/**
 * An HTTP front that sends each request to the next backend in turn (Host kept, so the
 * service's Location names the front), noting which backend served what.
 */
async function roundRobinFront(
  backends: readonly Service[],
): Promise<{ origin: string; served: { method: string; backend: number }[] }> {
  const served: { method: string; backend: number }[] = [];
  let next = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const backend = next % backends.length;
    next += 1;
    served.push({ method: incoming.method ?? '', backend });
    const forwarded = httpRequest(
      {
        host: '127.0.0.1',
        port: backends[backend]!.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => close(server));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { origin: `http://127.0.0.1:${address.port}`, served };
}

/** Runs a tus upload to the end and answers its URL; rejects with tus-js-client's error. */
function uploadWith(body: Buffer, options: tus.UploadOptions): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const upload = new tus.Upload(body, {
      retryDelays: [],
      ...options,
      onSuccess: () => resolve(upload.url ?? ''),
      onError: reject,
    });
    upload.start();
  });
}

/**
 * The finished upload's image as GET /v1/uploads/{id} answers it, its stored bytes equal to
 * what POST /v1/images stores for the same file, and only the upload's record left staged.
 * Answers the two objects' names.
 */
async function expectPublishedByteExact(
  harness: Harness,
  origin: string,
  uploadUrl: string,
  body: Buffer,
): Promise<{ uploaded: string; posted: string }> {
  const answer = await fetch(`${origin}${uploadPath(uploadUrl)}`, {
    headers: { 'Tus-Resumable': '1.0.0' },
  });
  expect(answer.status).toBe(200);
  const image = (await answer.json()) as { id: string; name: string; sha256: string };
  expect(image.name).toMatch(/^[0-9a-f-]{36}\.jpg$/);
  const stored = await harness.storedBytes(image.name);
  expect(sha256(stored)).toBe(image.sha256);
  const posted = await fetch(`${origin}/v1/images`, {
    method: 'POST',
    headers: { 'Content-Type': 'image/jpeg' },
    body: new Uint8Array(body),
  });
  expect(posted.status).toBe(201);
  const direct = (await posted.json()) as { name: string; sha256: string };
  expect(image.sha256).toBe(direct.sha256);

  const uploadId = uploadPath(uploadUrl).split('/').pop() ?? '';
  expect(await stagedIds(harness)).toEqual([uploadId]);
  expect(await stagedPieceCount(harness, uploadId)).toBe(0);
  const published = (await harness.storedNames()).filter(
    (name) => !name.startsWith(harness.config.staging.prefix),
  );
  expect(published.sort()).toEqual([image.name, direct.name].sort());
  return { uploaded: image.name, posted: direct.name };
}

describe.each(drivers)('two instances over one store (%s)', (driver) => {
  it('takes the PATCHes of one upload on either instance, in turn, and publishes it byte-exact', async () => {
    const harness = await harnessFor(driver);
    const instances = await twoInstances(harness);
    const front = await roundRobinFront(instances);
    const photo = fixture('large.jpg');
    const uploadUrl = await uploadWith(photo, {
      endpoint: `${front.origin}/v1/uploads`,
      chunkSize: 128 * 1024,
      metadata: { filename: 'large.jpg', filetype: 'image/jpeg' },
    });
    const patches = front.served.filter((call) => call.method === 'PATCH');
    expect(patches.length).toBe(Math.ceil(photo.length / (128 * 1024)));
    // Each instance took PATCHes, one after the other.
    expect(new Set(patches.map((call) => call.backend))).toEqual(new Set([0, 1]));
    await expectPublishedByteExact(harness, front.origin, uploadUrl, photo);
  });

  it('checks and strips as the bytes arrive, and after a SIGKILL half-way resumes on the other instance: published byte-faithful, with the sha256 of the single-instance path', async () => {
    const harness = await harnessFor(driver);
    const [a, b] = await twoInstances(harness);
    // A photo with an EXIF block large enough that a PATCH can end inside it, past the bytes
    // that decide the type: the record must carry what the walk held of that segment.
    const photo = await photoWithExif(1600, 1200);
    expect(photo.readUInt16BE(2)).toBe(0xffe1);
    const exifEnd = 4 + photo.readUInt16BE(4);
    expect(exifEnd).toBeGreaterThan(sniffSampleBytes + 1024);
    const chunk = 256 * 1024;
    const cuts = [Math.floor((sniffSampleBytes + exifEnd) / 2)];
    while (cuts.at(-1)! + chunk < photo.length) cuts.push(cuts.at(-1)! + chunk);
    cuts.push(photo.length);
    expect(cuts.length).toBeGreaterThan(6);

    const created = await fetch(`${originOf(a)}/v1/uploads`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(photo.length) },
    });
    expect(created.status).toBe(201);
    const at = uploadPath(created.headers.get('location') ?? '');
    const patch = (service: Service, from: number, to: number): Promise<Response> =>
      fetch(`${originOf(service)}${at}`, {
        method: 'PATCH',
        headers: {
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': String(from),
          'Content-Type': 'application/offset+octet-stream',
        },
        body: new Uint8Array(photo.subarray(from, to)),
      });

    // Half the chunks on A, the first ending inside the EXIF segment.
    const half = Math.floor(cuts.length / 2);
    let offset = 0;
    for (const cut of cuts.slice(0, half)) {
      const answer = await patch(a, offset, cut);
      expect(answer.status).toBe(204);
      expect(Number(answer.headers.get('upload-offset'))).toBe(cut);
      offset = cut;
    }
    // The next PATCH dies with A, half its body on the wire: nothing of it is acknowledged.
    const next = cuts[half]!;
    const cutShort = new Promise<void>((resolve) => {
      const request = httpRequest({
        host: '127.0.0.1',
        port: a.port,
        method: 'PATCH',
        path: at,
        headers: {
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream',
          'Content-Length': String(next - offset),
        },
      });
      request.on('error', () => resolve());
      request.on('response', () => resolve());
      request.write(photo.subarray(offset, offset + (next - offset) / 2));
      setTimeout(() => a.child.kill('SIGKILL'), 300);
    });
    await cutShort;
    expect(await a.exited).toBeNull();

    // B has no walk of the upload: it catches up from what A staged and the record.
    const head = await fetch(`${originOf(b)}${at}`, {
      method: 'HEAD',
      headers: { 'Tus-Resumable': '1.0.0' },
    });
    expect(Number(head.headers.get('upload-offset'))).toBe(offset);
    for (const cut of cuts.slice(half)) {
      const answer = await patch(b, offset, cut);
      expect(answer.status).toBe(204);
      offset = cut;
    }

    // The single-instance path: the same file in one POST.
    const names = await expectPublishedByteExact(harness, originOf(b), `${originOf(b)}${at}`, photo);
    const stored = await harness.storedBytes(names.uploaded);
    expect(stored.equals(await harness.storedBytes(names.posted))).toBe(true);
    // Stripped: the camera and its owner are gone, the orientation kept.
    expect(stored.length).toBeLessThan(photo.length);
    expect(stored.includes('PhoneMaker')).toBe(false);
    expect(stored.includes('Ann Owner')).toBe(false);
  });

  it('resumes on the other instance when one is killed (SIGKILL) mid-PATCH, losing at most the unacknowledged bytes', async () => {
    const harness = await harnessFor(driver);
    // The original kept as sent, so the published object must be the very file.
    const [a, b] = await twoInstances(harness, { IMAGE_METADATA: 'keep' });
    // A phone-sized photo (noise does not compress): several MB of real JPEG.
    const photo = await sharp({
      create: {
        width: 2400,
        height: 1600,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 60 },
      },
    })
      .jpeg({ quality: 95 })
      .toBuffer();
    expect(photo.length).toBeGreaterThan(3 * 1024 * 1024);
    const chunkSize = 1024 * 1024;

    // A's clients come through a 1 MB/s link, so a 1 MiB PATCH body takes about a second.
    const toxiproxy = await startToxiproxy();
    defer(() => toxiproxy.stop());
    const slowA = await toxiproxy.createProxy('instance-a', `127.0.0.1:${a.port}`);
    await slowA.addToxic('slow', {
      type: 'bandwidth',
      stream: 'upstream',
      attributes: { rate: 1024 },
    });

    let acknowledged = 0;
    let uploadUrl = '';
    let killed = false;
    const failure = await uploadWith(photo, {
      endpoint: `${slowA.endpoint}/v1/uploads`,
      chunkSize,
      metadata: { filename: 'phone.jpg', filetype: 'image/jpeg' },
      onBeforeRequest: (request) => {
        if (request.getMethod() === 'PATCH') uploadUrl = request.getURL();
        // The second PATCH: A dies while its body is on the wire.
        if (request.getMethod() === 'PATCH' && acknowledged === chunkSize && !killed) {
          killed = true;
          setTimeout(() => a.child.kill('SIGKILL'), 400);
        }
      },
      onChunkComplete: (_size, accepted) => {
        acknowledged = accepted;
      },
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(await a.exited).toBeNull();
    expect(a.child.signalCode).toBe('SIGKILL');
    expect(acknowledged).toBe(chunkSize);

    // B knows the upload from the shared store: the offset is what A acknowledged.
    const onB = `${originOf(b)}${uploadPath(uploadUrl)}`;
    const head = await fetch(onB, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(head.status).toBe(200);
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBe(acknowledged);

    // A new Upload from the stored URL, as a client does after an error, goes on at B.
    const offsets: number[] = [];
    await uploadWith(photo, {
      uploadUrl: onB,
      chunkSize,
      onBeforeRequest: (request) => {
        if (request.getMethod() === 'PATCH') {
          offsets.push(Number(request.getHeader('Upload-Offset')));
        }
      },
    });
    expect(offsets[0]).toBe(offset);
    // The killed PATCH's partial piece (the local driver writes into its file as the body
    // comes), which no record names, went at the finish too.
    await expectPublishedByteExact(harness, originOf(b), onB, photo);
    const image = (await (await fetch(onB)).json()) as { name: string };
    expect(sha256(await harness.storedBytes(image.name))).toBe(sha256(photo));
  });
});
