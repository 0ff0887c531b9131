import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeCorruptPdf } from '../helpers/make-document-fixtures.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import {
  type OpenAiLoopbackServer,
  startOpenAiLoopbackServer,
  verboseJson,
} from '../helpers/openai-loopback-server.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// The upload form offers a recording the speech engines the server lists in GET /v1/config
// (here pocketsphinx, the default, and openai on a loopback server), for the batch and per file;
// and a document only the OCR engines it lists (tesseract: no Gemini key here).
let svc: TestService;
let server: OpenAiLoopbackServer;
let dir: string;
let context: BrowserContext;
let page: Page;
let first: string;
let second: string;
const consoleErrors: string[] = [];
const prechecks: string[] = [];

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-speech-engine-'));
  const wav = await readFile(await makeSpokenWav(dir, 'the river carries the old songs'));
  first = path.join(dir, 'first.wav');
  second = path.join(dir, 'second.wav');
  await writeFile(first, wav);
  await writeFile(second, wav);
  server = await startOpenAiLoopbackServer();
  svc = await startTestService('web-speech-engine', {
    OPENAI_API_KEY: 'test-key',
    OPENAI_BASE_URL: server.baseUrl,
  });
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
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('speech engine choice for recordings in the upload form', () => {
  it('offers the listed engines, follows the batch unless the file chose its own, and sends transcription_engine', async () => {
    const batchSelect = page.getByLabel('Speech engine').first();
    await batchSelect.locator('option[value="openai"]').waitFor({ state: 'attached' });
    expect(
      await batchSelect
        .locator('option')
        .evaluateAll((options) => options.map((o) => o.getAttribute('value'))),
    ).toEqual(['default', 'pocketsphinx', 'openai']);
    await batchSelect.selectOption('openai');
    await page.locator('[data-testid="file-input"]').setInputFiles([first, second]);
    const one = page.locator('[data-testid="upload-item"]', { hasText: 'first.wav' });
    const two = page.locator('[data-testid="upload-item"]', { hasText: 'second.wav' });
    expect(await one.getByLabel('Speech engine').inputValue()).toBe('openai');
    await two.getByLabel('Speech engine').selectOption('default');
    await one.locator('[data-testid="precheck"][data-decision]').waitFor();
    await two.locator('[data-testid="precheck"][data-decision]').waitFor();
    // The precheck is asked with the file's engine: openai is paid, the default is not named.
    const asked = (name: string) =>
      prechecks
        .map((body) => JSON.parse(body) as { filename: string; engine?: string })
        .filter((b) => b.filename === name)
        .at(-1);
    expect(asked('first.wav')?.engine).toBe('openai');
    expect(asked('second.wav')).not.toHaveProperty('engine');
    expect((await one.locator('[data-testid="precheck"]').textContent()) ?? '').toContain('openai');

    server.answer({ status: 200, body: verboseJson([{ start: 0.1, end: 2, text: 'heard by openai' }]) });
    await page.getByRole('button', { name: 'Upload 2' }).click();
    await one.locator('.upload-phase', { hasText: 'Uploaded' }).waitFor({ timeout: 30_000 });
    await two.locator('.upload-phase', { hasText: 'Uploaded' }).waitFor({ timeout: 30_000 });
    const list = (await (await fetch(`${svc.url}/v1/jobs?limit=50`)).json()) as { items: Job[] };
    const byName = new Map(list.items.map((job) => [job.input_filename, job]));
    expect(byName.get('first.wav')?.transcription_options).toMatchObject({ engine: 'openai' });
    expect(byName.get('second.wav')?.transcription_options?.engine).toBeUndefined();
    const done = await waitForJob(svc.url, byName.get('first.wav')?.job_id ?? '');
    expect(done.engine).toMatch(/^openai /);
  });

  it('retries a cancelled recording with another speech engine chosen in the retry dialog', async () => {
    // A recording on openai, cancelled while the loopback server holds its answer.
    server.requests.length = 0;
    server.answer({ status: 200, delayMs: 60_000, body: verboseJson([{ start: 0, end: 1, text: 'late' }]) });
    const response = await submitFile(
      svc.url,
      { name: 'third.wav', bytes: await readFile(first) },
      { job_type: 'TRANSCRIPTION', language: 'en', transcription_engine: 'openai' },
    );
    const submitted = (await response.json()) as Job;
    while (server.requests.length === 0) await sleep(50);
    await fetch(`${svc.url}/v1/jobs/${submitted.job_id}/cancel`, { method: 'POST' });
    await waitForJob(svc.url, submitted.job_id);

    const card = page
      .locator(`article.job-card[data-job-id="${submitted.job_id}"][data-status="CANCELLED"]`)
      .first();
    await card.getByRole('button', { name: 'Retry with other options…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Retry third.wav' });
    await dialog.waitFor();
    const engine = dialog.getByLabel('Speech engine');
    expect(await engine.inputValue()).toBe('openai');
    await engine.selectOption('pocketsphinx');
    await dialog.getByRole('button', { name: 'Retry with these options' }).click();
    await dialog.waitFor({ state: 'hidden' });
    let retried: Job | undefined;
    await expect
      .poll(async () => {
        const listed = (await (await fetch(`${svc.url}/v1/jobs?limit=100`)).json()) as { items: Job[] };
        retried = listed.items.find((job) => job.retry_of_job_id === submitted.job_id);
        return retried?.transcription_options?.engine;
      })
      .toBe('pocketsphinx');
    const done = await waitForJob(svc.url, retried?.job_id ?? '');
    expect(done.engine).toMatch(/^pocketsphinx /);
    expect(consoleErrors).toEqual([]);
  });
});

describe('OCR engine choice for documents', () => {
  const values = (select: ReturnType<Page['getByLabel']>) =>
    select.locator('option').evaluateAll((options) => options.map((o) => o.getAttribute('value')));

  it('offers only the OCR engines the server lists, for the batch, per document and in the retry dialog', async () => {
    const batchSelect = page.getByLabel('OCR engine').first();
    await batchSelect.locator('option[value="tesseract"]').waitFor({ state: 'attached' });
    expect(await values(batchSelect)).toEqual(['default', 'tesseract']);

    // A document that passes sniffing and fails in the engine: its job ends FAILED, to be retried.
    const broken = path.join(dir, 'broken scan.pdf');
    await writeFile(broken, await readFile(await makeCorruptPdf(dir)));
    await page.locator('[data-testid="file-input"]').setInputFiles([broken]);
    const row = page.locator('[data-testid="upload-item"]', { hasText: 'broken scan.pdf' });
    expect(await values(row.getByLabel('OCR engine'))).toEqual(['default', 'tesseract']);
    await row.locator('[data-testid="precheck"][data-decision]').waitFor();
    await page.getByRole('button', { name: 'Upload 1' }).click();
    await row.locator('.upload-phase', { hasText: 'Uploaded' }).waitFor({ timeout: 30_000 });
    const list = (await (await fetch(`${svc.url}/v1/jobs?limit=100`)).json()) as { items: Job[] };
    const job = list.items.find((item) => item.input_filename === 'broken scan.pdf');
    expect((await waitForJob(svc.url, job?.job_id ?? '')).status).toBe('FAILED');

    const card = page.locator(`article.job-card[data-job-id="${job?.job_id}"][data-status="FAILED"]`).first();
    await card.getByRole('button', { name: 'Retry with other options…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Retry broken scan.pdf' });
    await dialog.waitFor();
    expect(await values(dialog.getByLabel('OCR engine'))).toEqual(['default', 'tesseract']);
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(consoleErrors).toEqual([]);
  });
});
