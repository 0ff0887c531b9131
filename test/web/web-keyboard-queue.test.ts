import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { announcements, recordAnnouncements } from '../helpers/record-announcements.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

// The page with the keyboard alone, against an API-only service (no worker): jobs stay QUEUED,
// so their queue positions show and a Cancel button is there to reach.
let svc: TestService;
let dir: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

/** The focused element's own description, read in the page: "tag|accessible text|inside dialog?". */
const focused = () =>
  page.evaluate<{ tag: string; text: string; label: string; inDialog: boolean; inCard: boolean }>(`(() => {
    const el = document.activeElement;
    return {
      tag: el ? el.tagName.toLowerCase() : '',
      text: (el && el.textContent ? el.textContent : '').trim(),
      label: (el && el.getAttribute('aria-label')) || '',
      inDialog: Boolean(el && el.closest('dialog[open]')),
      inCard: Boolean(el && el.closest('article.job-card')),
    };
  })()`);

/** Presses Tab until the focused element matches, at most `limit` times; fails if it never does. */
async function tabTo(
  matches: (f: Awaited<ReturnType<typeof focused>>) => boolean,
  limit = 40,
): Promise<void> {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    if (matches(await focused())) return;
  }
  throw new Error(`Tab never reached the element; last focused: ${JSON.stringify(await focused())}`);
}

function queuedCard(name: string): Locator {
  return page.locator('.now article.job-card[data-status="QUEUED"]', { hasText: name });
}

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-keys-'));
  svc = await startTestService('web-keys', { SERVICE_ROLE: 'api' });
  context = await launchChromium(path.join(dir, 'profile'));
  await recordAnnouncements(context);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  await page.goto(svc.url);
  await page.getByRole('heading', { name: 'History' }).waitFor();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the web page with the keyboard alone', () => {
  it('picks files and uploads them with Tab, Enter and Space; each queued card shows its place in the queue', async () => {
    const source = (await makeTwoPagePdf(dir)).path;
    const first = path.join(dir, 'first.pdf');
    const second = path.join(dir, 'second.pdf');
    await copyFile(source, first);
    await copyFile(source, second);

    await tabTo((f) => f.tag === 'button' && f.text === 'Choose files');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles([first, second]);
    const upload = page.getByRole('button', { name: 'Upload 2' });
    await expect.poll(() => upload.isEnabled()).toBe(true);

    await tabTo((f) => f.tag === 'button' && f.text === 'Upload 2');
    await page.keyboard.press('Space');
    await queuedCard('first.pdf').waitFor();
    await queuedCard('second.pdf').waitFor();
    // Nothing takes jobs off the queue here, so the two stay first and second in line.
    await expect
      .poll(async () => (await page.locator('.now article.job-card .queue').allTextContents()).sort())
      .toEqual(['Next in the queue', 'Number 2 in the queue']);
    // Entering the queue is told to screen readers too, politely.
    expect(await page.getByTestId('announcer').getAttribute('aria-live')).toBe('polite');
    await expect
      .poll(() => announcements(page))
      .toEqual(expect.arrayContaining(['first.pdf: Queued', 'second.pdf: Queued']));
  }, 120_000);

  it("reaches a job's Cancel with Tab; the confirmation keeps focus inside and gives it back when closed", async () => {
    await page.locator('body').focus();
    await tabTo((f) => f.inCard && f.tag === 'button' && f.text === 'Cancel');
    const cardName = String(
      await page.evaluate(
        `document.activeElement.closest('article.job-card').querySelector('.job-name').textContent`,
      ),
    );
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Cancel this job?' });
    await dialog.waitFor();
    expect((await focused()).inDialog).toBe(true);
    // Forwards and backwards, focus never leaves the open dialog.
    for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
      await page.keyboard.press(key);
      const now = await focused();
      expect(now.inDialog, `after ${key}: ${JSON.stringify(now)}`).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    const back = await focused();
    expect(back).toMatchObject({ tag: 'button', text: 'Cancel', inCard: true });
    expect(await queuedCard(cardName).count()).toBe(1);

    // Space opens it again; Tab to "Cancel the job" and Enter confirms.
    await page.keyboard.press('Space');
    await dialog.waitFor();
    await tabTo((f) => f.inDialog && f.text === 'Cancel the job', 4);
    await page.keyboard.press('Enter');
    await page.locator('.now article.job-card[data-status="CANCELLED"]', { hasText: cardName }).waitFor();
    await expect.poll(() => announcements(page)).toContain(`${cardName}: Cancelled`);
  }, 60_000);

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
