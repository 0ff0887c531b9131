import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeCorruptPdf, makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

// Drag-and-drop of several files and the browser notification of a job that finishes while the
// tab is hidden, against the whole service. The page's visibility is emulated by an init script
// (headless Chromium is always "visible"), and `new Notification` calls are recorded there.
const JOB_TIMEOUT = 90_000;

let svc: TestService;
let dir: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

const INIT_SCRIPT = `(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event('visibilitychange')); };
  window.__notifications = [];
  window.__permissionRequests = 0;
  const Real = window.Notification;
  if (!Real) return;
  class Recorded extends Real {
    constructor(title, options) {
      window.__notifications.push({ title, body: options && options.body, tag: options && options.tag });
      super(title, options);
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = (...args) => { window.__permissionRequests += 1; return Real.requestPermission(...args); };
  window.Notification = Recorded;
})();`;

interface Recorded {
  title: string;
  body?: string;
  tag?: string;
}

/** Drops files on the drop zone with a real DataTransfer of File objects built in the page. */
async function dropFiles(files: { name: string; bytes: Buffer; type: string }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.type, base64: f.bytes.toString('base64') }));
  // A string expression: the server tsconfig has no DOM types.
  const transfer = await page.evaluateHandle(`(() => {
    const data = new DataTransfer();
    for (const f of ${JSON.stringify(payload)}) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      data.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return data;
  })()`);
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragenter', { dataTransfer: transfer });
  await zone.dispatchEvent('dragover', { dataTransfer: transfer });
  await zone.dispatchEvent('drop', { dataTransfer: transfer });
}

async function waitForCard(name: string, status: string): Promise<string> {
  const found = page.locator(`.now article.job-card[data-status="${status}"]`, { hasText: name }).first();
  await found.waitFor({ timeout: JOB_TIMEOUT });
  return (await found.getAttribute('data-job-id')) ?? '';
}

const notifications = () => page.evaluate<Recorded[]>('window.__notifications');
const permissionRequests = () => page.evaluate<number>('window.__permissionRequests');
const setHidden = (hidden: boolean) => page.evaluate(`window.__setHidden(${hidden})`);

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-drop-'));
  svc = await startTestService('web-drop');
  context = await launchChromium(path.join(dir, 'profile'));
  await context.addInitScript(INIT_SCRIPT);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  await page.goto(svc.url);
  await page.getByTestId('drop-zone').waitFor();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the web page, dropping files and notifying', () => {
  it('asks for the notification permission once, on the first upload, and not while visible', async () => {
    const corrupt = await readFile(await makeCorruptPdf(dir));
    await dropFiles([{ name: 'first broken.pdf', bytes: corrupt, type: 'application/pdf' }]);
    await page.getByRole('button', { name: 'Upload 1' }).click();
    await waitForCard('first broken.pdf', 'FAILED');
    expect(await permissionRequests()).toBe(1);
    expect(await notifications()).toEqual([]);
  }, 120_000);

  it('uploads several dropped files and notifies of each finished job while the tab is hidden', async () => {
    await context.grantPermissions(['notifications'], { origin: svc.url });
    const pdf = await readFile((await makeTwoPagePdf(dir)).path);
    const corrupt = await readFile(await makeCorruptPdf(dir));
    await dropFiles([
      { name: 'dropped book.pdf', bytes: pdf, type: 'application/pdf' },
      { name: 'dropped broken.pdf', bytes: corrupt, type: 'application/pdf' },
    ]);
    const panel = page.locator('section.upload');
    await panel.getByText('dropped book.pdf', { exact: true }).waitFor();
    await panel.getByText('dropped broken.pdf', { exact: true }).waitFor();
    await setHidden(true);
    await page.getByRole('button', { name: 'Upload 2' }).click();
    const completed = await waitForCard('dropped book.pdf', 'COMPLETED');
    const failed = await waitForCard('dropped broken.pdf', 'FAILED');
    await expect.poll(async () => (await notifications()).length, { timeout: 10_000 }).toBe(2);
    const shown = await notifications();
    expect(shown).toEqual(
      expect.arrayContaining([
        {
          title: 'dropped book.pdf is ready',
          body: 'Open doc-transcribe to see the result.',
          tag: completed,
        },
        { title: 'dropped broken.pdf failed', body: 'Open doc-transcribe to see the result.', tag: failed },
      ]),
    );
    // Asked once only: the permission prompt is not repeated on later uploads.
    expect(await permissionRequests()).toBe(1);
    await setHidden(false);
  }, 150_000);

  it('retries a failed job with changed options chosen in the retry dialog', async () => {
    const failedCard = page
      .locator('.now article.job-card[data-status="FAILED"]', { hasText: 'first broken.pdf' })
      .first();
    const failedId = (await failedCard.getAttribute('data-job-id')) ?? '';
    await failedCard.getByRole('button', { name: 'Retry with other options…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Retry first broken.pdf' });
    await dialog.waitFor();
    await dialog.getByLabel('Content', { exact: true }).selectOption('pravachan');
    await dialog.getByLabel('Document language').selectOption('hin');
    // The same engine choices as an upload (those the server offers); the original ran on the default.
    const engine = dialog.getByLabel('OCR engine');
    expect(await engine.inputValue()).toBe('default');
    expect(
      await engine.locator('option').evaluateAll((options) => options.map((o) => o.getAttribute('value'))),
    ).toEqual(['default', 'tesseract']);
    await engine.selectOption('tesseract');
    await dialog.getByRole('button', { name: 'Retry with these options' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect
      .poll(() => page.locator('.now article.job-card', { hasText: 'first broken.pdf' }).count())
      .toBe(2);
    const listed = (await (await fetch(`${svc.url}/v1/jobs?limit=100`)).json()) as { items: Job[] };
    const retried = listed.items.find((job) => job.retry_of_job_id === failedId);
    expect(retried).toMatchObject({
      language: 'hin',
      content_subtype: 'pravachan',
      input_filename: 'first broken.pdf',
      ocr_options: { engine: 'tesseract' },
    });
    const original = listed.items.find((job) => job.job_id === failedId);
    expect(original).toMatchObject({ language: 'hin+eng', content_subtype: 'general' });
    expect(original?.ocr_options?.engine).toBeUndefined();
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
