import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { RetryConfig } from '../../src/config/index.js';
import type { DeadLetter, JobStatus } from '../../src/contract/index.js';
import { DeadLetterStore } from '../../src/jobs/dead-letter-store.js';
import { JobQueues } from '../../src/jobs/job-queues.js';
import type { JobRecord } from '../../src/jobs/job-record.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { storageKeys } from '../../src/jobs/storage-keys.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Pipeline } from '../../src/pipelines/pipeline.js';
import { LocalDiskStorage } from '../../src/storage/local-disk-storage.js';
import { type RunningWorker, startWorker } from '../../src/worker/start-worker.js';
import { newRecord } from './job-record-fixture.js';
import { connectTestRedis, deleteKeysWithPrefix, testKeyPrefix } from './test-redis.js';

export const FAST_RETRY: RetryConfig = {
  retries: { transient: 3, rate_limit: 2, timeout: 1, internal: 1 },
  baseDelayMs: 300,
  rateLimitBaseDelayMs: 600,
  maxDelayMs: 2000,
};

/**
 * The real worker (BullMQ, Lua transitions, dead letters) on real Redis with pipelines a test
 * supplies: our own Pipeline implementations, so only the engines are left out.
 */
export interface WorkerHarness {
  redis: Redis;
  keys: RedisKeys;
  store: JobStore;
  queues: JobQueues;
  storage: LocalDiskStorage;
  /** The directory `storage` keeps its objects in (a key is a path under it). */
  storageDir: string;
  deadLetters: DeadLetterStore;
  logs: Array<Record<string, unknown>>;
  /** Writes into `logs`. */
  logger: ReturnType<typeof createLogger>;
  startWorker(overrides?: { lockDurationMs?: number; stalledIntervalMs?: number }): Promise<RunningWorker>;
  /** Creates a QUEUED OCR job record with an input in storage; `enqueue: false` leaves it off the queue. */
  createJob(options?: { enqueue?: boolean }): Promise<string>;
  waitForStatus(jobId: string, statuses: JobStatus[], timeoutMs?: number): Promise<JobRecord>;
  /** Waits for a job's dead letter (written by its FAILED transition in the same atomic step). */
  waitForDeadLetter(jobId: string, timeoutMs?: number): Promise<DeadLetter>;
  close(): Promise<void>;
}

export async function startWorkerHarness(
  name: string,
  pipeline: Pipeline,
  retry = FAST_RETRY,
): Promise<WorkerHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `dt-${name}-`));
  const redis = connectTestRedis();
  const prefix = testKeyPrefix(name);
  const keys = new RedisKeys(prefix);
  const store = new JobStore(redis, keys);
  const queues = new JobQueues(redis, keys);
  const storageDir = path.join(dir, 'storage');
  const storage = new LocalDiskStorage(storageDir);
  const deadLetters = new DeadLetterStore(redis, keys, store, queues);
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', role: 'worker', destination });
  const workers: RunningWorker[] = [];

  return {
    redis,
    keys,
    store,
    queues,
    storage,
    storageDir,
    deadLetters,
    logs,
    logger,
    async startWorker(overrides = {}) {
      const worker = await startWorker({
        connection: redis,
        store,
        storage,
        queues,
        pipelines: { OCR: pipeline, TRANSCRIPTION: pipeline },
        workerQueues: ['ocr', 'transcription'],
        concurrency: { ocr: 2, transcription: 1 },
        tmpDir: path.join(dir, 'tmp'),
        retry,
        extraWork: { min: 20, perUnit: 0.5 },
        lockDurationMs: overrides.lockDurationMs ?? 30_000,
        stalledIntervalMs: overrides.stalledIntervalMs ?? 30_000,
        maxStalledCount: 1,
        reconcilerIntervalMs: 0,
        logger,
      });
      workers.push(worker);
      return worker;
    },
    async createJob(options = {}) {
      const base = newRecord('tester');
      const jobId = base.job_id;
      await storage.put(storageKeys.input(jobId), 'input bytes');
      const record: JobRecord = {
        ...base,
        request_id: `req-${jobId}`,
        input_filename: 'scan.png',
        input_size_bytes: 11,
        input_mime: 'image/png',
        input_key: storageKeys.input(jobId),
        input_sha256: 'x',
      };
      await store.create(record);
      if (options.enqueue !== false) {
        await queues.enqueue({ job_id: jobId, request_id: record.request_id, job_type: 'OCR' });
      }
      return jobId;
    },
    async waitForStatus(jobId, statuses, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: JobRecord | null = null;
      while (Date.now() < deadline) {
        last = await store.get(jobId);
        if (last && statuses.includes(last.status)) return last;
        await sleep(25);
      }
      throw new Error(`job ${jobId} never reached ${statuses.join('|')}; last: ${JSON.stringify(last)}`);
    },
    async waitForDeadLetter(jobId, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const letter = await deadLetters.get(jobId);
        if (letter) return letter;
        await sleep(25);
      }
      throw new Error(`no dead letter for ${jobId}`);
    },
    async close() {
      for (const worker of workers) await worker.close(5000);
      await queues.close();
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
