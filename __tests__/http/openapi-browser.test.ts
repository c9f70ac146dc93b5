import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import request from 'supertest';
import { createHttpServer } from '../../src/http/server.js';
import { launchChromium, type Chromium } from '../support/browser.js';
import { makeApp, type AppUnderTest } from '../security/helpers.js';

type Json = Record<string, unknown>;

/** Redoc in headless Chromium (the rest of /docs and /openapi.json: openapi.test.ts). */
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
