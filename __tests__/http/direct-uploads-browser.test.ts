import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { launchChromium, type Chromium } from '../support/browser.js';
import { drivers, fixture, sha256, type Driver } from '../support/requests.js';
import { listen, startHarness, type Harness } from './harness.js';

/**
 * UpChunk (@mux/upchunk) in headless Chromium, as a frontend runs it: the page asks for a
 * resumable upload, UpChunk PUTs the file to the session URL in 256 KiB chunks with
 * Content-Range, and the page completes it. With the local driver the session is on the
 * service itself; with GCS it is the emulator's session URI, which fake-gcs-server answers
 * with CORS headers of its own.
 */

const apiKey = 'k_direct_browser_0123456789abcdef';
const upchunkScript = readFileSync(path.resolve('node_modules/@mux/upchunk/dist/upchunk.js'));

/** The frontend: a blank page, and UpChunk's browser build. */
function pageServer(): Server {
  return createServer((request, response) => {
    if (request.url === '/upchunk.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript' });
      response.end(upchunkScript);
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end('<!doctype html><title>frontend</title><script src="/upchunk.js"></script>');
  });
}

interface PageOutcome {
  readonly status?: number;
  readonly body?: Record<string, unknown>;
  readonly chunkStatuses?: number[];
  readonly failed?: string;
}

describe.each(drivers)('UpChunk in a browser with the %s driver', (driver: Driver) => {
  let chromium: Chromium | undefined;
  let harness: Harness | undefined;
  const servers: Server[] = [];
  let pageOrigin: string;
  let api: string;

  beforeAll(async () => {
    const page = pageServer();
    servers.push(page);
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    const address = page.address();
    pageOrigin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    harness = await startHarness(driver, { CORS_ORIGINS: pageOrigin, API_KEYS: apiKey });
    const { server, port } = await listen(harness.callback);
    servers.push(server);
    api = `http://127.0.0.1:${port}`;
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium?.close();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await harness?.dispose();
  });

  it('uploads a photo in chunks to a resumable session, then completes it (201)', async () => {
    const large = fixture('large.jpg');
    const page = await chromium!.browser.newPage();
    try {
      await page.goto(`${pageOrigin}/`);
      const outcome = await page.evaluate(
        async ({ api, apiKey, base64 }): Promise<PageOutcome> => {
          const upChunk = (globalThis as unknown as { UpChunk: typeof import('@mux/upchunk') })
            .UpChunk;
          const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
          const file = new File([bytes], 'large.jpg', { type: 'image/jpeg' });
          const authorization = { Authorization: `Bearer ${apiKey}` };
          try {
            const createdResponse = await fetch(`${api}/v1/uploads/direct`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', ...authorization },
              body: JSON.stringify({ size: file.size, type: file.type, method: 'resumable' }),
            });
            const created = (await createdResponse.json()) as {
              url: string;
              headers: Record<string, string>;
              completeUrl: string;
            };
            const chunkStatuses: number[] = [];
            await new Promise((resolve, reject) => {
              const upload = upChunk.createUpload({
                endpoint: created.url,
                file,
                chunkSize: 256,
                headers: created.headers,
                attempts: 1,
              });
              upload.on('chunkSuccess', (event) => {
                const detail = event.detail as { response: { statusCode: number } };
                chunkStatuses.push(detail.response.statusCode);
              });
              upload.on('success', resolve);
              upload.on('error', (event) => reject(new Error(JSON.stringify(event.detail))));
            });
            const done = await fetch(created.completeUrl, {
              method: 'POST',
              headers: authorization,
            });
            return {
              status: done.status,
              body: (await done.json()) as Record<string, unknown>,
              chunkStatuses,
            };
          } catch (error) {
            return { failed: String(error) };
          }
        },
        { api, apiKey, base64: large.toString('base64') },
      );
      expect(outcome.failed).toBeUndefined();
      expect(outcome.status).toBe(201);
      // Four chunks: three answered 308 (resume incomplete), the last 200 or 201.
      expect(outcome.chunkStatuses?.slice(0, 3)).toEqual([308, 308, 308]);
      expect([200, 201]).toContain(outcome.chunkStatuses?.[3]);
      const name = `${String(outcome.body?.id)}.jpg`;
      expect(await harness!.storedNames()).toContain(name);
      expect(outcome.body?.sha256).toBe(sha256(await harness!.storedBytes(name)));
    } finally {
      await page.close();
    }
  });
});
