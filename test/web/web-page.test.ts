import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Locator, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeCorruptPdf, makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import {
  DEVANAGARI_FONT,
  ENGLISH_PAGES,
  HINDI_PAGES,
  LATIN_FONT,
  makeScanImage,
  makeScannedPdf,
  writePdf,
} from '../helpers/make-ocr-fixtures.js';
import { announcements, recordAnnouncements } from '../helpers/record-announcements.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// The page, end to end: Debian's Chromium driven by playwright-core against the whole service
// (API, real Redis, real worker, real engines) started in this process.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCREENSHOTS = path.join(ROOT, 'docs/screenshots');
const JOB_TIMEOUT = 90_000;
const PDF_NAME = 'ग्रंथ भाग १.pdf';

let svc: TestService;
let dir: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
/** Requests the page made, as "METHOD path?query". */
const requests: string[] = [];
/** Failed loads the test causes on purpose (a refused upload) and so expects in the console. */
const expectedFailedUrls = new Set<string>();

function watchPage(target: Page): void {
  target.on('console', (message) => {
    if (message.type() !== 'error') return;
    const url = message.location().url;
    const expected =
      message.text().startsWith('Failed to load resource') &&
      [...expectedFailedUrls].some((prefix) => url.startsWith(prefix));
    if (!expected) consoleErrors.push(`${message.text()} (${url})`);
  });
  target.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  target.on('request', (request) => {
    const url = new URL(request.url());
    requests.push(`${request.method()} ${url.pathname}${url.search}`);
  });
}

function card(name: string): Locator {
  return page.locator('.now article.job-card', { hasText: name });
}

async function waitForCardStatus(name: string, status: string, timeout = JOB_TIMEOUT): Promise<Locator> {
  const found = page.locator(`.now article.job-card[data-status="${status}"]`, { hasText: name }).first();
  await found.waitFor({ timeout });
  return found;
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  svc = await startTestService('web-page', { WORKER_OCR_CONCURRENCY: '2' });
  context = await launchChromium(path.join(dir, 'profile'), { timezoneId: 'Asia/Kolkata' });
  await recordAnnouncements(context);
  page = context.pages()[0] ?? (await context.newPage());
  watchPage(page);
  await page.goto(svc.url);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the web page', () => {
  it('is served at / with its assets, and unknown API addresses stay problem+json', async () => {
    expect(await page.title()).toBe('doc-transcribe');
    expect(await page.locator('[data-testid="local-user"]').textContent()).toContain('Local user');
    const deepLink = await fetch(`${svc.url}/some/page`, { headers: { accept: 'text/html' } });
    expect(deepLink.headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${svc.url}/some/page`)).status).toBe(404);
    const unknownApi = await fetch(`${svc.url}/v1/nothing-here`);
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.headers.get('content-type')).toContain('application/problem+json');
  });

  it('uploads a PDF and a recording together and follows both to COMPLETED, side by side', async () => {
    const pdf = path.join(dir, PDF_NAME);
    await copyFile((await makeTwoPagePdf(dir)).path, pdf);
    const wav = path.join(dir, 'talk.wav');
    await copyFile(await makeSpokenWav(dir, 'the quick brown fox jumps over the lazy dog'), wav);

    const prechecks: Array<Record<string, unknown>> = [];
    const onRequest = (request: Request) => {
      if (new URL(request.url()).pathname === '/v1/intake/precheck') {
        prechecks.push(JSON.parse(request.postData() ?? '{}') as Record<string, unknown>);
      }
    };
    page.on('request', onRequest);
    await page.locator('[data-testid="file-input"]').setInputFiles([pdf, wav]);
    const items = page.locator('[data-testid="upload-item"]');
    await expect.poll(() => items.count()).toBe(2);
    // Pages and length are measured in the browser and sent with the precheck, so each file has
    // a processing estimate before it is sent.
    for (const index of [0, 1]) {
      await items.nth(index).locator('[data-testid="precheck"][data-decision]').waitFor();
      expect(await items.nth(index).locator('[data-testid="precheck"]').textContent()).toContain(
        'Processing about',
      );
    }
    page.off('request', onRequest);
    expect(prechecks.find((body) => body.filename === 'ग्रंथ भाग १.pdf')).toMatchObject({ page_count: 2 });
    const wavPrecheck = prechecks.find((body) => body.filename === 'talk.wav');
    expect(wavPrecheck?.duration_sec).toBeGreaterThan(1);
    expect(wavPrecheck).not.toHaveProperty('engine');
    expect(await items.nth(0).locator('[data-testid="detected-kind"]').textContent()).toBe('Document → text');
    expect(await items.nth(1).locator('[data-testid="detected-kind"]').textContent()).toBe(
      'Recording → transcript',
    );
    // The batch choice, then one file's own choice.
    await page.getByLabel('Content').first().selectOption('pravachan');
    await items.nth(1).getByLabel('Language').selectOption('en');
    await screenshot('upload');

    await page.getByRole('button', { name: 'Upload 2' }).click();
    await waitForCardStatus('ग्रंथ भाग १.pdf', 'COMPLETED');
    await waitForCardStatus('talk.wav', 'COMPLETED');
    expect(await card('ग्रंथ भाग १.pdf').locator('progress').getAttribute('value')).toBe('100');
    // Each change of status was read out by the polite live region, in the order it happened (the
    // upload's answer may come after the stream told of PROCESSING: then that is the first line).
    const said = await announcements(page);
    for (const name of ['ग्रंथ भाग १.pdf', 'talk.wav']) {
      const lines = said
        .filter((line) => line.startsWith(`${name}: `))
        .map((line) => line.slice(name.length + 2));
      expect([
        ['Queued', 'Processing', 'Completed'],
        ['Processing', 'Completed'],
      ]).toContainEqual(lines);
    }

    const uploads = requests.filter((r) => r === 'POST /v1/jobs');
    expect(uploads).toHaveLength(2);
    const history = (await (await fetch(`${svc.url}/v1/jobs?limit=100`)).json()) as { items: Job[] };
    expect(history.items.map((job) => [job.input_filename, job.content_subtype])).toEqual(
      expect.arrayContaining([
        ['ग्रंथ भाग १.pdf', 'pravachan'],
        ['talk.wav', 'pravachan'],
      ]),
    );
    await screenshot('jobs-completed');
  }, 150_000);

  it('followed both jobs through one event stream, with no poller per job', async () => {
    expect(await page.getByTestId('live-mode').getAttribute('data-mode')).toBe('live');
    expect(requests.filter((r) => r === 'GET /v1/events')).toHaveLength(1);
    expect(requests.filter((r) => /^GET \/v1\/jobs\/[^/?]+$/.test(r))).toEqual([]);
  });

  it('downloads a result format and shows the text in the page', async () => {
    const pdfCard = card('ग्रंथ भाग १.pdf');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      pdfCard.getByRole('link', { name: 'Download ग्रंथ भाग १.pdf as TXT' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('ग्रंथ भाग १.txt');
    const text = await readFile(await download.path(), 'utf8');
    expect(text).toContain('--- page 1 ---');
    // The original comes back byte for byte as it was uploaded.
    const [original] = await Promise.all([
      page.waitForEvent('download'),
      pdfCard.getByRole('link', { name: 'Download the original file ग्रंथ भाग १.pdf' }).click(),
    ]);
    expect(original.suggestedFilename()).toBe(PDF_NAME);
    expect((await readFile(await original.path())).equals(await readFile(path.join(dir, PDF_NAME)))).toBe(
      true,
    );
    expect(
      await card('talk.wav')
        .getByRole('link', { name: /as SRT$/ })
        .count(),
    ).toBe(1);
    // Every produced format of both jobs downloads, under its own extension and not empty.
    const seen: string[] = [];
    for (const name of ['ग्रंथ भाग १.pdf', 'talk.wav']) {
      const links = card(name).getByRole('link', { name: /^Download .+ as [A-Z]+$/ });
      const count = await links.count();
      expect(count).toBeGreaterThanOrEqual(2);
      for (let i = 0; i < count; i++) {
        const link = links.nth(i);
        const format =
          ((await link.getAttribute('aria-label')) ?? '').split(' as ').pop()?.toLowerCase() ?? '';
        const [each] = await Promise.all([page.waitForEvent('download'), link.click()]);
        expect(each.suggestedFilename().endsWith(`.${format}`)).toBe(true);
        expect((await readFile(await each.path())).length).toBeGreaterThan(0);
        seen.push(`${name}:${format}`);
      }
    }
    expect(seen).toEqual(
      expect.arrayContaining(['ग्रंथ भाग १.pdf:txt', 'ग्रंथ भाग १.pdf:json', 'talk.wav:srt', 'talk.wav:vtt']),
    );

    await pdfCard.getByRole('button', { name: 'Read text' }).click();
    const viewer = page.getByRole('dialog', { name: 'Text of ग्रंथ भाग १.pdf' });
    await viewer.getByTestId('result-text').waitFor();
    expect(await viewer.getByTestId('result-text').textContent()).toContain('archive');
    // Page by page, from the JSON result.
    const pages = viewer.getByTestId('viewer-page');
    expect(await pages.count()).toBe(2);
    expect(await pages.nth(0).getByRole('heading').textContent()).toContain('Page 1');
    expect(await pages.nth(1).getByRole('heading').textContent()).toContain('Page 2');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: svc.url });
    await viewer.getByRole('button', { name: 'Copy text' }).click();
    await viewer.getByText('Copied to the clipboard.').waitFor();
    await screenshot('result-viewer');
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });

    // A transcript passage by passage, each with its time.
    await card('talk.wav').getByRole('button', { name: 'Read text' }).click();
    const transcript = page.getByRole('dialog', { name: 'Text of talk.wav' });
    const passages = transcript.getByTestId('viewer-segment');
    await passages.first().waitFor();
    expect(await passages.first().locator('.viewer-time').textContent()).toMatch(/^0:0\d–0:\d\d$/);
    expect(await passages.count()).toBeGreaterThan(0);
    await page.keyboard.press('Escape');
    await transcript.waitFor({ state: 'hidden' });
  });

  it('cancels a running job after confirming, then retries it as a new job', async () => {
    const long = path.join(dir, 'long book.pdf');
    // Scanned pages (no text layer): every page goes through tesseract, so the job runs a while.
    await copyFile((await makeScannedPdf(dir, 16)).path, long);
    await page.locator('[data-testid="file-input"]').setInputFiles([long]);
    await page.getByRole('button', { name: 'Upload 1' }).click();
    const running = await waitForCardStatus('long book.pdf', 'PROCESSING');
    // While it runs, the history's "In progress" filter shows it alone (the server filters).
    const rows = page.locator('.history-row');
    await page.getByLabel('Status').selectOption('in-progress');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('long book.pdf');
    expect(await page.getByTestId('history-count').textContent()).toBe('Showing 1 of 1');
    await page.getByLabel('Status').selectOption('any');
    await expect.poll(() => rows.count()).toBe(3);
    await running.getByRole('button', { name: 'Cancel' }).click();
    const confirm = page.getByRole('dialog', { name: 'Cancel this job?' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Cancel the job' }).click();
    const cancelled = await waitForCardStatus('long book.pdf', 'CANCELLED');
    expect(await cancelled.getByTestId('job-status').textContent()).toBe('Cancelled');

    await cancelled.getByRole('button', { name: 'Retry', exact: true }).click();
    await expect.poll(() => card('long book.pdf').count(), { timeout: 10_000 }).toBe(2);
    const done = await waitForCardStatus('long book.pdf', 'COMPLETED');
    // A scanned document also comes back as a searchable PDF.
    const [searchable] = await Promise.all([
      page.waitForEvent('download'),
      done.getByRole('link', { name: 'Download long book.pdf as PDF' }).click(),
    ]);
    expect(searchable.suggestedFilename()).toBe('long book.pdf');
    expect((await readFile(await searchable.path())).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const retried = (await (await fetch(`${svc.url}/v1/jobs?limit=100`)).json()) as { items: Job[] };
    expect(retried.items.filter((job) => job.retry_of_job_id !== null)).toHaveLength(1);
  }, 150_000);

  it('filters the history by type, status and name, and loads more with the cursor', async () => {
    // 20 damaged PDFs, failed fast by the worker, push the history past one page.
    const broken = await readFile(await makeCorruptPdf(dir));
    for (let i = 1; i <= 20; i += 1) {
      const response = await submitFile(svc.url, { name: `broken-${i}.pdf`, bytes: broken });
      expect(response.status).toBe(201);
    }
    await expect
      .poll(
        async () => {
          const list = (await (await fetch(`${svc.url}/v1/jobs?limit=100`)).json()) as { items: Job[] };
          return list.items.filter((job) => job.status === 'FAILED').length;
        },
        { timeout: 60_000 },
      )
      .toBe(20);
    await page.reload();
    const rows = page.locator('.history-row');
    await expect.poll(() => rows.count()).toBe(20);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => rows.count()).toBe(24);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    expect(await page.getByTestId('history-count').textContent()).toBe('Showing 24 of 24');

    await page.getByLabel('Status').selectOption('FAILED');
    await expect.poll(() => rows.count()).toBe(20);
    for (let i = 0; i < 20; i += 1) expect(await rows.nth(i).getAttribute('data-status')).toBe('FAILED');
    await page.getByLabel('Search by file name').fill('broken-1');
    // broken-1 and broken-10 … broken-19
    await expect.poll(() => rows.count()).toBe(11);
    await page.getByLabel('Search by file name').fill('');
    await page.getByLabel('Status').selectOption('any');
    await page.getByRole('tab', { name: /^Recordings/ }).click();
    // The server filters: the one recording, though the newest page holds none.
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('talk.wav');
    expect(await page.getByRole('tab', { name: /^Recordings/ }).textContent()).toBe('Recordings (1)');
    await page.getByRole('tab', { name: /^All/ }).click();
    await expect.poll(() => rows.count()).toBe(20);

    // Delete from the history, after confirming.
    const row = rows.filter({ hasText: 'broken-20.pdf' });
    await row.getByRole('button', { name: 'Delete' }).click();
    await page
      .getByRole('dialog', { name: 'Delete this job?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect.poll(() => rows.filter({ hasText: 'broken-20.pdf' }).count()).toBe(0);
    await screenshot('history');
  }, 120_000);

  it("names a document's low-confidence pages in its quality badge's tooltip", async () => {
    // Page 2 is Devanagari read as English: tesseract is unsure of it, and of it alone.
    const english = await makeScanImage(dir, 'badge-en', ENGLISH_PAGES[0] as string, LATIN_FONT);
    const hindi = await makeScanImage(dir, 'badge-hi', HINDI_PAGES[0] as string, DEVANAGARI_FONT);
    const mixed = path.join(dir, 'mixed scan.pdf');
    await writePdf(mixed, [{ image: english }, { image: hindi }], { size: [297.64, 419.53] });
    const response = await submitFile(
      svc.url,
      { name: 'mixed scan.pdf', bytes: await readFile(mixed) },
      { language: 'eng' },
    );
    const job = await waitForJob(svc.url, ((await response.json()) as Job).job_id);
    expect(job.quality?.low_confidence_pages).toEqual([2]);
    const badge = page.locator('.history-row', { hasText: 'mixed scan.pdf' }).getByTestId('quality-badge');
    await expect.poll(() => badge.getAttribute('title')).toContain('Low confidence on pages 2.');
  }, 120_000);

  it('switches to Hindi, with catalog messages and a next step in Hindi when the server refuses a file', async () => {
    await page.getByRole('button', { name: 'Show the page in Hindi' }).click();
    await page.getByRole('heading', { name: 'इतिहास' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('hi');
    const font = String(await page.evaluate('getComputedStyle(document.body).fontFamily'));
    expect(font.startsWith('"Noto Sans Devanagari"')).toBe(true);

    // Named like a PDF, but it is not one: the page guesses by the name, the server refuses by content.
    const fake = path.join(dir, 'नकली.pdf');
    await writeFile(fake, 'this is plain text, not a PDF');
    expectedFailedUrls.add(`${svc.url}/v1/jobs`);
    await page.locator('[data-testid="file-input"]').setInputFiles([fake]);
    await page.getByRole('button', { name: '1 अपलोड करें' }).click();
    const item = page.locator('[data-testid="upload-item"]', { hasText: 'नकली.pdf' });
    await item.getByText('यह फ़ाइल प्रकार समर्थित नहीं है।', { exact: false }).waitFor();
    expect(await item.textContent()).toContain('इसके बजाय PDF, चित्र या रिकॉर्डिंग चुनें।');
    expect(requests.filter((r) => r === 'POST /v1/jobs')).toHaveLength(4);
    await screenshot('hindi');
    await page.getByRole('button', { name: 'पृष्ठ अंग्रेज़ी में दिखाएँ' }).click();
    await page.getByRole('heading', { name: 'History' }).waitFor();
  });

  it('fits a phone-sized screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.reload();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'phone.png') });
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
