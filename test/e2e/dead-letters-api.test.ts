import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeadLetter,
  type DeadLetterList,
  deadLetterListSchema,
  deadLetterSchema,
  type Job,
  type ReplayResult,
} from '../../src/contract/index.js';
import { makeCorruptPdf } from '../helpers/make-document-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// The whole service (role all) with a real engine: a damaged PDF fails permanently and is dead-lettered.
let svc: TestService;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-dead-letters-'));
  svc = await startTestService('dead-letters');
});
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

async function failedJob(requestId: string): Promise<Job> {
  const bytes = await readFile(await makeCorruptPdf(dir));
  const response = await submitFile(
    svc.url,
    { name: 'broken.pdf', bytes },
    // No engine named: the dead letter names the server's default (OCR_ENGINE), as the job would run it.
    {},
    { 'x-request-id': requestId },
  );
  expect(response.status).toBe(201);
  const submitted = (await response.json()) as Job;
  return waitForJob(svc.url, submitted.job_id);
}

/** The dead letter is written just after the FAILED transition: poll for it. */
async function waitForDeadLetter(jobId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await fetch(`${svc.url}/v1/admin/dead-letters/${jobId}`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`no dead letter for ${jobId}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(`${svc.url}${url}`, init);
  return { status: response.status, body: (response.status === 204 ? null : await response.json()) as T };
}

describe('/v1/admin/dead-letters', () => {
  it('lists, inspects, replays and purges the dead letter of a job that failed permanently', async () => {
    const job = await failedJob('dl-e2e-1');
    expect(job).toMatchObject({ status: 'FAILED', error_code: 'INPUT_UNREADABLE', attempts: 1 });
    await waitForDeadLetter(job.job_id);

    const list = await getJson<DeadLetterList>(
      '/v1/admin/dead-letters?error_code=INPUT_UNREADABLE&queue=ocr',
    );
    expect(list.status).toBe(200);
    deadLetterListSchema.parse(list.body);
    expect(list.body.items.map((item) => item.job_id)).toEqual([job.job_id]);
    expect(
      (await getJson<DeadLetterList>('/v1/admin/dead-letters?error_code=INTERNAL_ERROR')).body.items,
    ).toEqual([]);

    const one = await getJson<DeadLetter>(`/v1/admin/dead-letters/${job.job_id}`);
    expect(one.status).toBe(200);
    expect(deadLetterSchema.parse(one.body)).toMatchObject({
      job_id: job.job_id,
      queue: 'ocr',
      error_code: 'INPUT_UNREADABLE',
      error_class: 'input',
      attempts: 1,
      engine: 'tesseract',
      request: { job_type: 'OCR', input_filename: 'broken.pdf', request_id: 'dl-e2e-1' },
    });
    expect(one.body.worker_id).toBe(svc.service.worker?.workerId);
    expect(one.body.attempt_history).toHaveLength(1);

    const replay = await getJson<ReplayResult>(`/v1/admin/dead-letters/${job.job_id}/replay`, {
      method: 'POST',
      headers: { 'x-request-id': 'dl-replay-1' },
    });
    expect(replay).toEqual({ status: 200, body: { results: [{ job_id: job.job_id, outcome: 'replayed' }] } });
    // The same job runs again (and, its input being damaged, fails again with a new dead letter).
    const again = await waitForJob(svc.url, job.job_id, (j) => j.status === 'FAILED' && j.attempts === 2);
    expect(again.error_code).toBe('INPUT_UNREADABLE');
    await waitForDeadLetter(job.job_id);
    const second = await getJson<DeadLetter>(`/v1/admin/dead-letters/${job.job_id}`);
    expect(second.body.attempt_history.map((entry) => entry.kind)).toEqual(['failed', 'replayed', 'failed']);
    expect(second.body.attempt_history[1]).toMatchObject({ request_id: 'dl-replay-1' });

    const bulk = await getJson<ReplayResult>('/v1/admin/dead-letters/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ job_ids: ['0190a0a0-0000-7000-8000-000000000000'] }),
    });
    expect(bulk.body.results).toEqual([
      { job_id: '0190a0a0-0000-7000-8000-000000000000', outcome: 'not_found' },
    ]);

    expect((await getJson(`/v1/admin/dead-letters/${job.job_id}`, { method: 'DELETE' })).status).toBe(204);
    const gone = await getJson<{ error_code: string }>(`/v1/admin/dead-letters/${job.job_id}`);
    expect(gone).toMatchObject({ status: 404, body: { error_code: 'DEAD_LETTER_NOT_FOUND' } });
    expect((await getJson<{ purged: number }>('/v1/admin/dead-letters', { method: 'DELETE' })).body).toEqual({
      purged: 0,
    });
  });

  it('refuses a malformed cursor with a catalog code', async () => {
    const response = await getJson<{ error_code: string }>('/v1/admin/dead-letters?cursor=%%%');
    expect(response).toMatchObject({ status: 400, body: { error_code: 'CURSOR_INVALID' } });
  });
});
