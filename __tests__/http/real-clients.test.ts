import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type Chromium } from '../support/browser.js';
import { drivers, fixture, fixturesDirectory, sha256, type Driver } from '../support/requests.js';
import { storedFormOf } from '../support/image-facts.js';
import { expectErrorResponse } from './expect-error.js';
import { close, listen, startHarness, type Harness } from './harness.js';

/**
 * The multipart door as real clients knock on it, over a real loopback socket: curl -F, Node's
 * fetch with a FormData, a browser's FormData in headless Chromium (built by script, and from a
 * real <input type="file">, sent by fetch or by the form itself) and Python requests. Each
 * writes the form its own way (boundary, part headers, filename escaping, Expect:
 * 100-continue), which hand-built bodies cannot vouch for.
 */

const run = promisify(execFile);
const pythonClient = path.resolve('__tests__/http/clients/requests-upload.py');

interface Upload {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  /** Statuses of interim (1xx) responses, where the client shows them (curl). */
  readonly interim?: readonly number[];
  /** The File as a browser page saw it before sending it (browser clients only). */
  readonly sent?: BrowserAnswer['sent'];
}

interface FileToSend {
  readonly fixture: string;
  /** The part's declared Content-Type: the client's claim, which the service ignores. */
  readonly type: string;
  readonly field?: string;
  readonly filename?: string;
  /**
   * Browser <input> clients only: pick the fixture's own path, so the browser names and
   * labels the part itself (from the extension) and `type` and `filename` go unused.
   */
  readonly fromDisk?: boolean;
}

/** One way of sending a one-file form to `url`; all but the plain <form> add a text field. */
type Client = (url: string, file: FileToSend) => Promise<Upload>;

const fixturePath = (name: string): string => path.join(fixturesDirectory, name);
const filenameOf = (file: FileToSend): string => file.filename ?? file.fixture;

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** curl -F, with any extra arguments (headers) before the URL. */
function curlWith(...extra: string[]): Client {
  return async (url, file) => {
    // curl's -F syntax: a quoted filename with \ before " and \ keeps both as they are.
    const filename = filenameOf(file).replace(/["\\]/g, '\\$&');
    const { stdout } = await run(
      'curl',
      [
        '--silent',
        '--show-error',
        // -D - puts each response head (an interim 100 Continue too) before the body.
        '--dump-header',
        '-',
        '--form',
        'note=sent by curl',
        '--form',
        `${file.field ?? 'file'}=@${fixturePath(file.fixture)};type=${file.type};filename="${filename}"`,
        ...extra,
        url,
      ],
      { maxBuffer: 1 << 20 },
    );
    // Each response head ends with a blank line; the body follows the last.
    const heads = stdout.split('\r\n\r\n');
    const body = heads.pop() ?? '';
    const statuses = heads.map((head) => Number(head.split(' ')[1]));
    const [, ...headerLines] = (heads.at(-1) ?? '').split('\r\n');
    const headers = Object.fromEntries(
      headerLines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
      }),
    );
    return {
      status: statuses.at(-1) ?? 0,
      interim: statuses.slice(0, -1),
      headers,
      body: parsed(body),
    };
  };
}

const curl = curlWith();

const nodeFetch: Client = async (url, file) => {
  const form = new FormData();
  form.append('note', 'sent by node fetch');
  const bytes = await readFile(fixturePath(file.fixture));
  form.append(file.field ?? 'file', new Blob([bytes], { type: file.type }), filenameOf(file));
  const response = await fetch(url, { method: 'POST', body: form });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: parsed(await response.text()),
  };
};

const pythonRequests: Client = async (url, file) => {
  const { stdout } = await run('python3', [
    pythonClient,
    url,
    fixturePath(file.fixture),
    file.field ?? 'file',
    filenameOf(file),
    file.type,
  ]);
  const answer = JSON.parse(stdout) as { status: number; contentType: string; body: unknown };
  return {
    status: answer.status,
    headers: { 'content-type': answer.contentType },
    body: answer.body,
  };
};

/** The frontend's origin: a blank page with a form holding one file input, for scripts to run on. */
const frontendPage =
  '<!doctype html><title>frontend</title><form><input type="file" name="file"></form>';

let browser: BrowserContext;
let chromiumSession: Chromium | undefined;
let frontend: Server;
let frontendOrigin: string;

interface BrowserAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: unknown;
  /** The File as the page saw it before sending it. */
  readonly sent: { readonly name: string; readonly type: string; readonly size: number };
}

const toUpload = ({ status, contentType, body, sent }: BrowserAnswer): Upload => ({
  status,
  headers: { 'content-type': contentType },
  body,
  sent,
});

/** A File built by the page's script from the fixture's bytes, sent with fetch and FormData. */
const chromiumFormData: Client = async (url, file) => {
  const page = await browser.newPage();
  try {
    await page.goto(`${frontendOrigin}/`);
    const answer = await page.evaluate(
      async ({ url, base64, field, filename, type }) => {
        const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
        const sent = new File([bytes], filename, { type });
        const form = new FormData();
        form.append('note', 'sent by chromium');
        form.append(field, sent);
        const response = await fetch(url, { method: 'POST', body: form });
        return {
          status: response.status,
          contentType: response.headers.get('content-type') ?? '',
          body: await response.json(),
          sent: { name: sent.name, type: sent.type, size: sent.size },
        };
      },
      {
        url,
        base64: (await readFile(fixturePath(file.fixture))).toString('base64'),
        field: file.field ?? 'file',
        filename: filenameOf(file),
        type: file.type,
      },
    );
    return toUpload(answer);
  } finally {
    await page.close();
  }
};

/** Fills the frontend's <input type="file"> as a user picking the file would. */
async function pickFile(page: Page, file: FileToSend): Promise<void> {
  const input = page.locator('input[type=file]');
  if (file.fromDisk === true) {
    await input.setInputFiles(fixturePath(file.fixture));
    return;
  }
  await input.setInputFiles({
    name: filenameOf(file),
    mimeType: file.type,
    buffer: await readFile(fixturePath(file.fixture)),
  });
}

/** A real <input type="file">, its form sent by script as `new FormData(form)`. */
const chromiumFileInput: Client = async (url, file) => {
  const page = await browser.newPage();
  try {
    await page.goto(`${frontendOrigin}/`);
    await pickFile(page, file);
    const answer = (await page.locator('form').evaluate(async (form, url) => {
      // The DOM's FormData(form), which Node's types (no DOM lib here) do not declare.
      const FormFromElement = FormData as unknown as new (form: unknown) => FormData;
      const data = new FormFromElement(form);
      data.append('note', 'sent by chromium');
      const sent = data.get('file') as File;
      const response = await fetch(url, { method: 'POST', body: data });
      return {
        status: response.status,
        contentType: response.headers.get('content-type') ?? '',
        body: await response.json(),
        sent: { name: sent.name, type: sent.type, size: sent.size },
      };
    }, url)) as BrowserAnswer;
    return toUpload(answer);
  } finally {
    await page.close();
  }
};

/**
 * The same <input type="file"> in a form the browser submits itself, with no script: a
 * navigation, so no CORS either. Playwright reads the answer the page navigates to.
 */
const chromiumFormSubmit: Client = async (url, file) => {
  const page = await browser.newPage();
  try {
    await page.goto(`${frontendOrigin}/`);
    await pickFile(page, file);
    const [response] = await Promise.all([
      page.waitForResponse((response) => response.url() === url),
      page.locator('form').evaluate((form, url) => {
        Object.assign(form, { action: url, method: 'post', enctype: 'multipart/form-data' });
        (form as unknown as { submit(): void }).submit();
      }, url),
    ]);
    return {
      status: response.status(),
      headers: response.headers(),
      body: parsed(await response.text()),
    };
  } finally {
    await page.close();
  }
};

const clients: ReadonlyArray<readonly [string, Client]> = [
  ['curl -F', curl],
  ['Node fetch with FormData', nodeFetch],
  ['Chromium FormData from script', chromiumFormData],
  ['Chromium <input type="file">', chromiumFileInput],
  ['Chromium <form> submitted without script', chromiumFormSubmit],
  ['Python requests', pythonRequests],
];

beforeAll(async () => {
  frontend = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end(frontendPage);
  });
  await new Promise<void>((resolve) => frontend.listen(0, '127.0.0.1', resolve));
  const address = frontend.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  frontendOrigin = `http://127.0.0.1:${address.port}`;
  chromiumSession = await launchChromium();
  browser = chromiumSession.browser;
}, 60_000);

afterAll(async () => {
  await chromiumSession?.close();
  if (frontend !== undefined) await close(frontend);
});

interface Service {
  readonly harness: Harness;
  readonly url: string;
}

const running: Array<{ harness: Harness; server: Server }> = [];
afterEach(async () => {
  for (const { harness, server } of running.splice(0)) {
    await close(server);
    await harness.dispose();
  }
});

/** The app on a fresh store and a real port, letting the frontend's origin read its answers. */
async function serve(driver: Driver): Promise<Service> {
  const harness = await startHarness(driver, { CORS_ORIGINS: frontendOrigin });
  const { server, port } = await listen(harness.callback);
  running.push({ harness, server });
  return { harness, url: `http://127.0.0.1:${port}/v1/images` };
}

async function expectStoredJpeg(
  service: Service,
  upload: Upload,
  name: string,
  size: { width: number; height: number },
): Promise<void> {
  // Stored without its location and camera metadata (IMAGE_METADATA=strip, the default).
  const bytes = await storedFormOf(fixture(name));
  expect(upload.status).toBe(201);
  expect(upload.headers['content-type']).toMatch(/^application\/json/);
  expect(upload.body).toMatchObject({
    contentType: 'image/jpeg',
    extension: 'jpg',
    bytes: bytes.length,
    sha256: sha256(bytes),
    ...size,
  });
  const stored = (upload.body as { name: string }).name;
  expect(await service.harness.storedNames()).toEqual([stored]);
  expect((await service.harness.storedBytes(stored)).equals(bytes)).toBe(true);
}

describe.each(drivers)('real clients on the %s driver', (driver) => {
  describe.each(clients)('%s', (_name, client) => {
    it('uploads photo.jpg, labelled image/png, as the JPEG it is, displayed 48 x 64', async () => {
      const service = await serve(driver);
      const upload = await client(service.url, { fixture: 'photo.jpg', type: 'image/png' });
      await expectStoredJpeg(service, upload, 'photo.jpg', { width: 48, height: 64 });
    });

    it('uploads large.jpg (~1 MiB, 1600 x 1200) whole', async () => {
      const service = await serve(driver);
      const upload = await client(service.url, { fixture: 'large.jpg', type: 'image/jpeg' });
      await expectStoredJpeg(service, upload, 'large.jpg', { width: 1600, height: 1200 });
    });

    it('takes a UTF-8 filename with quotes and a backslash, however the client escapes it', async () => {
      const service = await serve(driver);
      const upload = await client(service.url, {
        fixture: 'photo.jpg',
        type: 'image/jpeg',
        filename: 'été "1"\\x.jpg',
      });
      await expectStoredJpeg(service, upload, 'photo.jpg', { width: 48, height: 64 });
    });

    it('refuses script.svg labelled image/png with 415 and stores nothing', async () => {
      const service = await serve(driver);
      const upload = await client(service.url, {
        fixture: 'script.svg',
        type: 'image/png',
        filename: 'script.png',
      });
      expectErrorResponse(upload, 'unsupported_image_type');
      await service.harness.expectNothingStored();
    });
  });

  it("takes curl's Expect: 100-continue, answering 100 before the 201", async () => {
    // curl sends it by itself for bodies of 1 MiB and more; large.jpg is just under.
    const service = await serve(driver);
    const upload = await curlWith('--header', 'Expect: 100-continue')(service.url, {
      fixture: 'large.jpg',
      type: 'image/jpeg',
    });
    expect(upload.interim).toEqual([100]);
    await expectStoredJpeg(service, upload, 'large.jpg', { width: 1600, height: 1200 });
  });

  it('takes the file under the field name "image" from curl -F image=@...', async () => {
    const service = await serve(driver);
    const upload = await curl(service.url, {
      fixture: 'photo.jpg',
      type: 'image/jpeg',
      field: 'image',
    });
    await expectStoredJpeg(service, upload, 'photo.jpg', { width: 48, height: 64 });
  });

  describe.each([
    ['Chromium <input type="file">', chromiumFileInput],
    ['Chromium <form> submitted without script', chromiumFormSubmit],
  ] as const)('%s, the file picked from disk', (_name, client) => {
    it('refuses script.svg, which the browser labels image/svg+xml, and stores nothing', async () => {
      const service = await serve(driver);
      const upload = await client(service.url, {
        fixture: 'script.svg',
        type: 'unused',
        fromDisk: true,
      });
      expectErrorResponse(upload, 'unsupported_image_type');
      await service.harness.expectNothingStored();
    });

    it.each([
      ['photo.jpg', { width: 48, height: 64 }],
      ['large.jpg', { width: 1600, height: 1200 }],
    ] as const)('stores %s', async (name, size) => {
      const service = await serve(driver);
      const upload = await client(service.url, { fixture: name, type: 'unused', fromDisk: true });
      await expectStoredJpeg(service, upload, name, size);
    });
  });

  it('is sent by Chromium from <input type="file"> under the file name and a type from its extension', async () => {
    const service = await serve(driver);
    const upload = await chromiumFileInput(service.url, {
      fixture: 'photo.jpg',
      type: 'unused',
      fromDisk: true,
    });
    expect(upload.status).toBe(201);
    expect(upload.sent).toEqual({
      name: 'photo.jpg',
      type: 'image/jpeg',
      size: fixture('photo.jpg').length,
    });
  });
});
