import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { type GeminiLoopback, startGeminiLoopback } from '../helpers/gemini-loopback-server.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// The whole service with Gemini configured for one subtype, its base URL on a loopback server.
let svc: TestService;
let server: GeminiLoopback;
let dir: string;
let scan: Buffer;

async function submit(fields: Record<string, string>): Promise<Job> {
  const response = await submitFile(svc.url, { name: 'scan.pdf', bytes: scan }, fields);
  expect(response.status).toBe(201);
  return waitForJob(svc.url, ((await response.json()) as Job).job_id);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-gemini-svc-'));
  server = await startGeminiLoopback();
  scan = await readFile((await makeScannedPdf(dir, 2, { dpi: 100 })).path);
  svc = await startTestService('gemini-svc', {
    GEMINI_API_KEY: 'test-key',
    GEMINI_MODEL: 'gemini-test',
    GEMINI_BASE_URL: server.baseUrl,
    OCR_ENGINE: 'tesseract',
    OCR_ENGINE_BY_SUBTYPE: 'jain_literature=gemini',
    OCR_DPI: '100',
    OCR_PAGES_IN_FLIGHT: '1',
  });
});
beforeEach(() => {
  server.requests.length = 0;
  server.replies.length = 0;
});
afterAll(async () => {
  await svc?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the Gemini OCR engine in the running service', () => {
  it('is chosen by OCR_ENGINE_BY_SUBTYPE for its subtype, tesseract for the others', async () => {
    const jain = await submit({ content_subtype: 'jain_literature' });
    expect(jain).toMatchObject({ status: 'COMPLETED', engine: 'gemini gemini-test' });
    expect(server.requests).toHaveLength(2);
    server.requests.length = 0;
    const general = await submit({ content_subtype: 'general' });
    expect(general.status).toBe('COMPLETED');
    expect(general.engine).toMatch(/^tesseract /);
    expect(server.requests).toHaveLength(0);
  });

  it('retries a job whose page got a 429 through the retry policy, after the retry delay Gemini asked for', async () => {
    server.replies.push({
      status: 429,
      error: {
        code: 429,
        message: 'Resource has been exhausted (e.g. check quota).',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' }],
      },
    });
    const job = await submit({ content_subtype: 'jain_literature' });
    expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2, pages_by_source: { ocr: 2 } });
    expect(server.requests).toHaveLength(3);
    // The second attempt came no sooner than the retry-after Gemini gave.
    const times = server.requests.map((r) => r.receivedAt);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1000 - 50);
  });

  it('sends the pages of a job asking for ocr_batch_pages in one request, and keeps the option on the job', async () => {
    server.replies.push({ text: '=== PAGE 1 ===\nOne\n=== PAGE 2 ===\nTwo' });
    const job = await submit({ content_subtype: 'jain_literature', ocr_batch_pages: '2' });
    expect(job).toMatchObject({ status: 'COMPLETED', ocr_options: { batch_pages: 2 } });
    expect(server.requests).toHaveLength(1);
    const response = await fetch(`${svc.url}/v1/jobs/${job.job_id}/result?format=txt`);
    expect(await response.text()).toMatch(/--- page 1 ---\nOne\n[\s\S]*--- page 2 ---\nTwo/);
  });
});
