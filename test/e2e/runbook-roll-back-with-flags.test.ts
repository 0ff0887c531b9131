import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminOverview, Job } from '../../src/contract/index.js';
import { LATIN_FONT, makeScanImage } from '../helpers/make-ocr-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// docs/runbooks.md, "A bad deploy: roll back with flags". The "bad deploy" is a budget of no extra
// work at all: a page too weak to read well (two letters) makes the psm 6 re-read fail the job.
let svc: TestService;
let dir: string;
let weakPage: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-runbook-flags-'));
  weakPage = await readFile(await makeScanImage(dir, 'weak', 'Hi', LATIN_FONT));
  svc = await startTestService('runbook-flags', { JOB_EXTRA_WORK_MIN: '0', JOB_EXTRA_WORK_PER_UNIT: '0' });
});
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

async function ocrJob(): Promise<Job> {
  const response = await submitFile(svc.url, { name: 'weak.png', bytes: weakPage });
  expect(response.status).toBe(201);
  return waitForJob(svc.url, ((await response.json()) as Job).job_id);
}

async function failuresByCode(): Promise<AdminOverview['failures_by_code']> {
  return ((await (await fetch(`${svc.url}/v1/admin/overview`)).json()) as AdminOverview).failures_by_code;
}

const flag = (method: 'PUT' | 'DELETE', body?: unknown) =>
  fetch(`${svc.url}/v1/admin/flags/ocr_psm_retry`, {
    method,
    ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });

describe('runbook: roll back a bad deploy with a flag', () => {
  it('shows the failure code, turns the path off live, and the named log events appear', async () => {
    const broken = await ocrJob();
    expect(broken).toMatchObject({ status: 'FAILED', error_code: 'EXTRA_WORK_BUDGET_EXHAUSTED' });
    // Counted just after the final transition: give the count a moment to land.
    const deadline = Date.now() + 10_000;
    while ((await failuresByCode()).length === 0 && Date.now() < deadline) await sleep(100);
    expect(await failuresByCode()).toEqual([{ error_code: 'EXTRA_WORK_BUDGET_EXHAUSTED', count: 1 }]);

    expect((await flag('PUT', { enabled: false })).status).toBe(200);
    expect(
      svc.logs.some(
        (l) =>
          l.event === 'flag.applied' &&
          l.flag === 'ocr_psm_retry' &&
          l.enabled === false &&
          l.source === 'override',
      ),
    ).toBe(true);

    const after = await ocrJob();
    expect(after.error_code).not.toBe('EXTRA_WORK_BUDGET_EXHAUSTED');
    expect(
      svc.logs.some(
        (l) =>
          l.event === 'job.extra_work_skipped' && l.flag === 'ocr_psm_retry' && l.job_id === after.job_id,
      ),
    ).toBe(true);
    // The failure code stopped growing.
    expect((await failuresByCode()).find((f) => f.error_code === 'EXTRA_WORK_BUDGET_EXHAUSTED')?.count).toBe(
      1,
    );

    const back = (await (await flag('DELETE')).json()) as { enabled: boolean; source: string };
    expect(back).toMatchObject({ enabled: true, source: 'env' });
  });
});
