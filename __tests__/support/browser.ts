import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
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
