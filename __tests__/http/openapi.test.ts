import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type Router from '@koa/router';
import request from 'supertest';
import { AppError } from '../../src/errors.js';
import { createHttpServer } from '../../src/http/server.js';
import { referencePageCsp } from '../../src/http/routes/openapi.js';
import { launchChromium, type Chromium } from '../support/browser.js';
import { takeViolations } from '../support/openapi-conformance.js';
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

  it('leaves out what the configuration turns off', async () => {
    const open = await makeApp('gcs', {});
    try {
      const response = await request(open.app.callback())
        .get('/openapi.json')
        .set('Host', 'api.example.test');
      const document = response.body as Json;
      expect(document.servers).toEqual([{ url: 'http://api.example.test' }]);
      const paths = document.paths as Record<string, Record<string, Json>>;
      expect(paths['/uploads/{name}']).toBeUndefined();
      const responses = paths['/v1/images']!.post!.responses as Json;
      expect(Object.keys(responses)).not.toContain('401');
      expect(Object.keys(responses)).not.toContain('429');
    } finally {
      await open.cleanup();
    }
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
  let server: Server;
  let baseUrl: string;
  let chromium: Chromium | undefined;

  beforeAll(async () => {
    subject = await makeApp('local');
    server = createHttpServer(subject.app, subject.config.security);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await subject.cleanup();
  });

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

  it('renders every operation in headless Chromium, with no CSP violation', async () => {
    const page = await chromium!.browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) {
        problems.push(message.text());
      }
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const external: string[] = [];
    page.on('request', (sent) => {
      if (!sent.url().startsWith(baseUrl) && !sent.url().startsWith('blob:')) {
        external.push(sent.url());
      }
    });
    await page.goto(`${baseUrl}/docs`);
    // Redoc gives each operation a section with the id tag/<tag>/operation/<operationId>.
    const document = (await request(subject.app.callback()).get('/openapi.json')).body as Json;
    const sections = Object.values(document.paths as Record<string, Record<string, Json>>)
      .flatMap((item) => Object.values(item))
      .map(
        (operation) =>
          `tag/${(operation.tags as string[])[0]}/operation/${String(operation.operationId)}`,
      );
    await page.locator(`[id="${sections[0]}"]`).waitFor({ state: 'attached', timeout: 20_000 });
    for (const section of sections) {
      expect(await page.locator(`[id="${section}"]`).count()).toBe(1);
    }
    expect(sections.length).toBeGreaterThan(8);
    // The search index is built in a worker: let it start before the last look.
    await page.waitForTimeout(500);
    await page.close();
    expect(problems).toEqual([]);
    expect(external).toEqual([]);
  });
});
