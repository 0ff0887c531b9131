import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { type GeminiLoopback, startGeminiLoopback } from '../helpers/gemini-loopback-server.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// The whole service with Gemini (on its loopback server) answering every page empty: each page is
// asked a second time, and each second ask takes one unit of the job's budget of extra calls.
let svc: TestService;
let server: GeminiLoopback;
let dir: string;
let twoPages: Buffer;
let fivePages: Buffer;

async function submit(bytes: Buffer): Promise<Job> {
  const response = await submitFile(
    svc.url,
    { name: 'scan.pdf', bytes },
    { content_subtype: 'jain_literature' },
  );
  expect(response.status).toBe(201);
  return waitForJob(svc.url, ((await response.json()) as Job).job_id);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-extra-work-'));
  server = await startGeminiLoopback();
  twoPages = await readFile((await makeScannedPdf(dir, 2, { dpi: 72 })).path);
  fivePages = await readFile((await makeScannedPdf(dir, 5, { dpi: 72 })).path);
  svc = await startTestService('extra-work', {
    GEMINI_API_KEY: 'test-key',
    GEMINI_MODEL: 'gemini-test',
    GEMINI_BASE_URL: server.baseUrl,
    OCR_ENGINE_BY_SUBTYPE: 'jain_literature=gemini',
    OCR_DPI: '72',
    OCR_PAGES_IN_FLIGHT: '1',
    OCR_SEARCHABLE_PDF: 'false',
    // A budget of max(2, 0 × pages) = 2 extra calls per job.
    JOB_EXTRA_WORK_MIN: '2',
    JOB_EXTRA_WORK_PER_UNIT: '0',
  });
});
beforeEach(() => {
  server.requests.length = 0;
  server.replies.length = 0;
  server.fallback = { text: '' };
});
afterAll(async () => {
  await svc?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the per-job budget of extra engine calls in the OCR pipeline', () => {
  it('lets page re-asks within the budget complete the job, counting them in the record', async () => {
    const job = await submit(twoPages);
    expect(job).toMatchObject({ status: 'COMPLETED', error_code: null });
    // Each of the 2 pages: one ask, one re-ask after the empty answer.
    expect(server.requests).toHaveLength(4);
    expect((await svc.service.store.get(job.job_id))?.extra_work_used).toBe(2);
  });

  it('ends a job whose pages keep needing re-asks FAILED with EXTRA_WORK_BUDGET_EXHAUSTED, once, after a bounded number of calls', async () => {
    const job = await submit(fivePages);
    expect(job).toMatchObject({ status: 'FAILED', error_code: 'EXTRA_WORK_BUDGET_EXHAUSTED', attempts: 1 });
    // Pages 1 and 2 use the 2 re-asks; page 3's first answer is empty too and its re-ask is refused:
    // 5 calls in all, not the 10 the 5 pages would have taken, and no retry of the job.
    expect(server.requests).toHaveLength(5);
    const letter = await fetch(`${svc.url}/v1/admin/dead-letters/${job.job_id}`);
    expect(letter.status).toBe(200);
    expect(await letter.json()).toMatchObject({
      error_code: 'EXTRA_WORK_BUDGET_EXHAUSTED',
      error_class: 'input',
    });
    expect(svc.logs.filter((l) => l.event === 'job.extra_work_exhausted' && l.job_id === job.job_id)).toEqual(
      [expect.objectContaining({ kind: 'ocr_empty_answer_retry', limit: 2 })],
    );
  });
});
