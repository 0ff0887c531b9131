import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetryConfig } from '../../src/config/index.js';
import { AppError, CONTRACT_VERSION, type ErrorCode, type JobStatus } from '../../src/contract/index.js';
import { DeadLetterStore } from '../../src/jobs/dead-letter-store.js';
import { JobQueues } from '../../src/jobs/job-queues.js';
import type { JobRecord } from '../../src/jobs/job-record.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { newJobId } from '../../src/jobs/new-job-id.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { storageKeys } from '../../src/jobs/storage-keys.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Pipeline } from '../../src/pipelines/pipeline.js';
import { LocalDiskStorage } from '../../src/storage/local-disk-storage.js';
import { RetryPolicy } from '../../src/worker/retry-policy.js';
import { type RunningWorker, startWorker } from '../../src/worker/start-worker.js';
import { connectTestRedis, deleteKeysWithPrefix, testKeyPrefix } from '../helpers/test-redis.js';

// The real worker on real Redis; only the pipeline is ours: it fails as told, then succeeds.
const RETRY: RetryConfig = {
  retries: { transient: 3, rate_limit: 2, timeout: 1, internal: 1 },
  baseDelayMs: 300,
  rateLimitBaseDelayMs: 600,
  maxDelayMs: 2000,
};

interface Script {
  failures: Array<{ code: ErrorCode; details?: Record<string, unknown> }>;
  startedAt: number[];
}
const scripts = new Map<string, Script>();

/** A real Pipeline: throws the scripted AppErrors one per attempt, then produces a text output. */
const scriptedPipeline: Pipeline = async (input, context) => {
  const script = scripts.get(input.jobId);
  if (!script) throw new Error(`no script for ${input.jobId}`);
  script.startedAt.push(Date.now());
  await context.reportProgress({ stage: 'working', progress: 10 });
  const failure = script.failures.shift();
  if (failure)
    throw new AppError(failure.code, undefined, failure.details ? { details: failure.details } : {});
  return { outputs: { txt: `done ${input.jobId}` }, engine: 'scripted 1', quality: null };
};

let redis: Redis;
let prefix: string;
let keys: RedisKeys;
let store: JobStore;
let queues: JobQueues;
let storage: LocalDiskStorage;
let deadLetters: DeadLetterStore;
let worker: RunningWorker;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-retry-'));
  redis = connectTestRedis();
  prefix = testKeyPrefix('retry');
  keys = new RedisKeys(prefix);
  store = new JobStore(redis, keys);
  queues = new JobQueues(redis, keys);
  storage = new LocalDiskStorage(path.join(dir, 'storage'));
  deadLetters = new DeadLetterStore(redis, keys, store, queues);
  worker = await startWorker({
    connection: redis,
    store,
    storage,
    pipelines: { OCR: scriptedPipeline, TRANSCRIPTION: scriptedPipeline },
    queues: ['ocr', 'transcription'],
    concurrency: { ocr: 2, transcription: 1 },
    tmpDir: path.join(dir, 'tmp'),
    retry: RETRY,
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
    maxStalledCount: 1,
    logger: createLogger({ level: 'silent', role: 'worker' }),
  });
});

afterAll(async () => {
  await worker?.close(5000);
  await queues?.close();
  await deleteKeysWithPrefix(redis, prefix);
  await redis?.quit();
  await rm(dir, { recursive: true, force: true });
});

async function submit(failures: Script['failures']): Promise<{ jobId: string; script: Script }> {
  const jobId = newJobId();
  const script: Script = { failures, startedAt: [] };
  scripts.set(jobId, script);
  const now = new Date().toISOString();
  await storage.put(storageKeys.input(jobId), 'input bytes');
  const record: JobRecord = {
    contract_version: CONTRACT_VERSION,
    job_id: jobId,
    job_type: 'OCR',
    content_subtype: 'general',
    status: 'QUEUED',
    stage: 'queued',
    progress: 0,
    request_id: `req-${jobId}`,
    input_filename: 'scan.png',
    input_size_bytes: 11,
    input_mime: 'image/png',
    language: 'hin+eng',
    page_count: null,
    media_duration_sec: null,
    processing_duration_sec: null,
    engine: null,
    outputs: {},
    quality: null,
    error_code: null,
    error_message: null,
    attempts: 0,
    retry_of_job_id: null,
    cancel_requested: false,
    created_at: now,
    started_at: null,
    finished_at: null,
    updated_at: now,
    owner_id: 'tester',
    input_key: storageKeys.input(jobId),
    input_sha256: 'x',
  };
  await store.create(record);
  await queues.enqueue({ job_id: jobId, request_id: record.request_id, job_type: 'OCR' });
  return { jobId, script };
}

async function waitForStatus(jobId: string, statuses: JobStatus[], timeoutMs = 20_000): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: JobRecord | null = null;
  while (Date.now() < deadline) {
    last = await store.get(jobId);
    if (last && statuses.includes(last.status)) return last;
    await sleep(25);
  }
  throw new Error(`job ${jobId} never reached ${statuses.join('|')}; last: ${JSON.stringify(last)}`);
}

describe('retries and dead letters through the real worker', () => {
  it('retries transient failures with full-jitter backoff and then completes', async () => {
    const { jobId, script } = await submit([
      { code: 'ENGINE_UNAVAILABLE' },
      { code: 'ENGINE_UNAVAILABLE' },
      { code: 'ENGINE_UNAVAILABLE' },
    ]);
    const seenStages = new Set<string>();
    const deadline = Date.now() + 20_000;
    let record = await store.get(jobId);
    while (record?.status !== 'COMPLETED' && Date.now() < deadline) {
      if (record?.status === 'QUEUED' && record.stage.startsWith('retry')) {
        seenStages.add(record.stage);
        expect(record.next_attempt_at).toMatch(/Z$/);
      }
      await sleep(10);
      record = await store.get(jobId);
    }
    expect(record).toMatchObject({ status: 'COMPLETED', attempts: 4, error_code: null });
    expect(record?.next_attempt_at ?? null).toBeNull();
    expect([...seenStages].every((stage) => /^retry scheduled \([2-4]\/4\)$/.test(stage))).toBe(true);
    expect(script.startedAt).toHaveLength(4);

    // Attempt n+1 starts no earlier than allowed and not (much) later than the jitter's upper bound.
    const policy = new RetryPolicy(RETRY);
    for (let n = 1; n < script.startedAt.length; n++) {
      const gap = (script.startedAt[n] ?? 0) - (script.startedAt[n - 1] ?? 0);
      const { high } = policy.boundsFor('transient', n);
      expect(gap).toBeGreaterThanOrEqual(0);
      // Slack for the worker's own work between attempts and BullMQ's delayed-job promotion.
      expect(gap).toBeLessThanOrEqual(high + 1500);
    }
    const history = await deadLetters.attemptsOf(jobId);
    expect(history.map((entry) => [entry.kind, entry.attempt, entry.error_code, entry.error_class])).toEqual([
      ['failed', 1, 'ENGINE_UNAVAILABLE', 'transient'],
      ['failed', 2, 'ENGINE_UNAVAILABLE', 'transient'],
      ['failed', 3, 'ENGINE_UNAVAILABLE', 'transient'],
    ]);
    expect(await deadLetters.get(jobId)).toBeNull();
  });

  it('honours a rate limit retry-after as the earliest next attempt', async () => {
    const { jobId, script } = await submit([
      { code: 'ENGINE_RATE_LIMITED', details: { retry_after_ms: 900 } },
    ]);
    await waitForStatus(jobId, ['COMPLETED']);
    const gap = (script.startedAt[1] ?? 0) - (script.startedAt[0] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(900 - 50);
    expect(gap).toBeLessThanOrEqual(new RetryPolicy(RETRY).boundsFor('rate_limit', 1, 900).high + 1500);
  });

  it('fails an input error at once with a dead letter holding the request and the attempt', async () => {
    const { jobId, script } = await submit([{ code: 'PDF_ENCRYPTED' }]);
    const record = await waitForStatus(jobId, ['FAILED']);
    expect(record).toMatchObject({ error_code: 'PDF_ENCRYPTED', attempts: 1, stage: 'failed' });
    expect(script.startedAt).toHaveLength(1);
    const letter = await deadLetters.get(jobId);
    expect(letter).toMatchObject({
      job_id: jobId,
      queue: 'ocr',
      error_code: 'PDF_ENCRYPTED',
      error_class: 'input',
      attempts: 1,
      failed_stage: 'working',
      worker_id: worker.workerId,
      request: {
        job_type: 'OCR',
        content_subtype: 'general',
        language: 'hin+eng',
        input_filename: 'scan.png',
        request_id: `req-${jobId}`,
      },
    });
    expect(letter?.attempt_history).toHaveLength(1);
  });

  it('dead-letters a job that exhausts its budget, and a replay runs it again exactly once', async () => {
    const { jobId, script } = await submit([{ code: 'INTERNAL_ERROR' }, { code: 'INTERNAL_ERROR' }]);
    const failed = await waitForStatus(jobId, ['FAILED']);
    expect(failed).toMatchObject({ error_code: 'INTERNAL_ERROR', attempts: 2 });
    const letter = await deadLetters.get(jobId);
    expect(letter?.attempt_history.map((entry) => entry.attempt)).toEqual([1, 2]);

    const listed = await deadLetters.list({ error_code: 'INTERNAL_ERROR', limit: 100 });
    expect(listed.items.map((item) => item.job_id)).toContain(jobId);

    const outcomes = await Promise.all([
      deadLetters.replay(jobId, 'ops-1'),
      deadLetters.replay(jobId, 'ops-2'),
    ]);
    expect(outcomes.sort()).toEqual(['already_queued', 'replayed']);
    const done = await waitForStatus(jobId, ['COMPLETED']);
    expect(done).toMatchObject({ error_code: null, attempts: 3, finished_at: expect.any(String) });
    expect(script.startedAt).toHaveLength(3);
    expect(await deadLetters.get(jobId)).toBeNull();
    const history = await deadLetters.attemptsOf(jobId);
    expect(history.map((entry) => entry.kind)).toEqual(['failed', 'failed', 'replayed']);
    expect(history[2]).toMatchObject({ request_id: expect.stringMatching(/^ops-/), attempt: 2 });
    expect(await deadLetters.replay(jobId, 'ops-3')).toBe('not_failed');
  });

  it('lists dead letters newest first across pages, filters them and purges them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { jobId } = await submit([{ code: 'UNSUPPORTED_MEDIA_TYPE' }]);
      await waitForStatus(jobId, ['FAILED']);
      ids.push(jobId);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await deadLetters.list({
        error_code: 'UNSUPPORTED_MEDIA_TYPE',
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.items.map((item) => item.job_id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await deadLetters.list({ queue: 'transcription', limit: 10 })).items).toEqual([]);
    expect((await deadLetters.list({ until: '2000-01-01T00:00:00.000Z', limit: 10 })).items).toEqual([]);
    expect(await deadLetters.purge()).toBeGreaterThanOrEqual(3);
    expect((await deadLetters.list({ limit: 10 })).items).toEqual([]);
    expect((await store.get(ids[0] ?? ''))?.status).toBe('FAILED');
  });
});
