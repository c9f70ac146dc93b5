import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { launchChromium, serveFrontend, type Chromium, type Frontend } from '../support/browser.js';
import { useCleanups, useHarnesses } from '../http/harness.js';
import { drivers, fixture, sha256 } from '../support/requests.js';
import { useTusServers, stagedPieceCount, uploadPath } from './tus-client.js';

/**
 * tus-js-client's browser bundle in headless Chromium, on a page from another origin than the
 * API (CORS_ORIGINS names the page's): a photo goes up in several PATCHes and the page reads
 * the headers CORS exposes; an SVG ends refused, with onError fired and the upload terminated.
 */

const harnessFor = useHarnesses();
const defer = useCleanups();
const serveTusFor = useTusServers();

const tusBundle = readFileSync(path.resolve('node_modules/tus-js-client/dist/tus.min.js'));

/** What the page's script saw of one upload. */
interface PageUpload {
  readonly url: string | null;
  readonly patches: number;
  readonly imageLocation: string | null;
  readonly imageId: string | null;
  /** onError's message and the status of the answer it came with. */
  readonly error?: { readonly message: string; readonly status: number | null };
}

let chromium: Chromium;
/** The frontend: a blank page and tus-js-client's bundle, on its own origin. */
let page: Frontend;
let pageOrigin: string;

beforeAll(async () => {
  page = await serveFrontend('tus.min.js', tusBundle);
  pageOrigin = page.origin;
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await page?.close();
});

/** Uploads `bytes` as a File with tus-js-client from a page on pageOrigin. */
async function uploadFromPage(
  endpoint: string,
  bytes: Buffer,
  file: { name: string; type: string },
  chunkSize: number,
): Promise<PageUpload> {
  const tab = await chromium.browser.newPage();
  defer(() => tab.close());
  await tab.goto(`${pageOrigin}/`);
  return tab.evaluate(
    async ({ endpoint, base64, file, chunkSize }) => {
      const tusClient = (globalThis as unknown as { tus: typeof import('tus-js-client') }).tus;
      const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
      let patches = 0;
      let imageLocation: string | null = null;
      let imageId: string | null = null;
      let url: string | null = null;
      const error = await new Promise<{ message: string; status: number | null } | undefined>(
        (resolve) => {
          const upload = new tusClient.Upload(new File([bytes], file.name, { type: file.type }), {
            endpoint,
            chunkSize,
            retryDelays: [0, 100],
            metadata: { filename: file.name, filetype: file.type },
            onUploadUrlAvailable: () => {
              url = upload.url;
            },
            onBeforeRequest: (request) => {
              if (request.getMethod() === 'PATCH') patches += 1;
            },
            onAfterResponse: (_request, response) => {
              imageLocation = response.getHeader('Image-Location') ?? imageLocation;
              imageId = response.getHeader('Image-Id') ?? imageId;
            },
            onSuccess: () => resolve(undefined),
            onError: (failure) => {
              const response = (failure as { originalResponse?: { getStatus(): number } | null })
                .originalResponse;
              resolve({ message: failure.message, status: response?.getStatus() ?? null });
            },
          });
          upload.start();
        },
      );
      return {
        url,
        patches,
        imageLocation,
        imageId,
        ...(error === undefined ? {} : { error }),
      };
    },
    { endpoint, base64: bytes.toString('base64'), file, chunkSize },
  );
}

describe.each(drivers)('tus-js-client in headless Chromium, cross-origin (%s)', (driver) => {
  it('uploads a photo in several PATCHes; the page reads Image-Location; GET /v1/uploads/{id} gives the image', async () => {
    const harness = await harnessFor(driver, { CORS_ORIGINS: pageOrigin });
    const server = await serveTusFor(harness);
    const photo = fixture('large.jpg');
    const chunkSize = 256 * 1024;

    const seen = await uploadFromPage(
      `${server.origin}/v1/uploads`,
      photo,
      { name: 'large.jpg', type: 'image/jpeg' },
      chunkSize,
    );
    expect(seen.error).toBeUndefined();
    expect(seen.patches).toBe(Math.ceil(photo.length / chunkSize));
    expect(seen.patches).toBeGreaterThan(2);

    const status = await server.call('GET', uploadPath(seen.url ?? undefined));
    expect(status.status).toBe(200);
    const image = status.body as { id: string; name: string; url: string; sha256: string };
    // Readable by the page's script only because CORS exposes them.
    expect(seen.imageLocation).toBe(image.url);
    expect(seen.imageId).toBe(image.id);
    expect(sha256(await harness.storedBytes(image.name))).toBe(image.sha256);
    const published = (await harness.storedNames()).filter(
      (name) => !name.startsWith(harness.config.staging.prefix),
    );
    expect(published).toEqual([image.name]);
  });

  it('an SVG ends refused: onError fires, HEAD answers 410 or 404, nothing is published', async () => {
    const harness = await harnessFor(driver, { CORS_ORIGINS: pageOrigin });
    const server = await serveTusFor(harness);
    const svg = fixture('script.svg');

    const seen = await uploadFromPage(
      `${server.origin}/v1/uploads`,
      svg,
      { name: 'photo.jpg', type: 'image/jpeg' },
      Math.ceil(svg.length / 2),
    );
    // The final PATCH's refusal reaches the page (the body is readable through CORS too).
    expect(seen.error?.status).toBe(415);
    expect(seen.imageLocation).toBeNull();
    // Terminated, so that a client's next HEAD cannot pass the refusal off as done.
    const at = uploadPath(seen.url ?? undefined);
    expect([404, 410]).toContain((await server.call('HEAD', at)).status);
    const status = await server.call('GET', at);
    expect(status.body).toMatchObject({ error: { code: 'unsupported_image_type' } });
    expect(
      (await harness.storedNames()).filter((name) => !name.startsWith(harness.config.staging.prefix)),
    ).toEqual([]);
    expect(await stagedPieceCount(harness, at.split('/').pop() ?? '')).toBe(0);
  });
});
