import type { Redis } from 'ioredis';
import { errorFields, type Logger } from '../observability/logger.js';
import type { RedisKeys } from './redis-keys.js';
import { forEachOwnerIndexedJob } from './scan-owner-indexes.js';

/** Adds the job to the active index only if its record is still QUEUED or PROCESSING, atomically. */
const ADD_IF_ACTIVE = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'QUEUED' or status == 'PROCESSING' then return redis.call('ZADD', KEYS[2], 'NX', 0, ARGV[1]) end
return 0`;

const ACTIVE_STATUSES = ['QUEUED', 'PROCESSING'] as const;

/**
 * The upgrade path of the active-job index (`<prefix>:jobs:active`): jobs created before the
 * status scripts kept it are found through their owners' per-status history indexes and added, so
 * the reconciler sees them. Runs once per deployment (a marker key records it); idempotent and
 * safe beside running workers. Returns how many jobs it added.
 */
export async function backfillActiveIndex(redis: Redis, keys: RedisKeys, logger: Logger): Promise<number> {
  const marker = keys.activeJobsBackfilled();
  if ((await redis.exists(marker)) === 1) return 0;
  let added = 0;
  try {
    for (const status of ACTIVE_STATUSES) {
      await forEachOwnerIndexedJob(redis, keys.prefix, `:status:${status}`, async (jobId) => {
        added += Number(await redis.eval(ADD_IF_ACTIVE, 2, keys.job(jobId), keys.activeJobs(), jobId));
      });
    }
  } catch (error) {
    // Not fatal: the next start tries again; meanwhile such jobs enter at their next change.
    logger.warn({ event: 'jobs.active_index_backfill_failed', ...errorFields(error) }, 'backfill failed');
    return added;
  }
  await redis.set(marker, new Date().toISOString());
  logger.info({ event: 'jobs.active_index_backfilled', added }, 'active-job index backfilled');
  return added;
}
