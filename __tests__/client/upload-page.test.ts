import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Locator, Page } from 'playwright-core';
import { close, useCleanups, startHarness, type Harness } from '../http/harness.js';
import { launchChromium, type Chromium } from '../support/browser.js';
import { cameraHeics } from '../support/heic.js';
import { fixture, fixturesDirectory } from '../support/requests.js';

/**
 * The upload page at `/` in headless Chromium, over the real service: it uses the typed
 * client's browser build, so these tests drive the client in a browser too.
 */

let chromium: Chromium;
beforeAll(async () => {
  // The page loads the client's build: compile it as `npm run build` does.
  execFileSync(path.resolve('node_modules/.bin/tsc'), ['-p', 'clients/typescript/tsconfig.json']);
  chromium = await launchChromium();
}, 60_000);
afterAll(async () => {
  await chromium.close();
});

const defer = useCleanups();

interface PageUnderTest {
  readonly page: Page;
  readonly harness: Harness;
  readonly baseUrl: string;
}

/**
 * The service on a loopback port whose stored images are served from that same address
 * (PUBLIC_BASE_URL), and a fresh page at `/`.
 */
async function openPage(env: Record<string, string> = {}): Promise<PageUnderTest> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => close(server));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  const harness = await startHarness('local', {
    PUBLIC_BASE_URL: baseUrl,
    RATE_LIMIT: '0',
    ...env,
  });
  defer(() => harness.dispose());
  const callback = harness.callback;
  handler = (req, res) => void callback(req, res);

  const page = await chromium.browser.newPage();
  defer(() => page.close());
  // The stored images load through renditions, rendered and stored on request: let them land
  // before the page and the store go.
  defer(() =>
    page.evaluate(
      'Promise.all([...document.images].map((image) => image.decode().catch(() => undefined)))',
    ),
  );
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('Failed to load resource')) {
      problems.push(message.text());
    }
  });
  defer(() => Promise.resolve(expect(problems).toEqual([])));
  await page.goto(`${baseUrl}/`);
  // page.js reads its settings first, then attaches its handlers and says so.
  await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' });
  return { page, harness, baseUrl };
}

/** The stored originals, without the renditions the page's srcset had made. */
async function originalNames(harness: Harness): Promise<string[]> {
  return (await harness.storedNames()).filter((name) => !/\.r-[0-9a-f]{24}\./.test(name));
}

const item = (page: Page, name: string) => page.locator('li.item', { hasText: name });

/** Retries an assertion until it holds (the page works asynchronously) or time runs out. */
async function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A property of the element (no DOM types here: the service's typecheck has none). */
function propertyOf<T>(locator: Locator, name: string): Promise<T> {
  return locator.evaluate(
    (node: unknown, key: string) => (node as Record<string, unknown>)[key] as T,
    name,
  );
}

const textOf = async (locator: Locator): Promise<string> => (await locator.textContent()) ?? '';
const focusedId = (page: Page): Promise<string | undefined> =>
  page.evaluate('document.activeElement?.id');

describe('the upload page', () => {
  it('shows an iPhone HEIC through its renditions, its display JPEG as src, which Chromium renders', async () => {
    const { page, harness } = await openPage();
    await page.setInputFiles('#file-input', path.join(fixturesDirectory, cameraHeics.iphone));
    const card = item(page, 'iphone13pro-gps.heic');
    await eventually(
      async () => expect(await textOf(card.locator('.status'))).toBe('Uploaded.'),
      120_000,
    );
    const stored = card.locator('img.stored');
    await stored.evaluate((image: unknown) => (image as { decode(): Promise<void> }).decode());
    // Chromium decodes no HEIC: what it shows is a rendition the service decoded, picked from
    // the srcset for this layout, upright and 4:3 as the photo is displayed.
    expect(await propertyOf<string>(stored, 'currentSrc')).toMatch(
      /\/v1\/images\/[^/]+\/render\?w=/,
    );
    const width = await propertyOf<number>(stored, 'naturalWidth');
    const height = await propertyOf<number>(stored, 'naturalHeight');
    expect(width).toBeGreaterThan(0);
    expect(Math.abs(width * 3 - height * 4)).toBeLessThanOrEqual(4);
    // Its src, for a browser without srcset, is the full-size display JPEG.
    const names = await harness.storedNames();
    const display = names.find((name) => name.endsWith('.display.jpg'));
    expect(await propertyOf<string>(stored, 'src')).toMatch(new RegExp(`/uploads/${display}$`));
    expect(names.filter((name) => name.endsWith('.heic'))).toHaveLength(1);
  }, 180_000);

  it('uploads a picked photo: progress reaches 100%, the stored image renders with its metadata', async () => {
    const { page, harness } = await openPage();
    // Anonymous service: no key is asked for.
    expect(await page.locator('#key-form').isVisible()).toBe(false);
    await page.setInputFiles('#file-input', path.join(fixturesDirectory, 'photo.jpg'));
    const card = item(page, 'photo.jpg');
    await eventually(async () => expect(await textOf(card.locator('.status'))).toBe('Uploaded.'));
    expect(await propertyOf<number>(card.locator('progress'), 'value')).toBe(100);
    const stored = card.locator('img.stored');
    await stored.evaluate((image: unknown) => (image as { decode(): Promise<void> }).decode());
    expect(await propertyOf<number>(stored, 'naturalWidth')).toBeGreaterThan(0);
    const [name] = await originalNames(harness);
    expect(await propertyOf<string>(stored, 'src')).toMatch(new RegExp(`/uploads/${name}$`));
    const facts = await textOf(card.locator('dl'));
    expect(facts).toContain('image/jpeg');
    expect(facts).toMatch(/\d+ × \d+ pixels/);
    expect(facts).toContain('KB');
    // Announced to screen readers, and focus is on the finished card.
    await eventually(async () =>
      expect(await textOf(page.locator('#announcer'))).toBe('photo.jpg: Uploaded.'),
    );
    expect(await focusedId(page)).toBe(await card.getAttribute('id'));
  });

  it('shows the stored image through srcset: the browser picks a width for its viewport', async () => {
    const { page, harness } = await openPage();
    // 400 CSS pixels at density 1: `sizes` lays the image out 100vw wide, 400 pixels.
    await page.setViewportSize({ width: 400, height: 800 });
    await page.setInputFiles('#file-input', path.join(fixturesDirectory, 'large.jpg'));
    const card = item(page, 'large.jpg');
    await eventually(async () => expect(await textOf(card.locator('.status'))).toBe('Uploaded.'));
    const stored = card.locator('img.stored');
    await stored.evaluate((image: unknown) => (image as { decode(): Promise<void> }).decode());
    const current = new URL(await propertyOf<string>(stored, 'currentSrc'));
    expect(current.pathname).toMatch(/^\/v1\/images\/[0-9a-f-]{36}\/render$/);
    // 1600 wide; RENDER_WIDTHS 320, 640, 960, 1280 below it: 400 px at density 1 takes 640.
    expect(current.searchParams.get('w')).toBe('640');
    // Chromium takes AVIF: that is what was rendered and stored, 640 pixels wide.
    const avif = (await harness.storedNames()).filter((name) => name.endsWith('.avif'));
    expect(avif).toHaveLength(1);
    const meta = await sharp(await harness.storedBytes(avif[0]!)).metadata();
    expect([meta.format, meta.width]).toEqual(['heif', 640]);
  });

  it('shows a human message for a dropped SVG, and stores nothing', async () => {
    const { page, harness } = await openPage();
    const svg = fixture('script.svg').toString('utf8');
    // A real drop as the browser dispatches it, with the file in its DataTransfer.
    await page.evaluate(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([${JSON.stringify(svg)}], 'drawing.svg', { type: 'image/svg+xml' }));
      const zone = document.getElementById('drop-zone');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
    })()`);
    const status = item(page, 'drawing.svg').locator('.status');
    await eventually(async () =>
      expect(await textOf(status)).toMatch(/^Not an allowed image type \(allowed: JPEG, PNG/),
    );
    expect(await textOf(status)).not.toContain('unsupported_image_type');
    await harness.expectNothingStored();
  });

  it('queues several files and uploads each', async () => {
    const { page, harness } = await openPage();
    const names = ['photo.jpg', 'photo.png', 'photo.webp'];
    await page.setInputFiles(
      '#file-input',
      names.map((name) => path.join(fixturesDirectory, name)),
    );
    expect(await page.locator('li.item').count()).toBe(3);
    for (const name of names) {
      await eventually(async () =>
        expect(await textOf(item(page, name).locator('.status'))).toBe('Uploaded.'),
      );
      // Shown through a rendition: let it be rendered and stored before the store goes.
      await item(page, name)
        .locator('img.stored')
        .evaluate((image: unknown) => (image as { decode(): Promise<void> }).decode());
    }
    expect(await originalNames(harness)).toHaveLength(3);
  });

  it('cancels an upload halfway; nothing is stored', async () => {
    const { page, harness } = await openPage();
    // About 100 KB/s up: the 1 MB photo takes some ten seconds.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 100 * 1024,
    });
    await page.setInputFiles('#file-input', path.join(fixturesDirectory, 'large.jpg'));
    const card = item(page, 'large.jpg');
    await eventually(async () =>
      expect(await propertyOf<number>(card.locator('progress'), 'value')).toBeGreaterThanOrEqual(
        20,
      ),
    );
    expect(await propertyOf<number>(card.locator('progress'), 'value')).toBeLessThan(90);
    await card.getByRole('button', { name: 'Cancel large.jpg' }).click();
    await eventually(async () => expect(await textOf(card.locator('.status'))).toBe('Cancelled.'));
    // The server sees the connection go and removes what it had written.
    await eventually(async () => expect(await harness.leftovers()).toEqual([]));
    await harness.expectNothingStored();
  });

  it('opens the file picker from the keyboard: Enter or Space on the focused drop zone', async () => {
    const { page } = await openPage();
    // Each press must click the file input, which opens the picker; the dialog itself is
    // left out (headless Chromium's file chooser events arrive unreliably one after another).
    await page.evaluate(`(() => {
      window.pickerOpened = 0;
      document.getElementById('file-input').addEventListener('click', (event) => {
        window.pickerOpened += 1;
        event.preventDefault();
      });
    })()`);
    await page.locator('#drop-zone').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press(' ');
    await eventually(async () => expect(await page.evaluate('window.pickerOpened')).toBe(2));
    expect(await focusedId(page)).toBe('drop-zone');
  });

  it('says the size limit in megabytes for an image over MAX_IMAGE_BYTES; nothing stored', async () => {
    const { page, harness } = await openPage({ MAX_IMAGE_BYTES: String(512 * 1024) });
    await page.setInputFiles('#file-input', path.join(fixturesDirectory, 'large.jpg'));
    await eventually(async () =>
      expect(await textOf(item(page, 'large.jpg').locator('.status'))).toBe(
        'The image is larger than the limit of 0.5 MB.',
      ),
    );
    await harness.expectNothingStored();
  });

  it('asks for an API key when the service needs one, and uses it', async () => {
    const { page, harness } = await openPage({ API_KEYS: 'page-test-key-0123456789abcdef' });
    expect(await page.locator('#key-form').isVisible()).toBe(true);
    expect(await focusedId(page)).toBe('api-key');
    expect(await page.locator('#api-key').getAttribute('type')).toBe('password');
    await page.fill('#api-key', 'page-test-key-0123456789abcdef');
    await page.keyboard.press('Enter');
    expect(await focusedId(page)).toBe('drop-zone');
    await page.setInputFiles('#file-input', path.join(fixturesDirectory, 'photo.jpg'));
    await eventually(async () =>
      expect(await textOf(item(page, 'photo.jpg').locator('.status'))).toBe('Uploaded.'),
    );
    expect(await originalNames(harness)).toHaveLength(1);
  });
});

describe('with variants and placeholders', () => {
  it('shows each variant and the placeholder colour (UPDATE_SCREENSHOT=1: docs/upload-page.png)', async () => {
    const { page } = await openPage({
      IMAGE_VARIANTS: 'thumbnail:160x160:cover,small:480',
      IMAGE_VARIANTS_EAGER: 'true',
    });
    await page.setViewportSize({ width: 1000, height: 1100 });
    await page.setInputFiles('#file-input', [
      path.join(fixturesDirectory, 'large.jpg'),
      path.join(fixturesDirectory, 'script.svg'),
    ]);
    const card = item(page, 'large.jpg');
    await eventually(async () => expect(await textOf(card.locator('.status'))).toBe('Uploaded.'));
    const variants = card.locator('.variants img');
    expect(await variants.count()).toBe(2);
    for (const variant of await variants.all()) {
      await variant.evaluate((image: unknown) => (image as { decode(): Promise<void> }).decode());
      expect(await propertyOf<number>(variant, 'naturalWidth')).toBeGreaterThan(0);
    }
    expect(await textOf(card.locator('dl'))).toMatch(/Placeholder colour\s*#[0-9a-f]{6}/);
    await eventually(async () =>
      expect(await textOf(item(page, 'script.svg').locator('.status'))).toMatch(/^Not an allowed/),
    );
    if (process.env.UPDATE_SCREENSHOT === '1') {
      await page.screenshot({ path: 'docs/upload-page.png', fullPage: true });
    }
  });
});

describe('through tus', () => {
  it('a large file goes through tus, survives the network going away halfway, and finishes', async () => {
    // Noise does not compress: a PNG of some 9.7 MB, above the client's 8 MiB tus threshold.
    const directory = await mkdtemp(path.join(tmpdir(), 'page-large-'));
    defer(() => rm(directory, { recursive: true, force: true }));
    const file = path.join(directory, 'noise.png');
    await sharp({
      create: {
        width: 1800,
        height: 1800,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 64 },
      },
    })
      .png({ compressionLevel: 0 })
      .toFile(file);

    const { page, harness } = await openPage();
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(`${request.method()} ${request.url()}`));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const network = (offline: boolean) =>
      cdp.send('Network.emulateNetworkConditions', {
        offline,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: 3 * 1024 * 1024,
      });
    await network(false);
    await page.setInputFiles('#file-input', file);
    const card = item(page, 'noise.png');
    const progress = () => propertyOf<number>(card.locator('progress'), 'value');
    await eventually(async () => expect(await progress()).toBeGreaterThanOrEqual(25), 30_000);

    await network(true);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await textOf(card.locator('.status'))).not.toBe('Uploaded.');
    await network(false);

    await eventually(
      async () => expect(await textOf(card.locator('.status'))).toBe('Uploaded.'),
      60_000,
    );
    expect(await progress()).toBe(100);
    expect(failed.some((request) => / http:\/\/127\.0\.0\.1:\d+\/v1\/uploads/.test(request))).toBe(
      true,
    );
    expect(await originalNames(harness)).toHaveLength(1);
  }, 120_000);
});
