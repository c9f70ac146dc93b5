import { describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { immutableCacheControl } from '../../src/storage/object-store.js';
import { factsBySharp, storedFormOf } from '../support/image-facts.js';
import { expectErrorResponse } from './expect-error.js';
import { close, listen, useHarnesses, type Harness } from './harness.js';
import { dataUri, drivers, fixture, jsonBody, sha256 } from '../support/requests.js';

const harnessFor = useHarnesses();

function postJson(harness: Harness, body: string | Buffer): request.Test {
  return request(harness.callback)
    .post('/v1/images')
    .set('Content-Type', 'application/json')
    .send(body);
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Checks a 201 answer against the bytes that were sent, and the stored object against both. */
async function expectStored(
  harness: Harness,
  response: request.Response,
  sent: Buffer,
  contentType: string,
  extension: string,
): Promise<void> {
  expect(response.status).toBe(201);
  const body = response.body as Record<string, unknown>;
  const facts = await factsBySharp(sent);
  // What is stored, and described: the image less its location and personal metadata.
  const bytes = await storedFormOf(sent);
  expect(body).toEqual({
    id: expect.stringMatching(uuidPattern),
    name: `${String(body.id)}.${extension}`,
    url: harness.store.publicUrl(`${String(body.id)}.${extension}`),
    contentType,
    extension,
    bytes: bytes.length,
    sha256: sha256(bytes),
    width: facts.width,
    height: facts.height,
    ...(facts.frames === undefined ? {} : { frames: facts.frames }),
    orientation: facts.orientation,
    createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    // Where its renditions are (__tests__/http/renditions.test.ts checks them in full).
    renditions: {
      srcset: expect.stringContaining(`/v1/images/${String(body.id)}/render?w=`),
      widths: expect.arrayContaining([expect.objectContaining({ width: facts.width })]),
    },
    // Every browser shows these types: the original is what is displayed.
    display: {
      url: harness.store.publicUrl(`${String(body.id)}.${extension}`),
      width: facts.width,
      height: facts.height,
      contentType,
    },
    // The service runs open here: the uploader gets the secret that lets it delete.
    deleteToken: expect.stringMatching(/^[A-Za-z0-9_-]{32,}$/),
  });
  expect(Date.now() - Date.parse(String(body.createdAt))).toBeLessThan(60_000);
  expect(response.headers.location).toBe(body.url);

  const name = String(body.name);
  expect(await harness.storedNames()).toEqual([name]);
  expect((await harness.storedBytes(name)).equals(bytes)).toBe(true);
  expect(await harness.leftovers()).toEqual([]);

  const url = new URL(String(body.url));
  if (harness.driver === 'local') {
    // The local driver serves its own files: fetch the returned path through the app.
    expect(url.pathname).toBe(`/uploads/${name}`);
    const served = await request(harness.callback).get(url.pathname).buffer(true);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe(contentType);
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    expect(served.headers['cache-control']).toBe(immutableCacheControl);
    const servedBytes: unknown = served.body;
    expect(Buffer.isBuffer(servedBytes) && servedBytes.equals(bytes)).toBe(true);
  } else {
    const metadata = await harness.storedMetadata(name);
    expect(metadata.contentType).toBe(contentType);
    expect(metadata.cacheControl).toBe(immutableCacheControl);
    expect(metadata.metadata).toEqual({
      sha256: sha256(bytes),
      width: String(facts.width),
      height: String(facts.height),
      ...(facts.frames === undefined ? {} : { frames: String(facts.frames) }),
      orientation: String(facts.orientation),
      createdAt: body.createdAt,
      // An HMAC under UPLOADER_SECRET that names nobody (docs/security.md).
      uploader: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const served = await fetch(url);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
  }
}

describe.each(drivers)('POST /v1/images with the %s driver', (driver) => {
  describe('201 Created', () => {
    it.each([
      ['photo.jpg', 'image/jpeg', 'jpg'],
      ['photo.png', 'image/png', 'png'],
      ['anim.gif', 'image/gif', 'gif'],
      ['photo.webp', 'image/webp', 'webp'],
      ['photo.avif', 'image/avif', 'avif'],
    ])('stores %s as %s', async (file, contentType, extension) => {
      const harness = await harnessFor(driver);
      const bytes = fixture(file);
      const response = await postJson(harness, jsonBody(bytes, contentType));
      await expectStored(harness, response, bytes, contentType, extension);
    });

    it.each(['image/jpg', 'application/octet-stream', 'image/png'])(
      'ignores the label %s and stores real JPEG bytes as image/jpeg',
      async (label) => {
        const harness = await harnessFor(driver);
        const bytes = fixture('photo.jpg');
        const response = await postJson(harness, jsonBody(bytes, label));
        await expectStored(harness, response, bytes, 'image/jpeg', 'jpg');
      },
    );

    it('accepts Android-style base64 with a line break every 76 characters', async () => {
      const harness = await harnessFor(driver);
      const bytes = fixture('photo.jpg');
      const wrapped = bytes.toString('base64').replace(/.{76}/g, '$&\n');
      const body = JSON.stringify({ data: `data:image/jpeg;base64,${wrapped}` });
      expect(body).toContain('\\n');
      const response = await postJson(harness, body);
      await expectStored(harness, response, bytes, 'image/jpeg', 'jpg');
    });

    it('accepts PHP-style JSON that escapes every slash', async () => {
      const harness = await harnessFor(driver);
      const bytes = fixture('photo.png');
      const body = jsonBody(bytes, 'image/png').replaceAll('/', '\\/');
      expect(body).toContain('image\\/png');
      const response = await postJson(harness, body);
      await expectStored(harness, response, bytes, 'image/png', 'png');
    });

    it.each([
      'application/json; charset=utf-8',
      'Application/JSON; Charset=UTF-8',
      'application/json ; charset=utf-8',
      'application/vnd.example+json',
    ])('accepts the JSON media type written as %s', async (type) => {
      const harness = await harnessFor(driver);
      const bytes = fixture('photo.png');
      const response = await request(harness.callback)
        .post('/v1/images')
        .set('Content-Type', type)
        .send(jsonBody(bytes, 'image/png'));
      await expectStored(harness, response, bytes, 'image/png', 'png');
    });

    it('accepts other members next to "data"', async () => {
      const harness = await harnessFor(driver);
      const bytes = fixture('photo.webp');
      const body = JSON.stringify({ name: 'cat.webp', data: dataUri(bytes, 'image/webp'), n: 1 });
      const response = await postJson(harness, body);
      await expectStored(harness, response, bytes, 'image/webp', 'webp');
    });

    it('streams an image above the streaming threshold to the store', async () => {
      const harness = await harnessFor(driver, { STREAMING_THRESHOLD_BYTES: '1024' });
      const bytes = fixture('large.jpg');
      const response = await postJson(harness, jsonBody(bytes, 'image/jpeg'));
      await expectStored(harness, response, bytes, 'image/jpeg', 'jpg');
    });

    it('decodes a streamed image from its spool file and removes the file', async () => {
      // The first 64 KiB are held, then spooled with the rest; expectStored checks the spool
      // folder is empty again.
      const harness = await harnessFor(driver, {
        IMAGE_VALIDATION: 'decode',
        STREAMING_THRESHOLD_BYTES: '65536',
      });
      const bytes = fixture('large.jpg');
      // A file made and removed in the folder changes its mtime: proof the spool was used.
      const before = (await stat(harness.spoolDir)).mtimeMs;
      await sleep(20);
      const response = await postJson(harness, jsonBody(bytes, 'image/jpeg'));
      await expectStored(harness, response, bytes, 'image/jpeg', 'jpg');
      expect((await stat(harness.spoolDir)).mtimeMs).toBeGreaterThan(before);
    });
  });

  describe('errors leave nothing stored', () => {
    async function expectRejected(
      harness: Harness,
      response: request.Response,
      code: Parameters<typeof expectErrorResponse>[1],
    ): Promise<void> {
      expectErrorResponse(response, code);
      await harness.expectNothingStored();
    }

    it.each([
      ['garbage', 'this is not json'],
      ['a truncated body', '{"data": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA'],
      ['a truncated object', '{"data": "data:image/png;base64,iVBORw0KGgo="'],
      ['trailing garbage', '{"data": "data:image/png;base64,iVBORw0KGgo="} trailing'],
      ['an empty body', ''],
    ])('400 invalid_json for %s', async (_label, body) => {
      const harness = await harnessFor(driver);
      await expectRejected(harness, await postJson(harness, body), 'invalid_json');
    });

    it('400 invalid_json for a valid image followed by trailing garbage', async () => {
      const harness = await harnessFor(driver);
      const body = `${jsonBody(fixture('photo.png'), 'image/png')},{}`;
      await expectRejected(harness, await postJson(harness, body), 'invalid_json');
    });

    it.each([
      ['plain text', 'hello'],
      ['a URL', 'https://example.com/cat.png'],
      ['a data URI without base64', 'data:image/png,iVBORw0KGgo='],
      ['a bare base64 payload', 'iVBORw0KGgoAAAANSUhEUgAA'],
    ])('400 invalid_data_uri for %s', async (_label, data) => {
      const harness = await harnessFor(driver);
      const response = await postJson(harness, JSON.stringify({ data }));
      await expectRejected(harness, response, 'invalid_data_uri');
    });

    it.each([
      ['a character outside the alphabet', 'data:image/png;base64,iVBO*w0KGgo='],
      ['a dangling single character', 'data:image/png;base64,iVBORw0KG'],
      ['padding in the middle', 'data:image/png;base64,iV==BORw0KGgo='],
    ])('400 invalid_base64 for %s', async (_label, data) => {
      const harness = await harnessFor(driver);
      const response = await postJson(harness, JSON.stringify({ data }));
      await expectRejected(harness, response, 'invalid_base64');
    });

    it('400 empty_image for an empty payload', async () => {
      const harness = await harnessFor(driver);
      const response = await postJson(harness, JSON.stringify({ data: 'data:image/png;base64,' }));
      await expectRejected(harness, response, 'empty_image');
    });

    it('413 payload_too_large when the decoded image exceeds MAX_IMAGE_BYTES', async () => {
      const harness = await harnessFor(driver, { MAX_IMAGE_BYTES: '1000' });
      const bytes = fixture('photo.jpg');
      expect(bytes.length).toBeGreaterThan(1000);
      const response = await postJson(harness, jsonBody(bytes, 'image/jpeg'));
      await expectRejected(harness, response, 'payload_too_large');
    });

    it('413 payload_too_large for an oversized image on the streamed path', async () => {
      // large.jpg is 1018271 bytes; the body limit derived from 1000000 still lets it in.
      const harness = await harnessFor(driver, {
        MAX_IMAGE_BYTES: '1000000',
        STREAMING_THRESHOLD_BYTES: '1024',
      });
      const body = jsonBody(fixture('large.jpg'), 'image/jpeg');
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(harness.config.maxBodyBytes);
      await expectRejected(harness, await postJson(harness, body), 'payload_too_large');
    });

    it('413 on a declared Content-Length over the limit, before any body is sent', async () => {
      const harness = await harnessFor(driver);
      const { server, port } = await listen(harness.callback);
      try {
        const head = await new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          let received = '';
          socket.setEncoding('latin1');
          socket.on('error', reject);
          socket.on('data', (text: string) => {
            received += text;
            if (received.includes('\r\n\r\n') && received.includes('}}')) {
              socket.destroy();
              resolve(received);
            }
          });
          socket.on('end', () => resolve(received));
          // Headers only: the body is never sent, so only the declared length can be judged.
          socket.write(
            'POST /v1/images HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
              `Content-Length: ${harness.config.maxBodyBytes * 10}\r\n\r\n`,
          );
        });
        expect(head).toMatch(/^HTTP\/1\.1 413 /);
        expect(head).toMatch(/\r\nconnection: close\r\n/i);
        expect(head).toContain('"code":"payload_too_large"');
        expect(head).toContain('The request body is larger than');
      } finally {
        await close(server);
      }
      await harness.expectNothingStored();
      // Without the early check the server would wait for a body that never comes.
    }, 10_000);

    it('413 for a body without Content-Length that grows past the limit', async () => {
      const harness = await harnessFor(driver, { MAX_IMAGE_BYTES: '10000' });
      // Whitespace inside base64 decodes to nothing and is not JSON overhead either: neither
      // the image limit nor the JSON limit can stop this body, only the body limit.
      const base64 = fixture('photo.jpg').toString('base64');
      const padded = `${base64.slice(0, 100)}${' '.repeat(harness.config.maxBodyBytes)}${base64.slice(100)}`;
      const body = JSON.stringify({ data: `data:image/jpeg;base64,${padded}` });
      const { server, port } = await listen(harness.callback);
      try {
        const { request: httpRequest } = await import('node:http');
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest(
            {
              port,
              host: '127.0.0.1',
              method: 'POST',
              path: '/v1/images',
              headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
            },
            (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (text: string) => (body += text));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
        expect(answer.status).toBe(413);
        expect(JSON.parse(answer.body)).toEqual({
          error: {
            code: 'payload_too_large',
            message: expect.stringContaining('The request body is larger than'),
          },
        });
      } finally {
        await close(server);
      }
      await harness.expectNothingStored();
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['form-urlencoded', 'application/x-www-form-urlencoded'],
      ['XML', 'application/xml'],
    ])('415 unsupported_media_type for %s', async (_label, type) => {
      const harness = await harnessFor(driver);
      const response = await request(harness.callback)
        .post('/v1/images')
        .set('Content-Type', type)
        .send(jsonBody(fixture('photo.png'), 'image/png'));
      await expectRejected(harness, response, 'unsupported_media_type');
    });

    it('415 unsupported_media_type when Content-Type is missing', async () => {
      const harness = await harnessFor(driver);
      const { server, port } = await listen(harness.callback);
      try {
        // fetch sends no Content-Type for a byte body; supertest would add one.
        const response = await fetch(`http://127.0.0.1:${port}/v1/images`, {
          method: 'POST',
          body: Buffer.from(jsonBody(fixture('photo.png'), 'image/png')),
        });
        expect(response.status).toBe(415);
        expect(await response.json()).toMatchObject({
          error: { code: 'unsupported_media_type' },
        });
      } finally {
        await close(server);
      }
      await harness.expectNothingStored();
    });

    it('415 unsupported_media_type for a gzip-encoded body', async () => {
      const harness = await harnessFor(driver);
      const response = await postJson(
        harness,
        gzipSync(jsonBody(fixture('photo.png'), 'image/png')),
      ).set('Content-Encoding', 'gzip');
      await expectRejected(harness, response, 'unsupported_media_type');
    });

    it.each([
      ['script.svg', 'image/svg+xml'],
      ['page.html', 'image/png'],
      ['text.txt', 'image/jpeg'],
      ['program.exe', 'image/gif'],
      ['photo.tiff', 'image/tiff'],
      ['photo.bmp', 'image/bmp'],
    ])('415 unsupported_image_type for %s labelled %s', async (file, label) => {
      const harness = await harnessFor(driver);
      const response = await postJson(harness, jsonBody(fixture(file), label));
      await expectRejected(harness, response, 'unsupported_image_type');
    });

    it('415 unsupported_image_type for a JPEG when ALLOWED_TYPES=image/png', async () => {
      const harness = await harnessFor(driver, { ALLOWED_TYPES: 'image/png' });
      const response = await postJson(harness, jsonBody(fixture('photo.jpg'), 'image/jpeg'));
      await expectRejected(harness, response, 'unsupported_image_type');
      const png = await postJson(harness, jsonBody(fixture('photo.png'), 'image/png'));
      expect(png.status).toBe(201);
    });

    it.each([
      ['no data member', '{}'],
      ['another member only', '{"image": "data:image/png;base64,iVBORw0KGgo="}'],
      ['data as a number', '{"data": 5}'],
      ['data as null', '{"data": null}'],
      ['data as an object', '{"data": {"uri": "data:image/png;base64,iVBORw0KGgo="}}'],
      ['a root array', '["data:image/png;base64,iVBORw0KGgo="]'],
      ['a root string', '"data:image/png;base64,iVBORw0KGgo="'],
    ])('422 missing_data for %s', async (_label, body) => {
      const harness = await harnessFor(driver);
      await expectRejected(harness, await postJson(harness, body), 'missing_data');
    });

    describe('on the streamed path (STREAMING_THRESHOLD_BYTES=1024)', () => {
      const streamed = { STREAMING_THRESHOLD_BYTES: '1024' };

      it('400 invalid_base64 for a bad character late in a large body', async () => {
        const harness = await harnessFor(driver, streamed);
        const base64 = fixture('large.jpg').toString('base64');
        const late = base64.length - 2000;
        const broken = `${base64.slice(0, late)}!${base64.slice(late + 1)}`;
        const body = JSON.stringify({ data: `data:image/jpeg;base64,${broken}` });
        await expectRejected(harness, await postJson(harness, body), 'invalid_base64');
      });

      it('400 invalid_json for trailing garbage after a large image', async () => {
        const harness = await harnessFor(driver, streamed);
        const body = `${jsonBody(fixture('large.jpg'), 'image/jpeg')} trailing`;
        await expectRejected(harness, await postJson(harness, body), 'invalid_json');
      });

      it('400 invalid_json for a large body cut off before its end', async () => {
        const harness = await harnessFor(driver, streamed);
        const body = jsonBody(fixture('large.jpg'), 'image/jpeg');
        const cut = body.slice(0, body.length - 100);
        await expectRejected(harness, await postJson(harness, cut), 'invalid_json');
      });
    });
  });
});

describe.each(drivers)('routing with the %s driver', (driver) => {
  it.each([
    // `/` is the upload page (__tests__/client/upload-page.test.ts).
    ['GET', '/index.html'],
    ['GET', '/nope'],
    ['POST', '/v1/nope'],
    ['GET', '/v1/images/abc'],
  ])('404 not_found for %s %s', async (method, path) => {
    const harness = await harnessFor(driver);
    const response = await request(harness.callback)[method === 'GET' ? 'get' : 'post'](path);
    expectErrorResponse(response, 'not_found');
  });

  it('405 method_not_allowed for GET /v1/images, naming POST in Allow', async () => {
    const harness = await harnessFor(driver);
    const response = await request(harness.callback).get('/v1/images');
    expectErrorResponse(response, 'method_not_allowed');
    expect(response.headers.allow).toContain('POST');
    await harness.expectNothingStored();
  });

  it('OPTIONS /v1/images names the allowed methods', async () => {
    const harness = await harnessFor(driver);
    const response = await request(harness.callback).options('/v1/images');
    expect(response.status).toBe(200);
    expect(response.headers.allow).toContain('POST');
  });

  it('501 not_implemented for a method the service does not know', async () => {
    const harness = await harnessFor(driver);
    const { server, port } = await listen(harness.callback);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v1/images`, { method: 'PROPFIND' });
      expectErrorResponse(
        {
          status: response.status,
          headers: Object.fromEntries(response.headers),
          body: await response.json(),
        },
        'not_implemented',
      );
    } finally {
      await close(server);
    }
  });

  it('GET /healthz answers 200', async () => {
    const harness = await harnessFor(driver);
    const response = await request(harness.callback).get('/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });
});

describe('GET /uploads/ (local driver)', () => {
  it.each([
    '/uploads/..%2F..%2Fpackage.json',
    '/uploads/..%2fpackage.json',
    '/uploads/%2e%2e',
    '/uploads/%2e%2e%2f%2e%2e%2fpackage.json',
    '/uploads/.incoming',
    '/uploads/.incoming%2F',
    '/uploads/.env',
    '/uploads/00000000-0000-4000-8000-000000000000.exe',
    '/uploads/00000000-0000-4000-8000-000000000000.html',
    '/uploads/00000000-0000-4000-8000-000000000000.png',
    '/uploads/../package.json',
    '/uploads/',
  ])('404 not_found for %s', async (path) => {
    const harness = await harnessFor('local');
    // A real object exists, so a trick that reached the folder would have something to find.
    const stored = await postJson(harness, jsonBody(fixture('photo.png'), 'image/png'));
    expect(stored.status).toBe(201);
    const response = await request(harness.callback).get(path);
    expectErrorResponse(response, 'not_found');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const harness = await harnessFor('local');
    const bytes = fixture('photo.webp');
    const stored = await postJson(harness, jsonBody(bytes, 'image/webp'));
    const response = await request(harness.callback).head(
      new URL(String((stored.body as { url: string }).url)).pathname,
    );
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/webp');
    expect(response.headers['content-length']).toBe(String(bytes.length));
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves only under the name the service made, with the sniffed type', async () => {
    const harness = await harnessFor('local');
    const stored = await postJson(harness, jsonBody(fixture('anim.gif'), 'image/gif'));
    const name = String((stored.body as { name: string }).name);
    const renamed = name.replace(/\.gif$/, '.png');
    const response = await request(harness.callback).get(`/uploads/${renamed}`);
    expectErrorResponse(response, 'not_found');
  });
});
