import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium, which `npm test` installs (scripts/ensure-system-packages.mjs). */
export const chromiumPath = '/usr/bin/chromium';

export interface Chromium {
  readonly browser: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Headless Chromium driven by playwright-core, with a fresh profile each time (no cached
 * preflight or state carries over) and nothing running in the background.
 */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: run node scripts/ensure-system-packages.mjs`);
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'chromium-profile-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A frontend on an origin of its own, for cross-origin (CORS) tests. */
export interface Frontend {
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves a blank page that loads one script, and that script at `/<scriptName>`. */
export async function serveFrontend(scriptName: string, script: Uint8Array): Promise<Frontend> {
  const server = createServer((request, response) => {
    if (request.url === `/${scriptName}`) {
      response.writeHead(200, { 'Content-Type': 'text/javascript' });
      response.end(script);
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end(`<!doctype html><title>frontend</title><script src="/${scriptName}"></script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
