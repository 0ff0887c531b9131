import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

// The page's browser integrations, against the whole service: files dropped onto the drop zone,
// the notification permission asked once, and a notification when a job finishes in a hidden tab.
const JOB_TIMEOUT = 90_000;

/**
 * Runs before the page's own scripts: records `new Notification(...)` and
 * `Notification.requestPermission()` calls, lets the test pretend the permission is still
 * undecided (`__permissionOverride`), and emulates a hidden tab (`__setHidden`).
 */
const INIT_SCRIPT = `(() => {
  const Real = window.Notification;
  window.__notifications = [];
  window.__permissionRequests = 0;
  window.__permissionOverride = undefined;
  class Recorded extends Real {
    constructor(title, options) {
      window.__notifications.push({ title, body: options && options.body, tag: options && options.tag });
      super(title, options);
    }
    static get permission() {
      return window.__permissionOverride || Real.permission;
    }
    static requestPermission(callback) {
      window.__permissionRequests += 1;
      return Real.requestPermission(callback);
    }
  }
  window.Notification = Recorded;
  let hidden = false;
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
})();`;

interface Recorded {
  title: string;
  body?: string;
  tag?: string;
}

let svc: TestService;
let dir: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
const uploads: string[] = [];

async function waitForCompleted(name: string): Promise<void> {
  await page
    .locator('.now article.job-card[data-status="COMPLETED"]', { hasText: name })
    .first()
    .waitFor({ timeout: JOB_TIMEOUT });
}

async function copyOfPdf(name: string): Promise<string> {
  const target = path.join(dir, name);
  await copyFile((await makeTwoPagePdf(dir)).path, target);
  return target;
}

// The root typecheck has no DOM types: what runs in the page is written as expressions.
async function inPage<T>(expression: string): Promise<T> {
  return (await page.evaluate(expression)) as T;
}
const permissionRequests = () => inPage<number>('window.__permissionRequests');
const notifications = () => inPage<Recorded[]>('window.__notifications');
const pretendUndecided = () => inPage<void>("window.__permissionOverride = 'default'");

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-notify-'));
  svc = await startTestService('web-notify');
  context = await launchChromium(path.join(dir, 'profile'), {});
  await context.grantPermissions(['notifications'], { origin: svc.url });
  await context.addInitScript({ content: INIT_SCRIPT });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/v1/jobs')
      uploads.push(request.url());
  });
  await page.goto(svc.url);
  await page.getByTestId('drop-zone').waitFor();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the page: drop, notification permission, notifications', () => {
  it('lists and uploads two files dropped onto the drop zone, asking for notifications on Upload', async () => {
    // As if the person had not decided yet: the page must ask, from the press of Upload.
    await pretendUndecided();
    const files = await Promise.all(
      ['dropped one.pdf', 'dropped two.pdf'].map(async (name) => ({
        name,
        base64: (await readFile(await copyOfPdf(name))).toString('base64'),
      })),
    );
    const transfer = await page.evaluateHandle(`(() => {
      const data = new DataTransfer();
      for (const { name, base64 } of ${JSON.stringify(files)}) {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        data.items.add(new File([bytes], name, { type: 'application/pdf' }));
      }
      return data;
    })()`);
    const zone = page.getByTestId('drop-zone');
    await zone.dispatchEvent('dragenter', { dataTransfer: transfer });
    await zone.dispatchEvent('dragover', { dataTransfer: transfer });
    expect(await zone.getAttribute('class')).toContain('dragging');
    await zone.dispatchEvent('drop', { dataTransfer: transfer });
    expect(await zone.getAttribute('class')).not.toContain('dragging');

    const items = page.getByTestId('upload-item');
    await expect.poll(() => items.count()).toBe(2);
    expect(await items.nth(0).textContent()).toContain('dropped one.pdf');
    expect(await items.nth(1).textContent()).toContain('dropped two.pdf');
    expect(await items.nth(0).getByTestId('detected-kind').textContent()).toBe('Document → text');
    expect(await permissionRequests()).toBe(0);

    await page.getByRole('button', { name: 'Upload 2' }).click();
    await waitForCompleted('dropped one.pdf');
    await waitForCompleted('dropped two.pdf');
    expect(uploads).toHaveLength(2);
    expect(await permissionRequests()).toBe(1);
    // A visible page shows the change itself: no notification.
    expect(await notifications()).toEqual([]);
  }, 150_000);

  it('asks for the permission once only, even after a reload', async () => {
    await page.getByTestId('file-input').setInputFiles([await copyOfPdf('second batch.pdf')]);
    await page.getByRole('button', { name: 'Upload 1' }).click();
    await waitForCompleted('second batch.pdf');
    expect(await permissionRequests()).toBe(1);

    await page.reload();
    await pretendUndecided();
    await page.getByTestId('file-input').setInputFiles([await copyOfPdf('after reload.pdf')]);
    await page.getByRole('button', { name: 'Upload 1' }).click();
    await waitForCompleted('after reload.pdf');
    expect(await permissionRequests()).toBe(0);
    expect(await inPage("localStorage.getItem('dt.notifications.asked')")).toBe('1');
  }, 150_000);

  it('shows a notification when a job finishes while the tab is hidden', async () => {
    await inPage('window.__permissionOverride = undefined; window.__setHidden(true)');
    expect(await inPage('Notification.permission')).toBe('granted');
    await page.getByTestId('file-input').setInputFiles([await copyOfPdf('while away.pdf')]);
    await page.getByRole('button', { name: 'Upload 1' }).click();
    await expect.poll(async () => (await notifications()).length, { timeout: JOB_TIMEOUT }).toBe(1);
    await waitForCompleted('while away.pdf');
    const shown = await notifications();
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({
      title: 'while away.pdf is ready',
      body: 'Open doc-transcribe to see the result.',
    });
    expect(shown[0]?.tag).toMatch(/\S/);

    await inPage('window.__setHidden(false)');
    expect(consoleErrors).toEqual([]);
  }, 150_000);
});
