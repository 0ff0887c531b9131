import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { utcDay } from '../../src/jobs/usage-quota.js';
import { type GeminiLoopback, startGeminiLoopback } from '../helpers/gemini-loopback-server.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { makeBornDigitalPdf, makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { connectTestRedis, testKeyPrefix } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';
import { TINY_PNG, tiffOf } from '../helpers/tiny-files.js';

// The whole service (API and worker in one process, real engines): daily page and audio-minute
// quotas counted by the worker from what it measured, and the cost thresholds applied there.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-usage-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const json = async (response: Response) =>
  (await response.json()) as Job & { error_code?: string; detail?: string };

async function submitAndWait(svc: TestService, name: string, bytes: Uint8Array): Promise<Job> {
  const response = await submitFile(svc.url, { name, bytes });
  expect(response.status).toBe(201);
  return waitForJob(svc.url, (await json(response)).job_id);
}

/** The day's counter of the job's owner, read straight from Redis. */
async function usedToday(prefix: string, jobId: string, unit: 'pages' | 'audio-sec'): Promise<number> {
  const redis = connectTestRedis();
  try {
    const keys = new RedisKeys(prefix);
    const owner = await redis.hget(keys.job(jobId), 'owner_id');
    const value = await redis.get(keys.userDailyUsage(owner ?? '', unit, utcDay(new Date())));
    return Number(value ?? '0');
  } finally {
    await redis.quit();
  }
}

/** Object keys stored under a job (local disk storage). */
async function storedFiles(svc: TestService, jobId: string): Promise<string[]> {
  const root = path.join(svc.dataDir, 'storage', 'jobs', jobId);
  return readdir(root, { recursive: true }).catch(() => []);
}

async function precheck(svc: TestService, body: Record<string, unknown>) {
  const response = await fetch(`${svc.url}/v1/intake/precheck`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { decision: string; blocks: Array<{ code: string; message: string }> };
}

describe('pages per day (QUOTA_PAGES_PER_DAY)', () => {
  const prefix = testKeyPrefix('usage-pages');
  let svc: TestService;
  let threePages: Buffer;
  let twoPages: Buffer;
  beforeAll(async () => {
    threePages = await readFile(await makeBornDigitalPdf(dir, 3));
    twoPages = await readFile(await makeBornDigitalPdf(dir, 2));
    svc = await startTestService('usage-pages', { REDIS_KEY_PREFIX: prefix, QUOTA_PAGES_PER_DAY: '5' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('refuses at upload a PDF whose counted pages would go over (429, the limit named, nothing stored)', async () => {
    const tooMany = await precheck(svc, { filename: 'big.pdf', size_bytes: 1000, page_count: 6 });
    expect(tooMany.blocks).toContainEqual({
      code: 'QUOTA_DAILY_PAGES',
      message: '6 pages is more than the 5 you have left today (UTC).',
    });
    expect((await precheck(svc, { filename: 'ok.pdf', size_bytes: 1000, page_count: 5 })).decision).toBe(
      'allow',
    );
    const first = await submitAndWait(svc, 'first.pdf', threePages);
    expect(first).toMatchObject({ status: 'COMPLETED', page_count: 3 });
    expect(await usedToday(prefix, first.job_id, 'pages')).toBe(3);

    // pdfinfo counted 3 pages at upload: 3 + 3 > 5, refused before any job exists.
    const before = await readdir(path.join(svc.dataDir, 'storage', 'jobs'));
    const refused = await submitFile(svc.url, { name: 'second.pdf', bytes: threePages });
    expect(refused.status).toBe(429);
    const body = await json(refused);
    expect(body.error_code).toBe('QUOTA_DAILY_PAGES');
    expect(body.detail).toBe(
      'The document has 3 pages; with 3 of your 5 pages a day (UTC) used it would go over the limit.',
    );
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await readdir(path.join(svc.dataDir, 'storage', 'jobs'))).toEqual(before);
    expect(await usedToday(prefix, first.job_id, 'pages')).toBe(3);
  });

  it('fails in the worker, uncounted, a job whose pages are only known there (a TIFF)', async () => {
    const tiff = await submitAndWait(
      svc,
      'three-pages.tif',
      tiffOf([
        [10, 10],
        [10, 10],
        [10, 10],
      ]),
    );
    expect(tiff).toMatchObject({
      status: 'FAILED',
      error_code: 'QUOTA_DAILY_PAGES',
      page_count: 3,
      attempts: 1,
      outputs: {},
    });
    expect(tiff.error_message).toContain('5 pages a day');
    // No output was written; the input stays for a replay, as for every FAILED job.
    expect(await storedFiles(svc, tiff.job_id)).toEqual(['input']);
    expect(await usedToday(prefix, tiff.job_id, 'pages')).toBe(3);
    const deadLetter = await fetch(`${svc.url}/v1/admin/dead-letters/${tiff.job_id}`);
    expect(deadLetter.status).toBe(200);
    expect(await deadLetter.json()).toMatchObject({ error_code: 'QUOTA_DAILY_PAGES' });

    // Exactly up to the limit is allowed, at upload and in the worker.
    const third = await submitAndWait(svc, 'third.pdf', twoPages);
    expect(third).toMatchObject({ status: 'COMPLETED', page_count: 2 });
    expect(await usedToday(prefix, third.job_id, 'pages')).toBe(5);
  });

  it('refuses submits (429, nothing stored) and prechecks once nothing is left today', async () => {
    const before = await readdir(path.join(svc.dataDir, 'storage', 'jobs'));
    const refused = await submitFile(svc.url, { name: 'more.pdf', bytes: twoPages });
    expect(refused.status).toBe(429);
    const body = await json(refused);
    expect(body.error_code).toBe('QUOTA_DAILY_PAGES');
    expect(body.detail).toContain('5 pages a day');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await readdir(path.join(svc.dataDir, 'storage', 'jobs'))).toEqual(before);

    const checked = await precheck(svc, { filename: 'more.pdf', size_bytes: 1000, page_count: 1 });
    expect(checked.decision).toBe('block');
    expect(checked.blocks.map((b) => b.code)).toContain('QUOTA_DAILY_PAGES');
  });
});

describe('audio minutes per day (QUOTA_AUDIO_MINUTES_PER_DAY)', () => {
  const prefix = testKeyPrefix('usage-audio');
  let svc: TestService;
  let speech: Buffer;
  let speechSec: number;
  beforeAll(async () => {
    // About 40 s of speech: one such recording fits in a minute a day, two do not.
    speech = await readFile(
      await makeSpokenWav(
        dir,
        `${'The river runs past the old mill every morning. '.repeat(12)}That is all for today.`,
      ),
    );
    speechSec = (speech.length - 44) / 32_000;
    svc = await startTestService('usage-audio', {
      REDIS_KEY_PREFIX: prefix,
      QUOTA_AUDIO_MINUTES_PER_DAY: '1',
    });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('counts the measured duration and refuses at upload the recording that would go over', async () => {
    expect(speechSec).toBeGreaterThan(30);
    expect(speechSec).toBeLessThan(60);
    const precheckFirst = await precheck(svc, {
      filename: 'talk.wav',
      size_bytes: speech.length,
      duration_sec: 90,
    });
    expect(precheckFirst.blocks.map((b) => b.code)).toContain('QUOTA_DAILY_AUDIO_MINUTES');

    const first = await submitAndWait(svc, 'talk.wav', speech);
    expect(first.status).toBe('COMPLETED');
    const used = Math.ceil(first.media_duration_sec ?? 0);
    expect(await usedToday(prefix, first.job_id, 'audio-sec')).toBe(used);

    // ffprobe measured it at upload: ~40 s more than the minute allows, refused before any job exists.
    const before = await readdir(path.join(svc.dataDir, 'storage', 'jobs'));
    const refused = await submitFile(svc.url, { name: 'again.wav', bytes: speech });
    expect(refused.status).toBe(429);
    const body = await json(refused);
    expect(body.error_code).toBe('QUOTA_DAILY_AUDIO_MINUTES');
    expect(body.detail).toContain('of your 1 audio minutes a day (UTC) used it would go over the limit');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await readdir(path.join(svc.dataDir, 'storage', 'jobs'))).toEqual(before);
    expect(await usedToday(prefix, first.job_id, 'audio-sec')).toBe(used);
  });
});

describe('cost thresholds at the worker, warnings on the job, a retried job counted once', () => {
  const prefix = testKeyPrefix('usage-cost');
  let svc: TestService;
  let server: GeminiLoopback;
  let threeScans: Buffer;
  let twoScans: Buffer;
  beforeAll(async () => {
    server = await startGeminiLoopback();
    threeScans = await readFile((await makeScannedPdf(dir, 3, { dpi: 100 })).path);
    twoScans = await readFile((await makeScannedPdf(dir, 2, { dpi: 100 })).path);
    svc = await startTestService('usage-cost', {
      REDIS_KEY_PREFIX: prefix,
      GEMINI_API_KEY: 'test-key',
      GEMINI_MODEL: 'gemini-test',
      GEMINI_BASE_URL: server.baseUrl,
      OCR_ENGINE: 'gemini',
      OCR_DPI: '100',
      OCR_PAGES_IN_FLIGHT: '1',
      COST_PER_PAGE_GEMINI: '1',
      COST_WARN_PER_JOB: '1.5',
      COST_BLOCK_PER_JOB: '2.5',
      QUOTA_PAGES_PER_DAY: '3',
    });
  });
  beforeEach(() => {
    server.requests.length = 0;
    server.replies.length = 0;
  });
  afterAll(async () => {
    await svc?.close();
    await server?.close();
  });

  it('fails a job priced above COST_BLOCK_PER_JOB permanently, before any engine call and uncounted', async () => {
    const job = await submitAndWait(svc, 'three.pdf', threeScans);
    expect(job).toMatchObject({
      status: 'FAILED',
      error_code: 'COST_LIMIT_EXCEEDED',
      attempts: 1,
      page_count: 3,
    });
    expect(job.error_message).toContain('the limit per job is 2.5');
    expect(server.requests).toHaveLength(0);
    expect(await usedToday(prefix, job.job_id, 'pages')).toBe(0);
  });

  it('lets a job priced above COST_WARN_PER_JOB through with a COST_HIGH warning, counted once over its retry', async () => {
    // The first page's call is rate limited: the job is retried by the retry policy. Counted
    // twice, its 2 pages would be 4 of the 3 allowed and the second attempt refused.
    server.replies.push({
      status: 429,
      error: { code: 429, message: 'Resource has been exhausted.', status: 'RESOURCE_EXHAUSTED' },
    });
    const job = await submitAndWait(svc, 'two.pdf', twoScans);
    expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2, page_count: 2 });
    expect(job.warnings).toEqual([
      { code: 'COST_HIGH', message: 'The job would cost about 2.00 on gemini (warning above 1.5).' },
    ]);
    expect(await usedToday(prefix, job.job_id, 'pages')).toBe(2);
  });

  it('keeps the extension-vs-content warning of a PNG named .jpg on the job through processing', async () => {
    const job = await submitAndWait(svc, 'photo.jpg', TINY_PNG);
    expect(job.status).toBe('COMPLETED');
    expect(job.warnings).toEqual([
      {
        code: 'FILE_EXTENSION_DIFFERS',
        message: 'The file is named .jpg but its content is image/png; it is read as image/png.',
      },
    ]);
    expect(await usedToday(prefix, job.job_id, 'pages')).toBe(3);
  });
});
