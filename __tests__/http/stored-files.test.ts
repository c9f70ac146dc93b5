import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readdir, readlink } from 'node:fs/promises';
import request, { type Response } from 'supertest';
import { fixture, jsonBody, makeApp, type AppUnderTest } from '../security/helpers.js';

/**
 * Stored files served by the local driver (/uploads/<name>) with validators and ranges, as a
 * CDN revalidating its copy or a client resuming a download expects (GCS does the same itself).
 */

const photo = fixture('photo.png');

/** Buffers a binary body whatever its type (supertest would parse it or leave it out). */
const binary = (response: Response, done: (error: Error | null, body: Buffer) => void): void => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => done(null, Buffer.concat(chunks)));
};

/** Descriptors this process holds on files under the upload folder. */
async function openUnder(directory: string): Promise<string[]> {
  const targets = await Promise.all(
    (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return targets.filter((target) => target.startsWith(directory));
}

describe('GET /uploads/<name>: validators and ranges', () => {
  let subject: AppUnderTest;
  let url: string;
  beforeEach(async () => {
    subject = await makeApp('local');
    const created = await request(subject.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(jsonBody(photo));
    expect(created.status).toBe(201);
    url = `/uploads/${(created.body as { name: string }).name}`;
  });
  afterEach(() => subject.cleanup());

  const get = (headers: Record<string, string> = {}) =>
    request(subject.app.callback()).get(url).set(headers).buffer(true).parse(binary);

  it('sends a strong ETag, Last-Modified and Accept-Ranges, keeping nosniff and the CSP', async () => {
    const response = await get();
    expect(response.status).toBe(200);
    expect(response.body).toEqual(photo);
    expect(response.headers['etag']).toMatch(/^"[^"]+"$/);
    expect(response.headers['last-modified']).toBeDefined();
    expect(response.headers['accept-ranges']).toBe('bytes');
    expect(response.headers['content-length']).toBe(String(photo.length));
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toMatch(/sandbox/);
    expect((await get()).headers['etag']).toBe(response.headers['etag']);
  });

  it('answers 304 to If-None-Match with its ETag (weak or in a list too), and * ', async () => {
    const etag = (await get()).headers['etag']!;
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const response = await get({ 'If-None-Match': ifNoneMatch });
      expect(response.status).toBe(304);
      expect(response.body).toEqual(Buffer.alloc(0));
      expect(response.headers['etag']).toBe(etag);
      expect(response.headers['cache-control']).toMatch(/immutable/);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    const changed = await get({ 'If-None-Match': '"not-these-bytes"' });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual(photo);
  });

  it('answers 304 to If-Modified-Since at or after Last-Modified, unless If-None-Match differs', async () => {
    const lastModified = (await get()).headers['last-modified']!;
    expect((await get({ 'If-Modified-Since': lastModified })).status).toBe(304);
    const before = new Date(Date.parse(lastModified) - 1000).toUTCString();
    expect((await get({ 'If-Modified-Since': before })).status).toBe(200);
    for (const invalid of ['not a date', 'garbage 2030', 'Thu, 01 Jan 2099 00:00:00 GMT']) {
      // Unreadable, or later than now: ignored, so the whole file is sent.
      expect((await get({ 'If-Modified-Since': invalid })).status).toBe(200);
    }
    // If-None-Match decides when both are sent.
    const both = await get({ 'If-Modified-Since': lastModified, 'If-None-Match': '"other"' });
    expect(both.status).toBe(200);
  });

  it.each([
    ['bytes=0-99', 0, 99],
    ['bytes=100-', 100, photo.length - 1],
    ['bytes=-10', photo.length - 10, photo.length - 1],
    ['bytes=10-999999999', 10, photo.length - 1],
    [`bytes=-${photo.length + 5}`, 0, photo.length - 1],
  ])('answers %s with 206 and those bytes', async (range, start, end) => {
    const response = await get({ Range: range });
    expect(response.status).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${photo.length}`);
    expect(response.headers['content-length']).toBe(String(end - start + 1));
    expect(response.body).toEqual(photo.subarray(start, end + 1));
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers['content-security-policy']).toMatch(/sandbox/);
  });

  it.each([`bytes=${photo.length}-`, 'bytes=999999-1000000', 'bytes=-0'])(
    'answers %s, which is past the end, with 416 and the length',
    async (range) => {
      const response = await request(subject.app.callback()).get(url).set('Range', range);
      expect(response.status).toBe(416);
      expect(response.headers['content-range']).toBe(`bytes */${photo.length}`);
      expect(response.body).toMatchObject({ error: { code: 'range_not_satisfiable' } });
      // An error body is not the image: neither its validators nor its year-long caching.
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['etag']).toBeUndefined();
      expect(response.headers['last-modified']).toBeUndefined();
      expect(response.headers['content-type']).toMatch(/^application\/json/);
    },
  );

  it.each(['bytes=0-9,20-29', 'bytes=9-0', 'items=0-9', 'bytes=x-y'])(
    'sends the whole file for %s (several ranges, or one it does not read)',
    async (range) => {
      const response = await get({ Range: range });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(photo);
      expect(response.headers['content-range']).toBeUndefined();
    },
  );

  it('honours Range only while If-Range names these bytes', async () => {
    const { etag, 'last-modified': lastModified } = (await get()).headers;
    expect((await get({ Range: 'bytes=0-9', 'If-Range': etag! })).status).toBe(206);
    expect((await get({ Range: 'bytes=0-9', 'If-Range': lastModified! })).status).toBe(206);
    for (const stale of ['"other"', `W/${etag}`, 'Thu, 01 Jan 2026 00:00:00 GMT']) {
      const whole = await get({ Range: 'bytes=0-9', 'If-Range': stale });
      expect(whole.status).toBe(200);
      expect(whole.body).toEqual(photo);
    }
  });

  it('answers HEAD with the length of the whole file, Range or not (Range is for GET)', async () => {
    const whole = await request(subject.app.callback()).head(url);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-length']).toBe(String(photo.length));
    for (const range of ['bytes=0-9', 'bytes=999999-']) {
      const part = await request(subject.app.callback()).head(url).set('Range', range);
      expect(part.status).toBe(200);
      expect(part.headers['content-length']).toBe(String(photo.length));
      expect(part.headers['content-range']).toBeUndefined();
    }
  });

  it('closes the file on every answer that sends no bytes', async () => {
    const etag = (await get()).headers['etag']!;
    for (let i = 0; i < 5; i += 1) {
      expect((await get({ 'If-None-Match': etag })).status).toBe(304);
      expect((await get({ Range: 'bytes=999999-' })).status).toBe(416);
      expect((await request(subject.app.callback()).head(url)).status).toBe(200);
    }
    const { storage } = subject.config;
    expect(storage.driver).toBe('local');
    expect(await openUnder(storage.driver === 'local' ? storage.uploadDir : '/')).toEqual([]);
  });
});
