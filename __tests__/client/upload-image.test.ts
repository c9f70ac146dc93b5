import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { Readable } from 'node:stream';
import {
  deleteImage,
  getImage,
  ImageIngestError,
  isImageIngestError,
  uploadImage,
  type ErrorCode,
  type UploadInput,
  type UploadProgress,
} from '../../clients/typescript/src/index.js';
import { useLoggedApps } from '../http/harness.js';
import { fixture, jsonBody, sha256 } from '../support/requests.js';

/**
 * The typed client against the real service on a loopback port: every way of sending, every
 * kind of input, progress, abort, retries after a real 503, and typed error codes.
 */

const { start } = useLoggedApps();
const photo = fixture('photo.jpg');

async function service(env: Record<string, string> = {}) {
  const app = await start('local', env);
  return { ...app, baseUrl: `http://127.0.0.1:${app.port}` };
}

const inputs: Record<string, () => UploadInput> = {
  Buffer: () => Buffer.from(photo),
  Uint8Array: () => new Uint8Array(photo),
  Blob: () => new Blob([photo], { type: 'image/jpeg' }),
  File: () => new File([photo], 'holiday.jpg', { type: 'image/jpeg' }),
  'web ReadableStream': () => new Blob([photo]).stream(),
  'Node Readable': () => Readable.from([photo.subarray(0, 1000), photo.subarray(1000)]),
};

/** Requests answered 503 server_busy, as the service logged them. */
function busyLines(lines: readonly string[]): number {
  return lines.filter((line) => line.includes('"code":"server_busy"')).length;
}

async function waitForLines(lines: readonly string[], count: number): Promise<void> {
  while (busyLines(lines) < count) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A Node Readable that gives the image in small pieces with a pause between them. */
function trickle(bytes: Buffer, pieceBytes: number, pauseMs: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= bytes.length) {
        this.push(null);
        return;
      }
      const piece = bytes.subarray(offset, offset + pieceBytes);
      offset += piece.length;
      setTimeout(() => this.push(piece), pauseMs);
    },
  });
}

describe.each(['json', 'multipart', 'auto'] as const)('uploadImage via %s', (via) => {
  it.each(Object.keys(inputs))('stores a %s and answers its typed description', async (kind) => {
    const { baseUrl, harness } = await service();
    const image = await uploadImage(inputs[kind]!(), { baseUrl, via });
    expect(image).toMatchObject({
      contentType: 'image/jpeg',
      extension: 'jpg',
      width: expect.any(Number),
      height: expect.any(Number),
      url: expect.stringContaining(`/uploads/${image.id}.jpg`),
    });
    const stored = await harness.storedNames();
    expect(stored).toEqual([`${image.id}.jpg`]);
    expect(sha256(await harness.storedBytes(image.name))).toBe(image.sha256);
    // The answer is the same description GET gives.
    const { deleteToken: _token, ...described } = image;
    expect(await getImage(image.id, { baseUrl })).toEqual(described);
  });
});

describe('progress', () => {
  it.each(['json', 'multipart'] as const)('reaches the image size via %s', async (via) => {
    const { baseUrl } = await service();
    const seen: UploadProgress[] = [];
    await uploadImage(Buffer.from(photo), { baseUrl, via, onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ loaded: photo.length, total: photo.length });
    const loaded = seen.map((p) => p.loaded);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
  });

  it('counts a stream of unknown size as it is sent, up to every byte', async () => {
    const { baseUrl } = await service();
    const seen: UploadProgress[] = [];
    await uploadImage(trickle(photo, 4096, 1), {
      baseUrl,
      via: 'multipart',
      onProgress: (p) => seen.push(p),
    });
    expect(seen.length).toBeGreaterThan(photo.length / 4096 - 1);
    expect(Math.max(...seen.map((p) => p.loaded))).toBe(photo.length);
    expect(seen.every((p) => p.total === undefined)).toBe(true);
  });
});

describe('abort', () => {
  it('stops the upload halfway; nothing is stored', async () => {
    const { baseUrl, harness } = await service();
    const controller = new AbortController();
    const large = fixture('large.jpg');
    const upload = uploadImage(trickle(large, 16 * 1024, 20), {
      baseUrl,
      via: 'multipart',
      signal: controller.signal,
      onProgress: ({ loaded }) => {
        if (loaded > large.length / 4) controller.abort();
      },
    });
    await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
    // The server notices the cut connection and removes its partial file.
    for (let waited = 0; (await harness.leftovers()).length > 0 && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await harness.expectNothingStored();
  });

  it('an already aborted signal sends nothing', async () => {
    const { baseUrl, harness, log } = await service();
    const upload = uploadImage(Buffer.from(photo), { baseUrl, signal: AbortSignal.abort() });
    await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
    expect(log.lines).toEqual([]);
    await harness.expectNothingStored();
  });
});

/**
 * Another upload takes the only slot (MAX_CONCURRENT_UPLOADS=1): its headers and part of its
 * body, then nothing until `finish`. Resolves once the server answers 503 to others.
 */
async function holdTheOnlySlot(port: number, baseUrl: string) {
  const other = jsonBody(fixture('photo.png'));
  const held = net.connect(port, '127.0.0.1');
  const closed = new Promise((resolve) => held.on('close', resolve));
  held.on('data', () => undefined);
  held.write(
    'POST /v1/images HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${other.length}\r\nConnection: close\r\n\r\n${other.slice(0, 100)}`,
  );
  // Until the held upload is handled, a probe that stores nothing gets 422; then 503.
  let probe: Response;
  do {
    probe = await fetch(`${baseUrl}/v1/images`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
  } while (probe.status === 422);
  expect(probe.status).toBe(503);
  return {
    finish: async () => {
      held.end(other.slice(100));
      await closed;
    },
    drop: () => held.destroy(),
  };
}

describe('retries', () => {
  it('waits out a real 503 server_busy (Retry-After) and stores the image once', async () => {
    const { baseUrl, harness, log, port } = await service({ MAX_CONCURRENT_UPLOADS: '1' });
    const slot = await holdTheOnlySlot(port, baseUrl);

    const upload = uploadImage(Buffer.from(photo), { baseUrl, via: 'multipart', retries: 5 });
    // The probe's 503, then the client's own first attempt.
    await waitForLines(log.lines, 2);
    await slot.finish();
    const image = await upload;

    expect(busyLines(log.lines)).toBeGreaterThanOrEqual(2);
    // The photo once, under the id its Idempotency-Key gives (the held PNG aside).
    const names = await harness.storedNames();
    expect(names.filter((name) => name.endsWith('.jpg'))).toEqual([`${image.id}.jpg`]);
  });

  it('gives up after the bounded attempts with the typed server_busy error', async () => {
    const { baseUrl, port } = await service({ MAX_CONCURRENT_UPLOADS: '1' });
    const slot = await holdTheOnlySlot(port, baseUrl);
    const error = await uploadImage(Buffer.from(photo), { baseUrl, retries: 1 }).catch(
      (caught: unknown) => caught,
    );
    slot.drop();
    expect(error).toBeInstanceOf(ImageIngestError);
    expect(error).toMatchObject({ code: 'server_busy', status: 503, retryAfter: 1 });
  });

  it('an answer lost after the image was stored: the retry gets the same image, one object', async () => {
    const { harness, port } = await service();
    // A proxy that passes the first request whole, then cuts the connection as the answer
    // starts: the service has stored the image, the client sees only a network failure.
    let connections = 0;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(port, '127.0.0.1');
      client.pipe(upstream);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      if ((connections += 1) === 1) {
        upstream.once('data', () => {
          client.destroy();
          upstream.destroy();
        });
      } else {
        upstream.pipe(client);
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    const proxyPort = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const image = await uploadImage(Buffer.from(photo), {
        baseUrl: `http://127.0.0.1:${proxyPort}`,
      });
      expect(connections).toBe(2);
      expect(await harness.storedNames()).toEqual([`${image.id}.jpg`]);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('the same Idempotency-Key sent twice stores one object under one id', async () => {
    const { baseUrl, harness } = await service();
    const first = await uploadImage(Buffer.from(photo), { baseUrl, idempotencyKey: 'order-77' });
    const second = await uploadImage(new Blob([photo]), {
      baseUrl,
      via: 'json',
      idempotencyKey: 'order-77',
    });
    expect(second.id).toBe(first.id);
    expect(await harness.storedNames()).toEqual([`${first.id}.jpg`]);
  });

  it('a service that is not there is a network_error after the attempts', async () => {
    // Port 1 on loopback: nothing listens, every attempt is refused at once.
    const error = await uploadImage(Buffer.from(photo), {
      baseUrl: 'http://127.0.0.1:1',
      retries: 2,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'network_error', status: 0 });
  });
});

describe('typed errors', () => {
  it.each(['json', 'multipart'] as const)(
    'an SVG via %s is unsupported_image_type',
    async (via) => {
      const { baseUrl, harness } = await service();
      const error = await uploadImage(fixture('script.svg'), { baseUrl, via }).catch(
        (caught: unknown) => caught,
      );
      if (!isImageIngestError(error))
        throw new Error(`expected an ImageIngestError, got ${String(error)}`);
      // `code` is the catalogue's union: comparing with a code that does not exist would not compile.
      const code: ErrorCode | 'network_error' | 'invalid_response' | 'tus_unavailable' = error.code;
      expect(code).toBe('unsupported_image_type');
      expect(error.status).toBe(415);
      expect(error.details).toMatchObject({ error: { code: 'unsupported_image_type' } });
      await harness.expectNothingStored();
    },
  );

  it('getImage of an unknown id is not_found; deleteImage with the token removes it', async () => {
    const { baseUrl, harness } = await service();
    await expect(
      getImage('8c1b2f5e-0000-4000-8000-000000000000', { baseUrl }),
    ).rejects.toMatchObject({
      code: 'not_found',
      status: 404,
    });
    const image = await uploadImage(Buffer.from(photo), { baseUrl });
    await expect(deleteImage(image.id, { baseUrl })).rejects.toMatchObject({ code: 'forbidden' });
    await deleteImage(image.id, { baseUrl, deleteToken: image.deleteToken });
    await expect(getImage(image.id, { baseUrl })).rejects.toMatchObject({ code: 'not_found' });
    await harness.expectNothingStored();
  });
});

describe('via tus', () => {
  it.each(Object.keys(inputs))('stores a %s through /v1/uploads', async (kind) => {
    const { baseUrl, harness } = await service();
    const seen: UploadProgress[] = [];
    const image = await uploadImage(inputs[kind]!(), {
      baseUrl,
      via: 'tus',
      tusChunkBytes: 512,
      onProgress: (progress) => seen.push(progress),
    });
    expect(image).toMatchObject({ contentType: 'image/jpeg', extension: 'jpg' });
    expect(await harness.storedNames()).toEqual([`${image.id}.jpg`]);
    expect(Math.max(...seen.map((p) => p.loaded))).toBe(photo.length);
  });

  it('auto takes an image above the threshold through tus when the server offers it', async () => {
    const { baseUrl, harness, log } = await service();
    const image = await uploadImage(fixture('large.jpg'), { baseUrl, tusThresholdBytes: 100_000 });
    expect(await harness.storedNames()).toEqual([`${image.id}.jpg`]);
    expect(log.text()).toContain('/v1/uploads');
  });

  it('an SVG through tus is the typed unsupported_image_type, nothing stored', async () => {
    const { baseUrl, harness } = await service();
    const error = await uploadImage(fixture('script.svg'), { baseUrl, via: 'tus' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'unsupported_image_type', status: 415 });
    expect(await harness.storedNames()).toEqual([]);
  });

  it('abort terminates the upload', async () => {
    const { baseUrl, harness } = await service();
    const controller = new AbortController();
    const large = fixture('large.jpg');
    const upload = uploadImage(large, {
      baseUrl,
      via: 'tus',
      tusChunkBytes: 64 * 1024,
      signal: controller.signal,
      onProgress: ({ loaded }) => {
        if (loaded > large.length / 4) controller.abort();
      },
    });
    await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
    expect(await harness.storedNames()).toEqual([]);
  });
});
