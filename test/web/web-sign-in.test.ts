import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

// The page with an identity provider: Debian's Chromium signs in through a real loopback OIDC
// issuer (authorization code + PKCE), keeps working while its short-lived token is renewed, and
// sends the token on uploads, the event stream and downloads.
const TOKEN_LIFETIME_SEC = 6;

let issuer: OidcLoopbackIssuer;
let svc: TestService;
let dir: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-sign-in-'));
  issuer = await new OidcLoopbackIssuer().start();
  issuer.tokenLifetimeSec = TOKEN_LIFETIME_SEC;
  // The token lives seconds only: no clock tolerance, so an unrenewed token really is refused.
  svc = await startTestService(
    'web-sign-in',
    issuer.env({ AUTH_ALLOWED_DOMAINS: 'example.org', AUTH_CLOCK_TOLERANCE_SEC: '0' }),
  );
  context = await launchChromium(path.join(dir, 'profile'));
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  await page.goto(svc.url);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await svc?.close();
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the page with an identity provider', () => {
  it('asks to sign in, and signs in through the provider with PKCE', async () => {
    await page.getByTestId('sign-in').click();
    const user = page.getByTestId('signed-in-user');
    await user.waitFor({ timeout: 30_000 });
    expect(await user.textContent()).toContain('page-user@example.org');
    expect(issuer.grants.authorization_code).toBe(1);
    // The code is gone from the address bar, and no token sits in the browser's storage.
    expect(new URL(page.url()).search).toBe('');
    const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage, ...sessionStorage })');
    expect(stored).not.toMatch(/eyJ/);
    await page.locator('[data-testid="live-mode"][data-mode="live"]').waitFor({ timeout: 30_000 });
  }, 60_000);

  // Two renewals of a 6-second token, each half-way: the first token has expired by then.
  it('keeps working past the first token’s lifetime: uploads, live progress and downloads carry renewed tokens', async () => {
    await expect
      .poll(() => issuer.grants.refresh_token, { timeout: 30_000, interval: 250 })
      .toBeGreaterThanOrEqual(2);

    const pdf = (await makeTwoPagePdf(dir)).path;
    await page.locator('[data-testid="file-input"]').setInputFiles([pdf]);
    await page.getByRole('button', { name: 'Upload 1' }).click();
    const done = page.locator('.now article.job-card[data-status="COMPLETED"]').first();
    await done.waitFor({ timeout: 90_000 });
    // Still on the event stream: the fetch-based stream sent the token and kept it current.
    expect(await page.locator('[data-testid="live-mode"]').getAttribute('data-mode')).toBe('live');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      done.getByRole('link', { name: /as TXT$/ }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.txt$/);
    expect(await readFile(await download.path(), 'utf8')).toContain('--- page 1 ---');
    expect(await page.getByTestId('session-expired').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  }, 150_000);

  it('signs out: the token is forgotten and the sign-in comes back', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('sign-in').waitFor();
  });
});
