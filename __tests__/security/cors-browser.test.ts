import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, type Chromium } from '../support/browser.js';
import { createHttpServer } from '../../src/http/server.js';
import { fixture, makeApp, type AppUnderTest } from './helpers.js';

/**
 * CORS as a real browser enforces it (Debian's chromium, headless): a page on the allowed
 * origin can upload and read the answer, errors included; a page on a foreign origin cannot
 * read anything, and its upload is never even sent, so nothing is stored.
 */

const apiKey = 'k_test_browser_0123456789abcdef';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}

/** A blank page served from its own origin, for scripts to run on. */
function pageServer(): Server {
  return createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end('<!doctype html><title>frontend</title>');
  });
}

interface FetchOutcome {
  readonly status?: number;
  readonly body?: unknown;
  readonly failed?: string;
}

describe('CORS in a real browser', () => {
  let subject: AppUnderTest;
  let api: Server;
  let apiUrl: string;
  const pages: Server[] = [pageServer(), pageServer()];
  let allowedOrigin: string;
  let foreignOrigin: string;
  let browser: BrowserContext;
  let chromiumSession: Chromium | undefined;

  beforeAll(async () => {
    allowedOrigin = await listen(pages[0]!);
    foreignOrigin = await listen(pages[1]!);
    subject = await makeApp('local', { CORS_ORIGINS: allowedOrigin, API_KEYS: apiKey });
    api = createHttpServer(subject.app, subject.config.security);
    apiUrl = await listen(api);
    chromiumSession = await launchChromium();
    browser = chromiumSession.browser;
  });

  afterAll(async () => {
    await chromiumSession?.close();
    for (const server of [api, ...pages]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
    await subject?.cleanup();
  });

  /** Runs fetch() in a page on `origin` and reports what the page's script could see. */
  async function fetchFrom(
    origin: string,
    init: {
      authorization?: string;
      contentType: string;
      body: string;
      headers?: Record<string, string>;
    },
  ): Promise<FetchOutcome> {
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(
        async ({ url, authorization, contentType, body, headers: extra }) => {
          try {
            const headers: Record<string, string> = { ...extra, 'Content-Type': contentType };
            if (authorization !== undefined) headers.Authorization = authorization;
            const response = await fetch(url, { method: 'POST', headers, body });
            return { status: response.status, body: await response.json() };
          } catch (error) {
            return { failed: String(error) };
          }
        },
        { url: `${apiUrl}/v1/images`, ...init },
      );
    } finally {
      await page.close();
    }
  }

  const image = JSON.stringify({
    data: `data:image/png;base64,${fixture('photo.png').toString('base64')}`,
  });

  it('lets the allowed origin upload and read the answer', async () => {
    const outcome = await fetchFrom(allowedOrigin, {
      authorization: `Bearer ${apiKey}`,
      contentType: 'application/json',
      body: image,
    });
    expect(outcome).toMatchObject({ status: 201, body: { contentType: 'image/png' } });
    expect(await subject.stored()).toContain((outcome.body as { name: string }).name);
  });

  it('lets the allowed origin send an Idempotency-Key and an X-Request-Id, and retry', async () => {
    const init = {
      authorization: `Bearer ${apiKey}`,
      contentType: 'application/json',
      body: image,
      headers: { 'Idempotency-Key': 'browser-retry-0001', 'X-Request-Id': 'browser-request-1' },
    };
    const first = await fetchFrom(allowedOrigin, init);
    expect(first).toMatchObject({ status: 201, body: { contentType: 'image/png' } });
    const retried = await fetchFrom(allowedOrigin, init);
    expect(retried).toMatchObject({ status: 201, body: { id: (first.body as { id: string }).id } });
  });

  it('lets the allowed origin read an error', async () => {
    const outcome = await fetchFrom(allowedOrigin, {
      contentType: 'application/json',
      body: image,
    });
    expect(outcome).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  });

  it('gives a foreign origin nothing, and its upload is never sent', async () => {
    const before = await subject.stored();
    const outcome = await fetchFrom(foreignOrigin, {
      authorization: `Bearer ${apiKey}`,
      contentType: 'application/json',
      body: image,
    });
    expect(outcome.failed).toMatch(/TypeError/);
    expect(outcome.status).toBeUndefined();
    expect(await subject.stored()).toEqual(before);
  });

  it('gives a foreign "simple" request (no preflight) no readable answer, and stores nothing', async () => {
    const before = await subject.stored();
    const outcome = await fetchFrom(foreignOrigin, { contentType: 'text/plain', body: image });
    expect(outcome.failed).toMatch(/TypeError/);
    expect(await subject.stored()).toEqual(before);
  });
});
