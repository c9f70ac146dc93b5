import { afterEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildOpenApiDocument, documentOptionsOf } from '../../src/http/openapi/document.js';
import { startRawUpload } from '../http/sockets.js';
import { fixture, jsonBody, makeApp, type AppUnderTest, type Env } from './helpers.js';

/**
 * One guard whatever the path looks like: @koa/router matched `/V1/images` as /v1/images
 * while the guard, reading `/v1/` from the path, let it past authentication, the rate limit
 * and the upload-slot cap. Every guarded operation of the OpenAPI document is sent again with
 * its path changed in case, slashes and percent-encoding: each answer is a 404 or exactly what
 * the guard answers for the path as documented.
 */

const apiKey = 'k_test_paths_0123456789abcdef';
const sampleId = '00000000-0000-4000-8000-000000000000';

interface GuardedOperation {
  readonly method: string;
  readonly path: string;
}

/** The guarded operations the document lists, their path parameters filled in. */
function guardedOperations(subject: AppUnderTest): GuardedOperation[] {
  const document = buildOpenApiDocument(
    documentOptionsOf(subject.config, 'http://images.test', {
      staging: true,
      directUploads: true,
    }),
  ) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  const operations: GuardedOperation[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if ((operation.security ?? []).length === 0) continue;
      operations.push({
        method: method.toUpperCase(),
        path: template.replace(/\{id\}/g, sampleId).replace(/\{[a-z]+\}/g, 'x'),
      });
    }
  }
  return operations;
}

/** The same path written the ways a client (or an attacker) might. */
function variantsOf(path: string): string[] {
  const rest = path.slice('/v1'.length);
  return [
    `/V1${rest}`,
    `/v1${rest.toUpperCase()}`,
    `${path}/`,
    `/${path}`,
    `/v1/${rest}`,
    path.replace(/\/([a-z])/g, (_all, letter: string) => `//${letter}`),
    `/%2Fv1${rest}`,
    `/%2fv1${rest}`,
    `/v1${rest.replace(/\//g, '%2F')}`,
    `/%76%31${rest}`,
    `/%56%31${rest}`,
    `/v1${rest.replace(/[a-z]/, (letter) => `%${letter.charCodeAt(0).toString(16)}`)}`,
    `/v1/.${rest}`,
    `/x/..${path}`,
  ];
}

interface Answer {
  readonly status: number;
  /** The catalogue code; a HEAD answer has no body, so it is the status's own code. */
  readonly code: string | undefined;
}

const codeOfStatus: Readonly<Record<number, string>> = {
  401: 'unauthorized',
  429: 'rate_limited',
  503: 'server_busy',
};

/** Sends the path byte for byte (no client normalises it), with an image as the body. */
async function send(
  subject: AppUnderTest,
  server: http.Server,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const body = method === 'POST' || method === 'PATCH' ? jsonBody(fixture('photo.png')) : '';
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const call = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'Tus-Resumable': '1.0.0',
          'Upload-Length': String(Buffer.byteLength(body)),
          ...headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let code = method === 'HEAD' ? codeOfStatus[response.statusCode ?? 0] : undefined;
          try {
            if (text !== '') code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
          resolve({ status: response.statusCode ?? 0, code });
        });
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

describe('every guarded operation, whatever its path looks like', () => {
  let subject: AppUnderTest | undefined;
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) =>
      server === undefined ? resolve(undefined) : server.close(resolve),
    );
    server = undefined;
    await subject?.cleanup();
    subject = undefined;
  });

  async function start(env: Env): Promise<AppUnderTest> {
    subject = await makeApp('local', env);
    const handle = subject.app.callback();
    server = http.createServer((incoming, outgoing) => void handle(incoming, outgoing));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return subject;
  }

  /** Each variant of each operation, with what it answered, where it was not `allowed`. */
  async function offenders(
    headers: Record<string, string>,
    allowed: (answer: Answer) => boolean,
    only: (operation: GuardedOperation) => boolean = () => true,
  ): Promise<string[]> {
    const found: string[] = [];
    for (const operation of guardedOperations(subject!).filter(only)) {
      for (const path of variantsOf(operation.path)) {
        const answer = await send(subject!, server!, operation.method, path, headers);
        if (!allowed(answer))
          found.push(`${operation.method} ${path} -> ${answer.status} ${answer.code}`);
      }
    }
    return found;
  }

  it('asks for credentials (401) or finds nothing (404), never serving without them', async () => {
    await start({ API_KEYS: apiKey });
    const operations = guardedOperations(subject!);
    // The document's own operations, so a new route is covered without editing this test.
    expect(operations.map((operation) => `${operation.method} ${operation.path}`)).toEqual(
      expect.arrayContaining([
        'POST /v1/images',
        `DELETE /v1/images/${sampleId}`,
        'PATCH /v1/uploads/' + sampleId,
      ]),
    );
    for (const operation of operations) {
      expect(await send(subject!, server!, operation.method, operation.path)).toEqual({
        status: 401,
        code: 'unauthorized',
      });
    }
    expect(
      await offenders(
        {},
        ({ status, code }) => status === 404 || (status === 401 && code === 'unauthorized'),
      ),
    ).toEqual([]);
    expect(await subject!.stored()).toEqual([]);
  });

  it('counts every variant against the caller’s rate limit', async () => {
    await start({ API_KEYS: apiKey, RATE_LIMIT: '1' });
    const auth = { Authorization: `Bearer ${apiKey}` };
    expect((await send(subject!, server!, 'POST', '/v1/images', auth)).status).toBe(201);
    const stored = await subject!.stored();
    expect(
      await offenders(
        auth,
        ({ status, code }) => status === 404 || (status === 429 && code === 'rate_limited'),
      ),
    ).toEqual([]);
    expect(await subject!.stored()).toEqual(stored);
  });

  it('holds every variant that carries an upload to the upload-slot cap', async () => {
    await start({ MAX_CONCURRENT_UPLOADS: '1' });
    // One upload in flight, its body half sent: the only slot is taken.
    const body = Buffer.from(jsonBody(fixture('photo.png')));
    const held = await startRawUpload((server!.address() as AddressInfo).port, body, 100);
    try {
      while ((await send(subject!, server!, 'POST', '/v1/images')).status !== 503) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(
        await offenders(
          {},
          ({ status, code }) => status === 404 || (status === 503 && code === 'server_busy'),
          ({ method }) => method === 'POST' || method === 'PATCH',
        ),
      ).toEqual([]);
    } finally {
      held.destroy();
    }
  });

  it('logs a path the router did not match as unmatched, apart from the route it resembles', async () => {
    await start({});
    expect((await send(subject!, server!, 'POST', '/V1/images')).status).toBe(404);
    expect((await send(subject!, server!, 'POST', '/v1/images')).status).toBe(201);
    const routes = subject!.log.lines
      .map((line) => JSON.parse(line) as { msg?: string; route?: string; status?: number })
      .filter((entry) => entry.route !== undefined)
      .map((entry) => [entry.route, entry.status]);
    expect(routes).toEqual([
      ['unmatched', 404],
      ['/v1/images', 201],
    ]);
  });
});
