import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job as BullJob, Queue } from 'bullmq';
import { loadConfig } from '../../src/config/index.js';
import { type Job, type JobType, QUEUE_NAMES } from '../../src/contract/index.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/observability/logger.js';
import { type RunningService, startService } from '../../src/service/start-service.js';
import { connectTestRedis, deleteKeysWithPrefix, TEST_REDIS_URL, testKeyPrefix } from './test-redis.js';

export interface TestService {
  url: string;
  service: RunningService;
  dataDir: string;
  /** Every JSON log line the service wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** The BullMQ job behind a job id, if it is still on its queue. */
  queuedJob(type: JobType, jobId: string): Promise<BullJob | undefined>;
  close(): Promise<void>;
}

/** Tests poll fast; a test about rate limits or quotas sets its own. */
export const LIMITS_OFF: Readonly<Record<string, string>> = {
  RATE_LIMIT_MAX: '0',
  RATE_LIMIT_PUBLIC_MAX: '0',
  RATE_LIMIT_ANONYMOUS_MAX: '0',
  QUOTA_ACTIVE_JOBS: '0',
  QUOTA_JOBS_PER_DAY: '0',
};

/** Starts the real service in this process on a free port, with its own Redis prefix and data dir. */
export async function startTestService(name: string, env: Record<string, string> = {}): Promise<TestService> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `dt-${name}-`));
  // Instances given the same REDIS_KEY_PREFIX share one deployment's keys (API replicas, workers).
  const prefix = env.REDIS_KEY_PREFIX ?? testKeyPrefix(name);
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: dataDir,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: 'debug',
    JOB_RETRY_BASE_DELAY_MS: '200',
    JOB_RETRY_RATE_LIMIT_BASE_DELAY_MS: '400',
    ...LIMITS_OFF,
    ...env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger({ level: config.logLevel, role: config.role, destination });
  const service = await startService(config, logger);
  return {
    url: service.url ?? '',
    service,
    dataDir,
    logs,
    async queuedJob(type, jobId) {
      const connection = connectTestRedis();
      const queue = new Queue(QUEUE_NAMES[type], { connection, prefix: new RedisKeys(prefix).queuePrefix() });
      try {
        return await queue.getJob(jobId);
      } finally {
        await queue.close();
        await connection.quit();
      }
    },
    async close() {
      await service.close();
      const redis = connectTestRedis();
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls a job against a deadline until `done` says so; fails with the last state seen. */
export async function waitForJob(
  baseUrl: string,
  jobId: string,
  done: (job: Job) => boolean = (job) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status),
  timeoutMs = 90_000,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  let last: Job | undefined;
  while (Date.now() < deadline) {
    const response = await fetch(`${baseUrl}/v1/jobs/${jobId}`);
    last = (await response.json()) as Job;
    if (done(last)) return last;
    await sleep(100);
  }
  throw new Error(`job ${jobId} did not reach the expected state; last seen: ${JSON.stringify(last)}`);
}

export async function submitFile(
  baseUrl: string,
  file: { name: string; bytes: Uint8Array },
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append('file', new Blob([file.bytes]), file.name);
  return fetch(`${baseUrl}/v1/jobs`, { method: 'POST', body: form, headers });
}
