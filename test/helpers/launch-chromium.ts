import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';

// One place for how the page tests start Debian's Chromium: headless, no sandbox (containers),
// and none of the background traffic (updates, sync, QUIC) that would make a test depend on the network.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

type ContextOptions = NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>;

/** A fresh persistent Chromium profile in `profileDir`; `options` add to or override the defaults. */
export function launchChromium(profileDir: string, options: ContextOptions = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    acceptDownloads: true,
    ...options,
  });
}

/** Builds web/dist unless it exists: `npm run check` builds before testing, a lone test run does not. */
export async function ensureWebBuilt(): Promise<void> {
  try {
    await stat(path.join(ROOT, 'web/dist/index.html'));
  } catch {
    const { build } = await import('vite');
    await build({ configFile: path.join(ROOT, 'web/vite.config.ts'), logLevel: 'warn' });
  }
}
