import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdminOverview,
  type AdminQueue,
  adminOverviewSchema,
  adminQueuesSchema,
  type Job,
} from '../../src/contract/index.js';
import { makeCorruptPdf } from '../helpers/make-document-fixtures.js';
import { ENGLISH_PAGES, LATIN_FONT, makeScanImage } from '../helpers/make-ocr-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// The whole service (role all, real worker and engine): pause/resume, concurrency, throughput.
let svc: TestService;
let dir: string;
let scan: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-admin-queues-'));
  scan = await readFile(await makeScanImage(dir, 'page', ENGLISH_PAGES[0] ?? 'text', LATIN_FONT));
  svc = await startTestService('admin-queues', { WORKER_HEARTBEAT_SEC: '1' });
});
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

async function call<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${svc.url}${url}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function ocrQueue(): Promise<AdminQueue> {
  const { status, body } = await call<{ queues: AdminQueue[] }>('GET', '/v1/admin/queues');
  expect(status).toBe(200);
  const queue = adminQueuesSchema.parse(body).queues.find((q) => q.name === 'ocr');
  if (!queue) throw new Error('no ocr queue');
  return queue;
}

async function submit(name: string, bytes: Uint8Array): Promise<Job> {
  const response = await submitFile(svc.url, { name, bytes });
  expect(response.status).toBe(201);
  return (await response.json()) as Job;
}

describe('/v1/admin/queues', () => {
  it('pauses a queue for the running worker (jobs stay QUEUED) and resumes it', async () => {
    expect((await call('POST', '/v1/admin/queues/ocr/pause')).body).toEqual({ queue: 'ocr', paused: true });
    const job = await submit('paused.png', scan);
    await sleep(1500);
    const held = await call<Job>('GET', `/v1/jobs/${job.job_id}`);
    expect(held.body.status).toBe('QUEUED');
    expect(await ocrQueue()).toMatchObject({ paused: true, waiting: 1 });

    expect((await call('POST', '/v1/admin/queues/ocr/resume')).status).toBe(200);
    expect((await waitForJob(svc.url, job.job_id)).status).toBe('COMPLETED');
    expect((await ocrQueue()).paused).toBe(false);
    expect(svc.logs.some((line) => line.event === 'queue.paused' && line.queue === 'ocr')).toBe(true);
  });

  it('changes per-worker concurrency at runtime, seen in the admin view, and sets a global cap', async () => {
    const before = await ocrQueue();
    expect(before.workers).toHaveLength(1);
    const set = await call('PUT', '/v1/admin/queues/ocr/concurrency', { per_worker: 3, global: 5 });
    expect(set.status).toBe(200);
    const deadline = Date.now() + 10_000;
    let queue = await ocrQueue();
    while (queue.workers[0]?.concurrency.ocr !== 3) {
      if (Date.now() > deadline) throw new Error(`concurrency not applied: ${JSON.stringify(queue.workers)}`);
      await sleep(200);
      queue = await ocrQueue();
    }
    expect(queue).toMatchObject({ per_worker_concurrency: 3, global_concurrency: 5 });
    expect(svc.logs.some((l) => l.event === 'worker.concurrency_changed' && l.concurrency === 3)).toBe(true);
    await call('PUT', '/v1/admin/queues/ocr/concurrency', { global: 0 });
    expect((await ocrQueue()).global_concurrency).toBeNull();
  });

  it('refuses an unknown queue and an empty body', async () => {
    expect((await call('POST', '/v1/admin/queues/nope/pause')).status).toBe(404);
    expect((await call('PUT', '/v1/admin/queues/ocr/concurrency', {})).status).toBe(400);
  });
});

describe('/v1/admin/overview', () => {
  it('counts completed and failed jobs per minute and failures by error code', async () => {
    const failed = await submit('broken.pdf', await readFile(await makeCorruptPdf(dir)));
    expect((await waitForJob(svc.url, failed.job_id)).status).toBe('FAILED');
    const { status, body } = await call<AdminOverview>('GET', '/v1/admin/overview');
    expect(status).toBe(200);
    const overview = adminOverviewSchema.parse(body);
    expect(overview.window_minutes).toBe(60);
    const ocr = overview.throughput.filter((m) => m.queue === 'ocr');
    expect(ocr.reduce((n, m) => n + m.completed, 0)).toBe(1);
    expect(ocr.reduce((n, m) => n + m.failed, 0)).toBe(1);
    expect(overview.failures_by_code).toEqual([{ error_code: 'INPUT_UNREADABLE', count: 1 }]);
    expect(overview.queues.map((q) => q.name)).toEqual(['ocr', 'transcription']);
    expect(overview.queues[0]?.completed_per_minute.last_60m).toBeGreaterThan(0);
    expect(overview.workers[0]).toMatchObject({ host: os.hostname(), pid: process.pid });
    expect(overview.dependencies.checks.redis).toEqual({ ok: true });
  });
});
