import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build, stop } from 'esbuild';
import { launchChromium, serveFrontend, type Chromium, type Frontend } from '../support/browser.js';
import { useCleanups, useHarnesses, type Harness } from '../http/harness.js';
import { drivers, fixture, sha256 } from '../support/requests.js';
import { stagedIds, stagedPieceCount, uploadPath, useTusServers } from './tus-client.js';

/**
 * Uppy's Tus plugin (@uppy/core, @uppy/tus, bundled here with esbuild as an app would bundle
 * them) in headless Chromium, on a page from another origin than the API, with
 * parallelUploads: 4: the file goes up as four partial uploads joined by a final upload
 * (tus concatenation), through CORS.
 */

const harnessFor = useHarnesses();
const defer = useCleanups();
const serveTusFor = useTusServers();

/** What the page's script saw of one Uppy upload. */
interface PageUpload {
  /** Each request: method and Upload-Concat, as Uppy's tus-js-client sent them. */
  readonly requests: readonly string[];
  readonly uploadUrl: string | null;
  readonly imageId: string | null;
  readonly imageLocation: string | null;
  /** upload-error's message and the status of the answer it came with. */
  readonly error?: { readonly message: string; readonly status: number | null };
}

/** The little of Uppy's API the page uses. */
interface TusRequest {
  getMethod(): string;
  getHeader(name: string): string | undefined;
}
interface TusResponse {
  getHeader(name: string): string | undefined;
}
interface UppyBundle {
  Uppy: new (options: { autoProceed: boolean }) => UppyInstance;
  Tus: unknown;
}
interface UppyInstance {
  use(plugin: unknown, options: Record<string, unknown>): UppyInstance;
  addFile(file: { name: string; type: string; data: Blob }): string;
  on(
    event: 'upload-error',
    listener: (file: unknown, error: Error, response?: { status: number }) => void,
  ): void;
  upload(): Promise<{ successful?: { uploadURL?: string }[] } | undefined>;
}

let chromium: Chromium;
let page: Frontend;
let pageOrigin: string;

beforeAll(async () => {
  const bundled = await build({
    stdin: {
      contents:
        "import Uppy from '@uppy/core'; import Tus from '@uppy/tus';\n" +
        'globalThis.UppyBundle = { Uppy, Tus };',
      resolveDir: process.cwd(),
      loader: 'js',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  const bundle = bundled.outputFiles[0]?.contents;
  if (bundle === undefined) throw new Error('esbuild wrote no bundle');
  page = await serveFrontend('uppy.js', bundle);
  pageOrigin = page.origin;
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await page?.close();
  await stop();
});

/** Uploads `bytes` as a File with Uppy's Tus plugin, parallelUploads: 4, from pageOrigin. */
async function uploadWithUppy(
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
      // Typed here by hand: @uppy's own types bring the DOM lib into every test file.
      const { Uppy, Tus } = (globalThis as unknown as { UppyBundle: UppyBundle }).UppyBundle;
      const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
      const requests: string[] = [];
      let imageId: string | null = null;
      let imageLocation: string | null = null;
      const uppy = new Uppy({ autoProceed: false }).use(Tus, {
        endpoint,
        parallelUploads: 4,
        chunkSize,
        retryDelays: [0, 100],
        onBeforeRequest: (request: TusRequest) => {
          const concat = request.getHeader('Upload-Concat');
          requests.push(`${request.getMethod()}${concat === undefined ? '' : ` ${concat}`}`);
        },
        onAfterResponse: (_request: TusRequest, response: TusResponse) => {
          imageId = response.getHeader('Image-Id') ?? imageId;
          imageLocation = response.getHeader('Image-Location') ?? imageLocation;
        },
      });
      uppy.addFile({ name: file.name, type: file.type, data: new Blob([bytes], { type: file.type }) });
      let error: { message: string; status: number | null } | undefined;
      uppy.on('upload-error', (_file: unknown, failure: Error, response?: { status: number }) => {
        error = { message: failure.message, status: response?.status ?? null };
      });
      const result = await uppy.upload();
      const uploaded = result?.successful?.[0];
      return {
        requests,
        uploadUrl: uploaded?.uploadURL ?? null,
        imageId,
        imageLocation,
        ...(error === undefined ? {} : { error }),
      };
    },
    { endpoint, base64: bytes.toString('base64'), file, chunkSize },
  );
}

async function publishedNames(harness: Harness): Promise<string[]> {
  const names = await harness.storedNames();
  return names.filter((name) => !name.startsWith(harness.config.staging.prefix));
}

describe.each(drivers)("Uppy's Tus plugin, parallelUploads: 4, in headless Chromium (%s)", (driver) => {
  it('four partial uploads and a final one: one image, byte-faithful; the page reads Image-Location', async () => {
    const harness = await harnessFor(driver, { CORS_ORIGINS: pageOrigin });
    const server = await serveTusFor(harness);
    const photo = fixture('large.jpg');

    const seen = await uploadWithUppy(
      `${server.origin}/v1/uploads`,
      photo,
      { name: 'large.jpg', type: 'image/jpeg' },
      128 * 1024,
    );
    expect(seen.error).toBeUndefined();
    expect(seen.requests.filter((request) => request === 'POST partial')).toHaveLength(4);
    const finals = seen.requests.filter((request) => request.startsWith('POST final;'));
    expect(finals).toHaveLength(1);
    expect(finals[0]?.replace('POST final;', '').split(' ')).toHaveLength(4);
    expect(seen.requests.filter((request) => request === 'PATCH partial').length).toBeGreaterThan(4);

    const status = await server.call('GET', uploadPath(seen.uploadUrl ?? undefined));
    expect(status.status).toBe(200);
    const image = status.body as { id: string; name: string; url: string; sha256: string };
    // Readable by the page's script only because CORS exposes them.
    expect(seen.imageId).toBe(image.id);
    expect(seen.imageLocation).toBe(image.url);
    expect(sha256(await harness.storedBytes(image.name))).toBe(image.sha256);
    expect(await publishedNames(harness)).toEqual([image.name]);
    // The same bytes in one POST make the same stored image.
    const posted = await server.call('POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, photo);
    expect((posted.body as { sha256: string }).sha256).toBe(image.sha256);
    // The final upload, and the four partials' records (kept, used up, for a retried final
    // upload whose 201 was lost) without their bytes.
    const finalId = uploadPath(seen.uploadUrl ?? undefined).split('/').pop() ?? '';
    const staged = await stagedIds(harness);
    expect(staged).toHaveLength(5);
    expect(staged).toContain(finalId);
    for (const id of staged) expect(await stagedPieceCount(harness, id)).toBe(0);
  });

  it('an SVG: upload-error with 415 at the final upload, nothing published, no partial left', async () => {
    const harness = await harnessFor(driver, { CORS_ORIGINS: pageOrigin });
    const server = await serveTusFor(harness);
    const svg = fixture('script.svg');

    const seen = await uploadWithUppy(
      `${server.origin}/v1/uploads`,
      svg,
      { name: 'photo.png', type: 'image/png' },
      64,
    );
    expect(seen.error?.status).toBe(415);
    expect(seen.requests.filter((request) => request === 'POST partial')).toHaveLength(4);
    expect(seen.requests.filter((request) => request.startsWith('POST final;'))).toHaveLength(1);
    expect(await publishedNames(harness)).toEqual([]);
    expect(await stagedIds(harness)).toEqual([]);
  });
});
