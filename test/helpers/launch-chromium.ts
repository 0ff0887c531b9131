import { type BrowserContext, type BrowserContextOptions, chromium } from 'playwright-core';

/** Debian's Chromium, the browser every page test drives. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Switches that keep headless Chromium quiet, offline apart from the page, and usable as root. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium with a fresh profile in `profileDir`; `options` (viewport, locale,
 * timezone, downloads…) are passed on. Desktop 1280×900 unless a viewport is given.
 */
export function launchChromium(
  profileDir: string,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
}
