import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATUSES, JOB_TYPES } from '../../src/contract/index.js';
import { backfillAllJobsIndex } from '../../src/jobs/backfill-all-jobs-index.js';
import type { JobRecord } from '../../src/jobs/job-record.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/observability/logger.js';
import { newRecord } from '../helpers/job-record-fixture.js';
import { connectTestRedis, deleteKeysWithPrefix, testKeyPrefix } from '../helpers/test-redis.js';

const prefix = testKeyPrefix('all-jobs-index');
const keys = new RedisKeys(prefix);
let redis: Redis;
let store: JobStore;
const logs: Array<Record<string, unknown>> = [];
const logger = createLogger({
  level: 'info',
  role: 'api',
  destination: new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      callback();
    },
  }),
});

beforeAll(() => {
  redis = connectTestRedis();
  store = new JobStore(redis, keys);
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

/** A job of `owner`, `ms` milliseconds after `base`, so ids sort in the order they are made. */
let clock = Date.now();
async function createJob(owner: string, jobType: JobRecord['job_type'] = 'OCR'): Promise<string> {
  clock += 10;
  const record = { ...newRecord(owner, clock), job_type: jobType };
  await store.create(record);
  return record.job_id;
}

/** Every slice of the index of all jobs. */
function allSlices(): string[] {
  return [
    keys.allJobs(),
    ...JOB_TYPES.map((jobType) => keys.allJobs({ jobType })),
    ...JOB_STATUSES.map((status) => keys.allJobs({ status })),
    ...JOB_TYPES.flatMap((jobType) => JOB_STATUSES.map((status) => keys.allJobs({ jobType, status }))),
  ];
}

async function idsOfAll(query: Parameters<JobStore['listAll']>[0]): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listAll({ ...query, after });
    ids.push(...page.records.map((r) => r.job_id));
    if (!page.after) return ids;
    after = page.after;
  }
}

describe('the index of every owner’s jobs', () => {
  it('is kept by create, transition, cancel and remove, and pages newest first with counts', async () => {
    await Promise.all(allSlices().map((key) => redis.del(key)));
    const a1 = await createJob('alice');
    const b1 = await createJob('bob', 'TRANSCRIPTION');
    const a2 = await createJob('alice', 'TRANSCRIPTION');
    const b2 = await createJob('bob');
    const gone = await createJob('carol');
    await store.transition(a1, 'PROCESSING', {}, { countAttempt: true });
    await store.transition(a1, 'COMPLETED', { outputs: { txt: 1 }, progress: 100 });
    expect((await store.requestCancel(b1)).outcome).toBe('cancelled');
    expect(await store.remove({ job_id: gone, owner_id: 'carol', job_type: 'OCR' })).toBe(true);

    const page = await store.listAll({ limit: 10 });
    expect(page.records.map((r) => r.job_id)).toEqual([b2, a2, b1, a1]);
    expect(page.total).toBe(4);
    expect(page.counts.by_type).toEqual({ OCR: 2, TRANSCRIPTION: 2 });
    expect(page.counts.by_status).toMatchObject({ QUEUED: 2, COMPLETED: 1, CANCELLED: 1, PROCESSING: 0 });

    expect(await idsOfAll({ limit: 1 })).toEqual([b2, a2, b1, a1]);
    expect(await idsOfAll({ limit: 1, statuses: ['QUEUED'] })).toEqual([b2, a2]);
    expect(await idsOfAll({ limit: 1, jobType: 'TRANSCRIPTION' })).toEqual([a2, b1]);
    expect(await idsOfAll({ limit: 2, jobType: 'OCR', statuses: ['COMPLETED', 'QUEUED'] })).toEqual([b2, a1]);
    // Nothing of the removed job is left in any slice.
    for (const key of allSlices()) expect(await redis.zscore(key, gone)).toBeNull();
  });

  it('is filled once from older jobs by the backfill, with each job in the slices of its status now', async () => {
    const queued = await createJob('dora');
    const failed = await createJob('erik', 'TRANSCRIPTION');
    await store.transition(failed, 'PROCESSING', {}, { countAttempt: true });
    await store.transition(failed, 'FAILED', { error_code: 'INPUT_UNREADABLE' });
    const expected = await idsOfAll({ limit: 100 });
    const expectedFailed = await idsOfAll({ limit: 100, jobType: 'TRANSCRIPTION', statuses: ['FAILED'] });
    expect(expected).toContain(queued);
    expect(expectedFailed).toEqual([failed]);
    // As before the scripts kept the index: none of it exists.
    await Promise.all(allSlices().map((key) => redis.del(key)));
    expect((await store.listAll({ limit: 100 })).total).toBe(0);

    expect(await backfillAllJobsIndex(redis, store, logger)).toBe(expected.length);
    expect(await idsOfAll({ limit: 100 })).toEqual(expected);
    expect(await idsOfAll({ limit: 100, jobType: 'TRANSCRIPTION', statuses: ['FAILED'] })).toEqual([failed]);
    expect(await idsOfAll({ limit: 100, statuses: ['QUEUED'] })).toContain(queued);
    expect(logs.filter((l) => l.event === 'jobs.all_index_backfilled')).toEqual([
      expect.objectContaining({ added: expected.length }),
    ]);

    // The marker makes later starts skip the walk.
    const late = await createJob('dora');
    await redis.zrem(keys.allJobs(), late);
    expect(await backfillAllJobsIndex(redis, store, logger)).toBe(0);
    expect(await redis.zscore(keys.allJobs(), late)).toBeNull();
    expect(logs.filter((l) => l.event === 'jobs.all_index_backfilled')).toHaveLength(1);
  });
});
