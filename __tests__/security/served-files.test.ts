import { afterEach, describe, expect, it } from '@jest/globals';
import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { fixture, jsonBody, makeApp, type AppUnderTest } from './helpers.js';

/**
 * Served files (local driver) and security headers: only stored image types, with nosniff
 * and a CSP that forbids scripts, no directory listing, and helmet's headers on every
 * response, errors included.
 */

describe('served files and security headers', () => {
  let subject: AppUnderTest | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  async function storeImage(): Promise<string> {
    subject = await makeApp('local');
    const response = await request(subject.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('photo.png')));
    expect(response.status).toBe(201);
    return (response.body as { name: string }).name;
  }

  it('serves a stored image with its type, nosniff and a CSP that runs nothing', async () => {
    const name = await storeImage();
    const response = await request(subject!.app.callback()).get(`/uploads/${name}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(response.headers['content-security-policy']).toMatch(/sandbox/);
    expect(response.headers['content-security-policy']).not.toMatch(/script-src/);
    // Meant to be embedded by the frontend on another origin.
    expect(response.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });

  it.each([
    '/uploads/',
    '/uploads',
    '/uploads/.incoming',
    '/uploads/..%2Fpackage.json',
    '/uploads/%2e%2e/package.json',
    '/uploads/00000000-0000-4000-8000-000000000000.png',
  ])('answers 404 for %s (no listing, no path tricks)', async (url) => {
    await storeImage();
    const response = await request(subject!.app.callback()).get(url);
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it.each(['html', 'svg', 'js'])(
    'never serves a .%s file, even one placed in the upload folder',
    async (extension) => {
      const name = await storeImage();
      const planted = name.replace(/\.png$/, `.${extension}`);
      await fs.writeFile(
        path.join(
          subject!.config.storage.driver === 'local' ? subject!.config.storage.uploadDir : '',
          planted,
        ),
        '<script>alert(1)</script>',
      );
      const response = await request(subject!.app.callback()).get(`/uploads/${planted}`);
      expect(response.status).toBe(404);
      expect(response.text).not.toContain('<script>');
    },
  );

  it.each([
    ['GET', '/healthz'],
    ['GET', '/nowhere'],
    ['POST', '/v1/images'],
  ])('sets security headers on %s %s', async (method, url) => {
    subject = await makeApp('local');
    const response =
      method === 'GET'
        ? await request(subject.app.callback()).get(url)
        : await request(subject.app.callback())
            .post(url)
            .set('Content-Type', 'application/json')
            .send('{');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(response.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(response.headers['x-powered-by']).toBeUndefined();
  });
});
