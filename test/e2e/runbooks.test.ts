import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { type GeminiLoopback, startGeminiLoopback } from '../helpers/gemini-loopback-server.js';
import { makeCorruptPdf, makeScannedPng } from '../helpers/make-document-fixtures.js';
import { type OwnRedisServer, ownRedisServer } from '../helpers/own-redis-server.js';
import { scrapeMetrics } from '../helpers/prometheus-scrape.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// Each scenario of docs/runbooks.md, reproduced: the signal the runbook names must really appear.
let dir: string;
let png: { path: string; text: string };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-runbooks-'));
  png = await makeScannedPng(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function submitPng(svc: TestService): Promise<Response> {
  return submitFile(svc.url, { name: 'scan.png', bytes: await readFile(png.path) });
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(200);
    value = await read();
  }
  return value;
}

describe('runbook: jobs stuck in QUEUED', () => {
  let api: TestService;
  beforeAll(async () => {
    api = await startTestService('runbook-queued', { SERVICE_ROLE: 'api' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('shows a growing queue_oldest_waiting_age_seconds and no worker online', async () => {
    expect((await submitPng(api)).status).toBe(201);
    const first = await scrapeMetrics(`${api.url}/metrics`);
    expect(first.value('queue_jobs', { queue: 'ocr', state: 'waiting' })).toBe(1);
    expect(first.value('queue_workers_online', { queue: 'ocr' })).toBe(0);
    const later = await until(
      () => scrapeMetrics(`${api.url}/metrics`),
      (scrape) => scrape.value('queue_oldest_waiting_age_seconds', { queue: 'ocr' }) >= 2,
    );
    expect(later.value('queue_oldest_waiting_age_seconds', { queue: 'ocr' })).toBeGreaterThan(
      first.value('queue_oldest_waiting_age_seconds', { queue: 'ocr' }),
    );
  });
});

describe('runbook: jobs stuck in QUEUED because the queue was paused (step 4)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService('runbook-paused', { WORKER_QUEUES: 'ocr', WORKER_HEARTBEAT_SEC: '1' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  const ocrQueue = async () => {
    const body = (await (await fetch(`${svc.url}/v1/admin/queues`)).json()) as {
      queues: Array<{ name: string; paused: boolean }>;
    };
    return body.queues.find((queue) => queue.name === 'ocr');
  };

  it('shows the job waiting with a worker online and the queue paused, and the admin resume runs it', async () => {
    const pause = await fetch(`${svc.url}/v1/admin/queues/ocr/pause`, { method: 'POST' });
    expect(pause.status).toBe(200);
    const submitted = (await (await submitPng(svc)).json()) as Job;
    // The runbook's signal: the oldest waiting job ages while a worker consumes the queue, none active.
    const stuck = await until(
      () => scrapeMetrics(`${svc.url}/metrics`),
      (scrape) => scrape.value('queue_oldest_waiting_age_seconds', { queue: 'ocr' }) >= 1,
    );
    expect(stuck.value('queue_oldest_waiting_age_seconds', { queue: 'ocr' })).toBeGreaterThanOrEqual(1);
    expect(stuck.value('queue_jobs', { queue: 'ocr', state: 'waiting' })).toBe(1);
    expect(stuck.value('queue_jobs', { queue: 'ocr', state: 'active' })).toBe(0);
    expect(stuck.value('queue_workers_online', { queue: 'ocr' })).toBeGreaterThanOrEqual(1);
    expect(((await (await fetch(`${svc.url}/v1/jobs/${submitted.job_id}`)).json()) as Job).status).toBe(
      'QUEUED',
    );
    // Step 4: the admin queues API says why, and a pause on purpose leaves the worker ready.
    expect(await ocrQueue()).toMatchObject({ paused: true });
    expect(svc.logs.some((line) => line.event === 'queue.paused' && line.queue === 'ocr')).toBe(true);
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);

    const resume = await fetch(`${svc.url}/v1/admin/queues/ocr/resume`, { method: 'POST' });
    expect(await resume.json()).toEqual({ queue: 'ocr', paused: false });
    expect(await ocrQueue()).toMatchObject({ paused: false });
    expect((await waitForJob(svc.url, submitted.job_id)).status).toBe('COMPLETED');
    const after = await scrapeMetrics(`${svc.url}/metrics`);
    expect(after.value('queue_oldest_waiting_age_seconds', { queue: 'ocr' })).toBe(0);
  });
});

describe('runbook: dead letters growing', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService('runbook-dead-letters', { WORKER_QUEUES: 'ocr' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('shows dead_letter_jobs rising, jobs_failed_total by code and job.dead_lettered in the logs', async () => {
    const before = await scrapeMetrics(`${svc.url}/metrics`);
    expect(before.value('dead_letter_jobs')).toBe(0);
    const response = await submitFile(svc.url, {
      name: 'broken.pdf',
      bytes: await readFile(await makeCorruptPdf(dir)),
    });
    const failed = await waitForJob(svc.url, ((await response.json()) as Job).job_id);
    expect(failed).toMatchObject({ status: 'FAILED', error_code: 'INPUT_UNREADABLE' });
    // The job reads FAILED as soon as the transition is written; the worker counts it and writes
    // its dead letter just after.
    const after = await until(
      () => scrapeMetrics(`${svc.url}/metrics`),
      (scrape) =>
        scrape.value('jobs_failed_total', { error_code: 'INPUT_UNREADABLE' }) === 1 &&
        scrape.value('dead_letter_jobs') === 1,
    );
    expect(after.value('dead_letter_jobs')).toBe(1);
    expect(after.value('jobs_failed_total', { error_code: 'INPUT_UNREADABLE' })).toBe(1);
    const line = svc.logs.find((l) => l.event === 'job.dead_lettered' && l.job_id === failed.job_id);
    expect(line).toMatchObject({ error_code: 'INPUT_UNREADABLE', level: 'warn' });
    // The runbook's inspect command lists it.
    const letters = (await (await fetch(`${svc.url}/v1/admin/dead-letters`)).json()) as {
      items: Array<{ job_id: string; error_code: string }>;
    };
    expect(letters.items.map((item) => [item.job_id, item.error_code])).toEqual([
      [failed.job_id, 'INPUT_UNREADABLE'],
    ]);
  });
});

describe('runbook: Redis full', () => {
  let redis: OwnRedisServer;
  let svc: TestService;
  beforeAll(async () => {
    redis = await ownRedisServer();
    svc = await startTestService('runbook-redis-full', { REDIS_URL: redis.url, SERVICE_ROLE: 'api' });
  });
  afterAll(async () => {
    await svc?.close();
    await redis?.dispose();
  });

  it('shows used memory at the limit and refuses submissions with a clear 503 code', async () => {
    const admin = new Redis(redis.url);
    try {
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', String(used + 1024));
      await admin.set('runbook-filler', 'x'.repeat(64 * 1024)).catch(() => undefined);
      const scrape = await scrapeMetrics(`${svc.url}/metrics`);
      expect(scrape.value('redis_memory_max_bytes')).toBeGreaterThan(0);
      expect(scrape.value('redis_memory_used_bytes')).toBeGreaterThanOrEqual(
        scrape.value('redis_memory_max_bytes') - 64 * 1024,
      );
      const refused = await submitPng(svc);
      expect(refused.status).toBe(503);
      const body = (await refused.json()) as { error_code: string };
      expect(['QUEUE_UNAVAILABLE', 'DEPENDENCY_UNAVAILABLE']).toContain(body.error_code);
      const logged = svc.logs.find(
        (line) => line.event === 'http.error' && line.error_code === body.error_code,
      );
      expect(JSON.stringify(logged)).toContain('OOM');
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
  });
});

describe('runbook: storage errors', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService('runbook-storage', { SERVICE_ROLE: 'api' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('shows /readyz 503 naming storage, and refuses submissions with STORAGE_UNAVAILABLE', async () => {
    const storage = path.join(svc.dataDir, 'storage');
    // A file where the storage directory should be: every write fails (root ignores file modes).
    await rm(storage, { recursive: true, force: true });
    await writeFile(storage, 'not a directory');
    const ready = await until(
      () => fetch(`${svc.url}/readyz`),
      (response) => response.status === 503,
    );
    const report = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
    expect(report.checks.storage?.ok).toBe(false);
    expect(svc.logs.some((line) => line.event === 'readiness.check_failed' && line.check === 'storage')).toBe(
      true,
    );
    const refused = await submitPng(svc);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error_code: string }).error_code).toBe('STORAGE_UNAVAILABLE');
    expect(
      svc.logs.some((line) => line.event === 'http.error' && line.error_code === 'STORAGE_UNAVAILABLE'),
    ).toBe(true);
  });
});

describe('runbook: a provider rate-limiting us', () => {
  let gemini: GeminiLoopback;
  let svc: TestService;
  beforeAll(async () => {
    gemini = await startGeminiLoopback();
    const limited = { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' };
    gemini.replies.push({ status: 429, error: limited }, { status: 429, error: limited });
    gemini.fallback = { text: 'recognised after the rate limit' };
    svc = await startTestService('runbook-429', {
      OCR_ENGINE: 'gemini',
      GEMINI_API_KEY: 'test-key',
      GEMINI_MODEL: 'gemini-test',
      GEMINI_BASE_URL: gemini.baseUrl,
      WORKER_QUEUES: 'ocr',
    });
  });
  afterAll(async () => {
    await svc?.close();
    await gemini?.close();
  });

  it('counts ENGINE_RATE_LIMITED retries and logs job.retry_scheduled, then completes', async () => {
    const submitted = (await (await submitPng(svc)).json()) as Job;
    const job = await waitForJob(svc.url, submitted.job_id);
    expect(job.status).toBe('COMPLETED');
    const scrape = await scrapeMetrics(`${svc.url}/metrics`);
    expect(scrape.value('jobs_retried_total', { error_code: 'ENGINE_RATE_LIMITED' })).toBeGreaterThanOrEqual(
      1,
    );
    const retry = svc.logs.find(
      (line) => line.event === 'job.retry_scheduled' && line.error_code === 'ENGINE_RATE_LIMITED',
    );
    expect(retry?.job_id).toBe(job.job_id);
  });
});

describe('runbook: disk full on a worker', () => {
  let svc: TestService;
  let scratch: string;
  // A 32 MiB tmpfs over the worker's scratch directory (DATA_DIR/tmp) is a disk that really fills
  // up. Mounting needs root (as on CI); elsewhere the scenario is skipped, saying so.
  let mounted = false;
  beforeAll(async () => {
    svc = await startTestService('runbook-disk-full', {
      OCR_SEARCHABLE_PDF: 'false',
      // Long enough that the retries outlast the moment it takes to free space.
      JOB_RETRY_BASE_DELAY_MS: '2000',
    });
    scratch = path.join(svc.dataDir, 'tmp');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', scratch], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false;
    }
  });
  afterAll(async () => {
    if (mounted) execFileSync('umount', ['-l', scratch]);
    await svc?.close();
  });

  it('fails attempts with ENOSPC, turns /readyz 503 on the scratch check, and recovers once space is freed', async (context) => {
    if (!mounted) context.skip();
    const filler = path.join(scratch, 'filler');
    await writeFile(filler, Buffer.alloc(33 * 1024 * 1024)).catch(() => undefined);

    const ready = await until(
      () => fetch(`${svc.url}/readyz`),
      (response) => response.status === 503,
    );
    const report = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
    expect(report.checks.scratch_dir?.ok).toBe(false);

    const submitted = (await (await submitPng(svc)).json()) as Job;
    const failedAttempt = await until(
      async () =>
        svc.logs.find(
          (line) =>
            line.event === 'job.attempt_failed' &&
            line.job_id === submitted.job_id &&
            /ENOSPC|no space/i.test(JSON.stringify(line.err ?? '')),
        ),
      (line) => line !== undefined,
    );
    expect(failedAttempt).toBeDefined();

    // The fix of the runbook: free space; the job's retry then completes it.
    await rm(filler, { force: true });
    const done = await waitForJob(svc.url, submitted.job_id, undefined, 40_000);
    expect(done, JSON.stringify(failedAttempt)).toMatchObject({ status: 'COMPLETED' });
    expect(done.attempts).toBeGreaterThan(1);
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
  });
});
