import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Router from '@koa/router';
import request from 'supertest';
import { AppError } from '../../src/errors.js';
import { loadConfig } from '../../src/config.js';
import { buildOpenApiDocument, documentOptionsOf } from '../../src/http/openapi/document.js';
import { referencePageCsp } from '../../src/http/routes/openapi.js';
import { takeViolations } from '../support/openapi-conformance.js';
import { drivers } from '../support/requests.js';
import { makeApp, type AppUnderTest } from '../security/helpers.js';

type Json = Record<string, unknown>;

const apiKey = 'k_openapi_0123456789abcdef';

/** Every route the app's routers serve, as `METHOD /openapi/{path}`. */
function servedOperations(subject: AppUnderTest): string[] {
  const operations = new Set<string>();
  for (const middleware of subject.app.middleware) {
    const router = (middleware as { router?: Router }).router;
    for (const layer of router?.stack ?? []) {
      const path = String(layer.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      // The router answers HEAD for every GET itself.
      const methods = layer.methods.includes('GET')
        ? layer.methods.filter((m) => m !== 'HEAD')
        : layer.methods;
      for (const method of methods) {
        operations.add(`${method} ${path}`);
      }
    }
  }
  return [...operations].sort();
}

function documentedOperations(document: Json): string[] {
  const paths = document.paths as Record<string, Json>;
  return Object.entries(paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe('the OpenAPI document', () => {
  let subject: AppUnderTest;
  beforeAll(async () => {
    subject = await makeApp('local', { API_KEYS: apiKey, RATE_LIMIT: '60' });
  });
  afterAll(() => subject.cleanup());

  it('is served at /openapi.json with PUBLIC_BASE_URL as its server', async () => {
    const response = await request(subject.app.callback()).get('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.type).toBe('application/json');
    const document = response.body as Json;
    expect(document.openapi).toBe('3.1.1');
    expect(document.servers).toEqual([{ url: 'http://images.test' }]);
  });

  it('describes every route the app serves, and nothing else', async () => {
    const document = (await request(subject.app.callback()).get('/openapi.json')).body as Json;
    expect(documentedOperations(document)).toEqual(servedOperations(subject));
  });

  it('lists each error code under the status the catalogue gives it', async () => {
    const document = (await request(subject.app.callback()).get('/openapi.json')).body as Json;
    const post = (document.paths as Record<string, Record<string, Json>>)['/v1/images']!.post!;
    const responses = post.responses as Record<string, Json>;
    const codesAt = (status: string): unknown => {
      const content = responses[status]!.content as Record<string, Json>;
      const schema = content['application/json']!.schema as { allOf: Json[] };
      const error = (schema.allOf[1]!.properties as Record<string, Json>).error!;
      return ((error.properties as Record<string, Json>).code as Json).enum;
    };
    expect(codesAt('401')).toEqual(['unauthorized']);
    expect(codesAt('429')).toEqual(['rate_limited']);
    expect(codesAt('503')).toEqual(['server_busy', 'storage_unavailable']);
    expect(codesAt('413')).toEqual(expect.arrayContaining(['payload_too_large', 'too_many_parts']));
    expect(Object.keys(responses[`503`]!.headers as Json)).toContain('Retry-After');
  });

  it('leaves out what the configuration turns off', () => {
    // The GCS driver, open (no credentials, no rate limit): no stored files here, no 401 or 429.
    const config = loadConfig({ STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'images', RATE_LIMIT: '0' });
    const documentFor = (served: { staging: boolean; directUploads: boolean }) =>
      buildOpenApiDocument(documentOptionsOf(config, 'http://api.example.test', served)) as {
        paths: Record<string, Record<string, Json>>;
      };
    const { paths } = documentFor({ staging: true, directUploads: false });
    expect(paths['/uploads/{name}']).toBeUndefined();
    expect(paths['/v1/uploads/direct']).toBeUndefined();
    expect(paths['/v1/uploads/{id}/complete']).toBeUndefined();
    const responses = paths['/v1/images']!.post!.responses as Json;
    expect(Object.keys(responses)).not.toContain('401');
    expect(Object.keys(responses)).not.toContain('429');
    // Direct uploads on GCS go to the bucket's URLs: the local driver's PUT is not here.
    const direct = documentFor({ staging: false, directUploads: true }).paths;
    expect(Object.keys(direct)).toEqual(
      expect.arrayContaining(['/v1/uploads/direct', '/v1/uploads/{id}/complete']),
    );
    expect(direct['/v1/uploads/direct/{id}']).toBeUndefined();
    expect(direct['/v1/uploads']).toBeUndefined();
  });

  (drivers.includes('gcs') ? it : it.skip)(
    'takes its server from the request without PUBLIC_BASE_URL',
    async () => {
      const open = await makeApp('gcs', {});
      try {
        const response = await request(open.app.callback())
          .get('/openapi.json')
          .set('Host', 'api.example.test');
        expect((response.body as Json).servers).toEqual([{ url: 'http://api.example.test' }]);
      } finally {
        await open.cleanup();
      }
    },
  );

  it('agrees with what OPTIONS answers on every upload path', async () => {
    // tus answers OPTIONS for its own ids (204); any other path of that shape, and the direct
    // upload paths (no OPTIONS of their own), get the router's 200 with Allow, as documented
    // for /v1/uploads/{id} and left out (a preflight's business) elsewhere.
    const id = '6d412bc9-424e-4ad4-b68c-2964b40eee84';
    const answers: Record<string, [number, string]> = {};
    for (const path of [
      '/v1/uploads',
      `/v1/uploads/${id}`,
      '/v1/uploads/0',
      '/v1/uploads/direct',
      `/v1/uploads/${id}/complete`,
      `/v1/uploads/direct/${id}`,
    ]) {
      const response = await request(subject.app.callback()).options(path);
      answers[path] = [response.status, String(response.headers.allow ?? '')];
    }
    expect(answers).toEqual({
      '/v1/uploads': [204, ''],
      [`/v1/uploads/${id}`]: [204, ''],
      '/v1/uploads/0': [200, 'OPTIONS, HEAD, PATCH, DELETE, GET'],
      '/v1/uploads/direct': [200, expect.stringContaining('POST')],
      [`/v1/uploads/${id}/complete`]: [200, 'POST'],
      [`/v1/uploads/direct/${id}`]: [200, 'PUT'],
    });
    expect(takeViolations()).toEqual([]);
  });

  it('is checked against every response the tests provoke', async () => {
    // A response the document does not describe, injected behind the check.
    subject.app.middleware.splice(1, 0, async (ctx, next) => {
      await next();
      if (ctx.path === '/healthz') ctx.body = { status: 'tired' };
    });
    try {
      await request(subject.app.callback()).get('/healthz');
    } finally {
      subject.app.middleware.splice(1, 1);
    }
    expect(takeViolations()).toEqual([expect.stringMatching(/GET \/healthz .*-> 200: body/)]);
  });

  it('fails a route that answers a catalogue code it did not declare', async () => {
    // 422 is declared for POST /v1/upload/image (missing_data, ...), but not missing_file.
    // Thrown where a route would throw it: after renderErrors and guardApi, before the routers.
    const routers = subject.app.middleware.findIndex((middleware) => 'router' in middleware);
    subject.app.middleware.splice(routers, 0, async (ctx, next) => {
      if (ctx.path === '/v1/upload/image') throw new AppError('missing_file');
      await next();
    });
    try {
      const response = await request(subject.app.callback())
        .post('/v1/upload/image')
        .set('Authorization', `Bearer ${apiKey}`)
        .send({ data: '' });
      expect(response.status).toBe(422);
    } finally {
      subject.app.middleware.splice(routers, 1);
    }
    expect(takeViolations()).toEqual([
      expect.stringMatching(/POST \/v1\/upload\/image .*-> 422: body .*must be equal to one of/),
    ]);
  });
});

describe('the reference page at /docs', () => {
  let subject: AppUnderTest;
  beforeAll(async () => {
    subject = await makeApp('local');
  });
  afterAll(() => subject.cleanup());

  it('has its own CSP, and Redoc from node_modules with a long cache', async () => {
    const page = await request(subject.app.callback()).get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(referencePageCsp);
    expect(page.text).not.toMatch(/https?:\/\//);
    const script = await request(subject.app.callback()).get('/docs/redoc.standalone.js');
    expect(script.status).toBe(200);
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.text).not.toContain('cdn.redoc.ly');
  });
});
