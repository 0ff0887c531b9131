import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { makeCorruptPdf, makeScannedPng } from '../helpers/make-document-fixtures.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { type Scrape, scrapeMetrics } from '../helpers/prometheus-scrape.js';
import { testKeyPrefix } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// One deployment: an API process and a worker process sharing a Redis prefix, scraped as Prometheus would.
const TOKEN = 'metrics-e2e-token-0123456789';
const prefix = testKeyPrefix('metrics');
let api: TestService;
let worker: TestService;
let dir: string;
const jobs: Record<'completed' | 'failed' | 'cancelled' | 'transcribed', Job | undefined> = {
  completed: undefined,
  failed: undefined,
  cancelled: undefined,
  transcribed: undefined,
};

async function submit(filePath: string, name: string): Promise<Job> {
  const response = await submitFile(api.url, { name, bytes: await readFile(filePath) });
  expect(response.status).toBe(201);
  return (await response.json()) as Job;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-metrics-'));
  // Local storage: both processes read and write the same data directory.
  const shared = { REDIS_KEY_PREFIX: prefix, METRICS_TOKEN: TOKEN, DATA_DIR: path.join(dir, 'data') };
  api = await startTestService('metrics-api', { ...shared, SERVICE_ROLE: 'api' });
  // With no worker yet, this job waits on its queue and is cancelled there.
  const png = await makeScannedPng(dir);
  const queued = await submit(png.path, 'to-cancel.png');
  expect((await fetch(`${api.url}/v1/jobs/${queued.job_id}/cancel`, { method: 'POST' })).status).toBeLessThan(
    300,
  );
  jobs.cancelled = await waitForJob(api.url, queued.job_id);

  worker = await startTestService('metrics-worker', {
    ...shared,
    SERVICE_ROLE: 'worker',
    WORKER_METRICS_PORT: '0',
    WORKER_HEARTBEAT_SEC: '1',
  });
  jobs.completed = await waitForJob(api.url, (await submit(png.path, 'scan.png')).job_id);
  jobs.failed = await waitForJob(api.url, (await submit(await makeCorruptPdf(dir), 'broken.pdf')).job_id);
  const wav = await makeSpokenWav(dir, 'the river flows past the old temple');
  jobs.transcribed = await waitForJob(api.url, (await submit(wav, 'talk.wav')).job_id);
}, 180_000);

afterAll(async () => {
  await worker?.close();
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Prometheus metrics after a scripted workload', () => {
  let apiScrape: Scrape;
  let workerScrape: Scrape;

  beforeAll(async () => {
    expect([jobs.completed?.status, jobs.completed?.error_code]).toEqual(['COMPLETED', null]);
    expect(jobs.failed).toMatchObject({ status: 'FAILED', error_code: 'INPUT_UNREADABLE' });
    expect(jobs.cancelled?.status).toBe('CANCELLED');
    expect(jobs.transcribed).toMatchObject({ status: 'COMPLETED', job_type: 'TRANSCRIPTION' });
    // One request to a path with a job id in it, so the route label can be checked.
    await fetch(`${api.url}/v1/jobs/${jobs.completed?.job_id}`);
    apiScrape = await scrapeMetrics(`${api.url}/metrics`, TOKEN);
    expect(worker.service.metricsUrl).toBeTruthy();
    workerScrape = await scrapeMetrics(`${worker.service.metricsUrl}/metrics`, TOKEN);
  });

  it('counts submissions and the cancel of a queued job in the API process, by the engine they run with', () => {
    expect(
      apiScrape.value('jobs_submitted_total', {
        queue: 'ocr',
        job_type: 'OCR',
        engine: 'tesseract',
        role: 'api',
      }),
    ).toBe(3);
    expect(
      apiScrape.value('jobs_submitted_total', {
        queue: 'transcription',
        job_type: 'TRANSCRIPTION',
        engine: 'pocketsphinx',
      }),
    ).toBe(1);
    // Cancelled on its queue before any worker ran it: the engine is the configured one (OCR_ENGINE).
    expect(
      apiScrape.value('jobs_cancelled_total', { queue: 'ocr', job_type: 'OCR', engine: 'tesseract' }),
    ).toBe(1);
    // Only engine names, never versions: one series per engine.
    const engines = apiScrape.samples('jobs_submitted_total').map((s) => s.labels?.engine);
    expect(engines.sort()).toEqual(['pocketsphinx', 'tesseract']);
  });

  it('counts outcomes by type, engine and error code in the worker process', () => {
    expect(
      workerScrape.value('jobs_completed_total', { queue: 'ocr', job_type: 'OCR', engine: 'tesseract' }),
    ).toBe(1);
    const failed = workerScrape.samples('jobs_failed_total', {
      queue: 'ocr',
      error_code: 'INPUT_UNREADABLE',
    });
    expect(failed).toHaveLength(1);
    expect(Number(failed[0]?.value)).toBe(1);
    expect(failed[0]?.labels?.role).toBe('worker');
    // A catalog error that is not retryable is never counted as retried.
    expect(workerScrape.value('jobs_retried_total', { error_code: 'INPUT_UNREADABLE' })).toBe(0);
  });

  it('records one per-chunk histogram observation for each transcribed chunk', () => {
    expect(
      workerScrape.value('jobs_completed_total', {
        queue: 'transcription',
        job_type: 'TRANSCRIPTION',
        engine: 'pocketsphinx',
      }),
    ).toBe(1);
    expect(
      workerScrape.value('job_unit_duration_seconds_count', { queue: 'transcription', unit: 'chunk' }),
    ).toBeGreaterThanOrEqual(1);
    expect(workerScrape.value('job_unit_duration_seconds_sum', { unit: 'chunk' })).toBeGreaterThan(0);
    expect(workerScrape.value('job_unit_duration_seconds_count', { queue: 'ocr', unit: 'chunk' })).toBe(0);
  });

  it('records duration, queue-wait and per-page histograms', () => {
    const family = (name: string) => workerScrape.families.get(name);
    expect(family('job_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(workerScrape.value('job_duration_seconds_count', { queue: 'ocr', status: 'COMPLETED' })).toBe(1);
    expect(workerScrape.value('job_duration_seconds_count', { queue: 'ocr', status: 'FAILED' })).toBe(1);
    expect(workerScrape.value('job_queue_wait_seconds_count', { queue: 'ocr', job_type: 'OCR' })).toBe(2);
    expect(
      workerScrape.value('job_unit_duration_seconds_count', { queue: 'ocr', unit: 'page' }),
    ).toBeGreaterThanOrEqual(1);
    expect(workerScrape.value('job_unit_duration_seconds_sum', { unit: 'page' })).toBeGreaterThan(0);
    const infinite = workerScrape.value('job_unit_duration_seconds_bucket', { unit: 'page', le: '+Inf' });
    expect(infinite).toBe(workerScrape.value('job_unit_duration_seconds_count', { unit: 'page' }));
  });

  it('reads queue gauges, dead letters and heartbeats from Redis, the same in both processes', () => {
    for (const scrape of [apiScrape, workerScrape]) {
      expect(scrape.value('redis_up')).toBe(1);
      expect(scrape.value('queue_jobs', { queue: 'ocr', state: 'waiting' })).toBe(0);
      expect(
        scrape
          .samples('queue_jobs', { queue: 'ocr' })
          .map((s) => s.labels?.state)
          .sort(),
      ).toEqual(['active', 'delayed', 'failed', 'waiting']);
      expect(scrape.value('queue_oldest_waiting_age_seconds', { queue: 'ocr' })).toBe(0);
      expect(scrape.value('queue_workers_online', { queue: 'ocr' })).toBeGreaterThanOrEqual(1);
      expect(scrape.value('dead_letter_jobs')).toBe(1);
      const beats = scrape.samples('worker_heartbeat_timestamp_seconds');
      expect(beats).toHaveLength(1);
      expect(Math.abs(Number(beats[0]?.value) - Date.now() / 1000)).toBeLessThan(120);
    }
  });

  it('labels HTTP series by route template, never by a raw path or job id', () => {
    const routes = apiScrape.samples('http_requests_total').map((s) => s.labels?.route ?? '');
    expect(routes).toContain('/v1/jobs/:id');
    expect(routes).toContain('/v1/jobs');
    for (const job of Object.values(jobs)) expect(apiScrape.text).not.toContain(job?.job_id ?? 'never');
    expect(
      apiScrape.value('http_request_duration_seconds_count', {
        route: '/v1/jobs',
        method: 'POST',
        status: '201',
      }),
    ).toBe(4);
  });

  it('groups unknown paths under one route label', async () => {
    await fetch(`${api.url}/no/such/path/${'x'.repeat(12)}`);
    const scrape = await scrapeMetrics(`${api.url}/metrics`, TOKEN);
    expect(scrape.value('http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(scrape.text).not.toContain('xxxxxxxxxxxx');
  });
});

describe('access to /metrics', () => {
  it('refuses a scrape without the configured token, or with a wrong one, on the API and the worker port', async () => {
    for (const url of [`${api.url}/metrics`, `${worker.service.metricsUrl}/metrics`]) {
      const missing = await fetch(url);
      expect(missing.status).toBe(401);
      expect(((await missing.json()) as { error_code: string }).error_code).toBe('AUTH_REQUIRED');
      const wrong = await fetch(url, { headers: { authorization: 'Bearer not-the-metrics-token-at-all' } });
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).not.toContain('jobs_submitted_total');
    }
  });
});
