import { afterEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  buildOpenApiDocument,
  documentOptionsOf,
  requestHeadersOf,
} from '../../src/http/openapi/document.js';
import { expectRefused, fixture, jsonBody, makeApp, type AppUnderTest } from './helpers.js';

/** CORS: only allowlisted origins get a grant; preflights are answered; no credentials. */

const frontend = 'https://app.example.test';
const foreign = 'https://evil.example.test';

describe('CORS', () => {
  let subject: AppUnderTest | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  const app = async () => {
    subject = await makeApp('local', {
      CORS_ORIGINS: `${frontend},http://localhost:5173`,
      API_KEYS: 'k_test_cors_0123456789abcdef',
    });
    return subject.app.callback();
  };

  it('answers a preflight from an allowed origin', async () => {
    const response = await request(await app())
      .options('/v1/images')
      .set('Origin', frontend)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(frontend);
    expect(response.headers['access-control-allow-methods']).toContain('POST');
    expect(response.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    expect(response.headers.vary).toMatch(/Origin/);
  });

  it('gives a foreign origin no grant, on the preflight or the request', async () => {
    const callback = await app();
    const preflight = await request(callback)
      .options('/v1/images')
      .set('Origin', foreign)
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined();

    const response = await request(callback)
      .post('/v1/images')
      .set('Origin', foreign)
      .set('Authorization', 'Bearer k_test_cors_0123456789abcdef')
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('photo.png')));
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('does not treat a look-alike origin as allowed', async () => {
    const response = await request(await app())
      .options('/v1/images')
      .set('Origin', `${frontend}.evil.test`)
      .set('Access-Control-Request-Method', 'POST');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets the allowed frontend read errors, and the Location of a stored image', async () => {
    const callback = await app();
    const refused = await request(callback)
      .post('/v1/images')
      .set('Origin', frontend)
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('photo.png')));
    await expectRefused(refused, 401, 'unauthorized', subject!);
    expect(refused.headers['access-control-allow-origin']).toBe(frontend);

    const stored = await request(callback)
      .post('/v1/images')
      .set('Origin', frontend)
      .set('Authorization', 'Bearer k_test_cors_0123456789abcdef')
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('photo.png')));
    expect(stored.status).toBe(201);
    expect(stored.headers['access-control-allow-origin']).toBe(frontend);
    expect(stored.headers['access-control-expose-headers']).toMatch(/Location/);
    expect(stored.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('grants nothing when CORS_ORIGINS is empty (the default)', async () => {
    subject = await makeApp('local');
    const response = await request(subject.app.callback())
      .options('/v1/images')
      .set('Origin', frontend)
      .set('Access-Control-Request-Method', 'POST');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows every request header the OpenAPI document names, and X-Request-Id', async () => {
    subject = await makeApp('local', {
      CORS_ORIGINS: frontend,
      API_KEYS: 'k_test_cors_0123456789abcdef',
    });
    const documented = requestHeadersOf(
      buildOpenApiDocument(
        documentOptionsOf(subject.config, 'http://images.test', {
          staging: true,
          directUploads: true,
        }),
      ),
    );
    // What browsers send: the typed client's Idempotency-Key, tus-js-client's headers.
    expect(documented).toEqual(
      expect.arrayContaining([
        'Authorization',
        'Content-Type',
        'Idempotency-Key',
        'Delete-Token',
        'Content-Range',
        'Tus-Resumable',
        'Upload-Length',
        'Upload-Offset',
        'Upload-Metadata',
        'Upload-Checksum',
      ]),
    );
    const wanted = [...documented, 'X-Request-Id'];
    const response = await request(subject.app.callback())
      .options('/v1/images')
      .set('Origin', frontend)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', wanted.join(', ').toLowerCase());
    expect(response.status).toBe(204);
    const allowed = String(response.headers['access-control-allow-headers'])
      .split(',')
      .map((name) => name.trim().toLowerCase());
    expect(allowed).toEqual(expect.arrayContaining(wanted.map((name) => name.toLowerCase())));
  });
});
