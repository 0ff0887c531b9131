import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { RESUMABLE_UPLOAD_THRESHOLD_BYTES, UPLOAD_CHUNK_BYTES } from '../../src/contract/index.js';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeLongQuietWav } from '../helpers/make-media-fixtures.js';
import { startTestService, type TestService, waitForJob } from '../helpers/test-service.js';

// A recording above the page's resumable threshold goes up through an upload session in chunks;
// the first PATCH's connection is cut (page.route aborts it once): the page asks the offset,
// resumes, makes the job with its Idempotency-Key, and the whole service transcribes it.
let svc: TestService;
let dir: string;
let context: BrowserContext;
let page: Page;
let recording: string;
const consoleErrors: string[] = [];
const uploadRequests: string[] = [];

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-resumable-'));
  recording = await makeLongQuietWav(dir, 'the river carries the old songs', 52);
  svc = await startTestService('web-resumable-upload');
  context = await launchChromium(path.join(dir, 'profile'));
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    // The aborted PATCH is reported by Chromium as a failed load: expected here.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      consoleErrors.push(message.text());
    }
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/v1/uploads') || url.pathname === '/v1/jobs') {
      if (request.method() !== 'GET' || url.pathname !== '/v1/jobs') {
        uploadRequests.push(`${request.method()} ${url.pathname.replace(/[0-9a-f-]{36}/, ':id')}`);
      }
    }
  });
  await page.goto(svc.url);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('resumable upload from the page', () => {
  it('resumes a large file after a PATCH is cut and the job completes', async () => {
    const size = (await stat(recording)).size;
    expect(size).toBeGreaterThan(RESUMABLE_UPLOAD_THRESHOLD_BYTES);
    let cut = 0;
    await page.route('**/v1/uploads/*', async (route) => {
      if (route.request().method() === 'PATCH' && cut === 0) {
        cut += 1;
        await route.abort('connectionreset');
        return;
      }
      await route.continue();
    });

    await page.locator('[data-testid="file-input"]').setInputFiles([recording]);
    const item = page.locator('[data-testid="upload-item"]', { hasText: path.basename(recording) });
    await item.locator('[data-testid="precheck"][data-decision]').waitFor();
    await page.getByRole('button', { name: 'Upload 1' }).click();
    await item.locator('.upload-phase', { hasText: 'Uploaded' }).waitFor({ timeout: 60_000 });

    expect(cut).toBe(1);
    // Created once, the cut PATCH sent again after the offset question, then the job from the session.
    expect(uploadRequests[0]).toBe('POST /v1/uploads');
    expect(uploadRequests).toContain('HEAD /v1/uploads/:id');
    const patches = uploadRequests.filter((r) => r === 'PATCH /v1/uploads/:id');
    expect(patches.length).toBe(Math.ceil(size / UPLOAD_CHUNK_BYTES) + 1);
    expect(uploadRequests.at(-1)).toBe('POST /v1/jobs');
    expect(uploadRequests.filter((r) => r === 'POST /v1/uploads')).toHaveLength(1);

    const list = (await (await fetch(`${svc.url}/v1/jobs?limit=10`)).json()) as { items: Job[] };
    const job = list.items.find((j) => j.input_filename === path.basename(recording));
    expect(job).toBeDefined();
    const done = await waitForJob(svc.url, job?.job_id ?? '');
    expect(done.status).toBe('COMPLETED');
    const original = await fetch(`${svc.url}/v1/jobs/${done.job_id}/input`);
    const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    expect(sha(new Uint8Array(await original.arrayBuffer()))).toBe(sha(await readFile(recording)));
    expect(consoleErrors).toEqual([]);
  });
});
