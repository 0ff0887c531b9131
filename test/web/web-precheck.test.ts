import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

// The upload form asks `POST /v1/intake/precheck` about each file before sending it: hints for a
// file it would take, the catalog refusal (and no upload) for one it would refuse.
let svc: TestService;
let dir: string;
let context: BrowserContext;
let page: Page;
let goodPdf: string;
let bigPdf: string;
const consoleErrors: string[] = [];
const prechecks: string[] = [];

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-precheck-'));
  const pdf = await readFile((await makeTwoPagePdf(dir)).path);
  goodPdf = path.join(dir, 'good.pdf');
  await writeFile(goodPdf, pdf);
  // Starts like a PDF (so the page detects one) but is over UPLOAD_MAX_BYTES.
  bigPdf = path.join(dir, 'too-big.pdf');
  await writeFile(bigPdf, Buffer.concat([pdf, Buffer.alloc(8_000, 0x20)]));
  svc = await startTestService('web-precheck', { UPLOAD_MAX_BYTES: String(pdf.length + 1_000) });
  context = await launchChromium(path.join(dir, 'profile'));
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/v1/intake/precheck') prechecks.push(request.postData() ?? '');
  });
  await page.goto(svc.url);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('precheck and engine choice in the upload form', () => {
  it('shows hints for the good file, the refusal for the big one, and uploads only the good one', async () => {
    await page.getByLabel('OCR engine').first().selectOption('tesseract');
    await page.locator('[data-testid="file-input"]').setInputFiles([goodPdf, bigPdf]);
    const good = page.locator('[data-testid="upload-item"]', { hasText: 'good.pdf' });
    const big = page.locator('[data-testid="upload-item"]', { hasText: 'too-big.pdf' });
    await good.locator('[data-testid="precheck"][data-decision]').waitFor();
    await big.locator('[data-testid="precheck"][data-decision="block"]').waitFor();

    expect(prechecks).toHaveLength(2);
    expect(JSON.parse(prechecks.find((body) => body.includes('good.pdf')) ?? '{}')).toMatchObject({
      filename: 'good.pdf',
      mime: 'application/pdf',
      // Counted in the browser from the file's page tree; the engine chosen for the file.
      page_count: 2,
      engine: 'tesseract',
    });
    const goodHints = (await good.locator('[data-testid="precheck"]').textContent()) ?? '';
    expect(goodHints).toContain('Server sees: Document → text, application/pdf');
    // With the page count the server tells the time and the effort.
    expect(goodHints).toContain('Processing about');
    expect(goodHints).toContain('light work');
    expect(goodHints).toContain('waiting in the queue');
    expect(goodHints).toContain('Free: local engine (tesseract)');
    const bigNotice = big.locator('[data-testid="precheck"] .failure[role="alert"]');
    expect(await bigNotice.locator('.failure-message').textContent()).toBe(
      'The file is larger than this service accepts.',
    );
    expect(await big.locator('.upload-blocked').textContent()).toBe('This file will not be uploaded.');
    // The batch engine reached the file, and stays editable there.
    expect(await good.getByLabel('OCR engine').inputValue()).toBe('tesseract');

    await page.getByRole('button', { name: 'Upload 1' }).click();
    await good.locator('.upload-phase', { hasText: 'Uploaded' }).waitFor({ timeout: 30_000 });
    const list = (await (await fetch(`${svc.url}/v1/jobs?limit=50`)).json()) as { items: Job[] };
    expect(list.items.map((job) => job.input_filename)).toEqual(['good.pdf']);
    expect(list.items[0]?.ocr_options).toMatchObject({ engine: 'tesseract' });
    expect(await big.locator('.upload-phase').textContent()).toBe('Ready to upload');
  });

  it('shows the refusal in Hindi', async () => {
    await page.getByRole('button', { name: 'Show the page in Hindi' }).click();
    const big = page.locator('[data-testid="upload-item"]', { hasText: 'too-big.pdf' });
    expect(await big.locator('.failure-message').textContent()).toBe('फ़ाइल इस सेवा की अनुमत सीमा से बड़ी है।');
    expect(await big.locator('.upload-blocked').textContent()).toBe('यह फ़ाइल अपलोड नहीं होगी।');
    expect(consoleErrors).toEqual([]);
  });
});
