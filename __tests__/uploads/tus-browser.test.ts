import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { launchChromium } from '../support/browser.js';
import { close, listen, useCleanups, useHarnesses } from '../http/harness.js';
import { fixture, sha256 } from '../support/requests.js';

/**
 * tus-js-client's browser build in headless Chromium, on a page of another origin: CORS must
 * let its PATCH and tus headers through and expose Location, Upload-Offset and Image-Id.
 */

const harnessFor = useHarnesses();
const defer = useCleanups();
const apiKey = 'k_test_tus_browser_0123456789';

describe('tus-js-client in headless Chromium', () => {
  it('uploads a photo in several chunks across origins and reads the image id', async () => {
    const bundle = await readFile('node_modules/tus-js-client/dist/tus.min.js', 'utf8');
    const page = createServer((request, response) => {
      if (request.url === '/tus.js') {
        response.writeHead(200, { 'Content-Type': 'text/javascript' });
        response.end(bundle);
        return;
      }
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<!doctype html><title>frontend</title><script src="/tus.js"></script>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    defer(() => close(page));
    const address = page.address();
    const pageOrigin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    const harness = await harnessFor('local', { CORS_ORIGINS: pageOrigin, API_KEYS: apiKey });
    const api = await listen(harness.callback);
    defer(() => close(api.server));
    const chromium = await launchChromium();
    defer(() => chromium.close());

    const photo = fixture('large.jpg');
    const tab = await chromium.browser.newPage();
    await tab.goto(`${pageOrigin}/`);
    const outcome = await tab.evaluate(
      async ({ endpoint, bytes, key }) => {
        const tus = (globalThis as unknown as { tus: typeof import('tus-js-client') }).tus;
        const file = new Blob([Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0))], {
          type: 'image/jpeg',
        });
        return new Promise<{ url: string; imageId: string | null; patches: number }>(
          (resolve, reject) => {
            let imageId: string | null = null;
            let patches = 0;
            const upload = new tus.Upload(file, {
              endpoint,
              chunkSize: 256 * 1024,
              retryDelays: [],
              headers: { Authorization: `Bearer ${key}` },
              metadata: { filename: 'large.jpg', filetype: 'image/jpeg' },
              onBeforeRequest: (request) => {
                if (request.getMethod() === 'PATCH') patches += 1;
              },
              onAfterResponse: (_request, response) => {
                imageId = response.getHeader('Image-Id') ?? imageId;
              },
              onSuccess: () => resolve({ url: upload.url ?? '', imageId, patches }),
              onError: (error) => reject(new Error(String(error))),
            });
            upload.start();
          },
        );
      },
      { endpoint: `http://127.0.0.1:${api.port}/v1/uploads`, bytes: photo.toString('base64'), key: apiKey },
    );
    expect(outcome.patches).toBe(Math.ceil(photo.length / (256 * 1024)));
    expect(outcome.imageId).toMatch(/^[0-9a-f-]{36}$/);
    const response = await fetch(outcome.url, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    const image = (await response.json()) as Record<string, unknown>;
    expect(image.id).toBe(outcome.imageId);
    expect(sha256(await harness.storedBytes(String(image.name)))).toBe(image.sha256);
  }, 60_000);
});
