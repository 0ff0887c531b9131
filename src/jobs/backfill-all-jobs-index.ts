import type { Redis } from 'ioredis';
import { JOB_STATUSES, JOB_TYPES, type JobType } from '../contract/index.js';
import { errorFields, type Logger } from '../observability/logger.js';
import type { JobStore } from './job-store.js';
import { forEachOwnerIndexedJob } from './scan-owner-indexes.js';

/**
 * Adds one job to the index of every owner's jobs by its record's status at this instant, in one
 * step with reading it, so a status change cannot slip in between (the scripts move it from then
 * on). KEYS[1] the job hash, KEYS[2..] JobStore.allJobsKeys(type). A deleted job adds nothing.
 */
const ADD_TO_ALL_JOBS = `
local STATUSES = {${JOB_STATUSES.map((s) => `'${s}'`).join(', ')}}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
local added = redis.call('ZADD', KEYS[2], 'NX', 0, ARGV[1])
redis.call('ZADD', KEYS[3], 'NX', 0, ARGV[1])
for i, s in ipairs(STATUSES) do
  if s == status then
    redis.call('ZADD', KEYS[3 + i], 'NX', 0, ARGV[1])
    redis.call('ZADD', KEYS[3 + #STATUSES + i], 'NX', 0, ARGV[1])
  end
end
return added`;

/**
 * The upgrade path of the index of every owner's jobs (`<prefix>:jobs:all…`, `GET /v1/admin/jobs`):
 * jobs created before the scripts kept it are found through their owners' history indexes
 * (`<prefix>:user:*:jobs`) and added. Runs once per deployment (a marker key records it) when an
 * API process starts; idempotent and safe beside running workers. Returns how many jobs it added.
 */
export async function backfillAllJobsIndex(redis: Redis, store: JobStore, logger: Logger): Promise<number> {
  const keys = store.keys;
  const marker = keys.allJobsBackfilled();
  if ((await redis.exists(marker)) === 1) return 0;
  let added = 0;
  try {
    await forEachOwnerIndexedJob(redis, keys.prefix, '', async (jobId) => {
      // The type never changes: read it first to name that type's keys.
      const type = (await redis.hget(keys.job(jobId), 'job_type')) as JobType | null;
      if (!type || !JOB_TYPES.includes(type)) return;
      const jobKeys = [keys.job(jobId), ...store.allJobsKeys(type)];
      added += Number(await redis.eval(ADD_TO_ALL_JOBS, jobKeys.length, ...jobKeys, jobId));
    });
  } catch (error) {
    // Not fatal: the next start tries again; meanwhile such jobs are missing from the admin list.
    logger.warn({ event: 'jobs.all_index_backfill_failed', ...errorFields(error) }, 'backfill failed');
    return added;
  }
  await redis.set(marker, new Date().toISOString());
  logger.info({ event: 'jobs.all_index_backfilled', added }, 'index of all jobs backfilled');
  return added;
}
