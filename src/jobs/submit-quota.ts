import type { Redis } from 'ioredis';
import { AppError } from '../contract/index.js';
import type { RedisKeys } from './redis-keys.js';

export interface SubmitQuotaLimits {
  /** Jobs QUEUED or PROCESSING at once per user (submits in flight included); 0: no limit. */
  activeJobs: number;
  /** Jobs submitted per user per UTC day; 0: no limit. */
  jobsPerDay: number;
}

/**
 * Checks both limits and takes one unit of each in one atomic step, so concurrent submits cannot
 * overshoot: a submit in flight is counted as `pending` until its job is in the QUEUED index.
 * Returns 0 when taken, 1 when the active limit is reached, 2 when the daily one is.
 */
const RESERVE_SCRIPT = `
local active_max = tonumber(ARGV[1])
local daily_max = tonumber(ARGV[2])
if active_max > 0 then
  local active = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + tonumber(redis.call('GET', KEYS[3]) or '0')
  if active >= active_max then return 1 end
end
if daily_max > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') >= daily_max then return 2 end
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], 2 * 86400)
return 0`;

/** Gives back what a submit took: always its pending unit, its daily unit when no job was made. */
const RELEASE_SCRIPT = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
if ARGV[1] == '1' and tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 0`;

/** A submit in flight longer than this (a crashed API process) stops counting as active. */
const PENDING_TTL_SEC = 3600;

export type QuotaRelease = (jobCreated: boolean) => Promise<void>;

/** Per-user limits on job submission, kept in Redis so every API replica shares them. */
export class SubmitQuota {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly limits: SubmitQuotaLimits,
  ) {}

  /** Takes one unit or throws a 429 quota code; call the returned function once the submit ends. */
  async reserve(ownerId: string, now = new Date()): Promise<QuotaRelease> {
    if (this.limits.activeJobs === 0 && this.limits.jobsPerDay === 0) return async () => {};
    const day = now.toISOString().slice(0, 10);
    const pendingKey = this.keys.userPendingSubmits(ownerId);
    const dayKey = this.keys.userDailySubmits(ownerId, day);
    const outcome = await this.redis.eval(
      RESERVE_SCRIPT,
      4,
      this.keys.userJobs(ownerId, { status: 'QUEUED' }),
      this.keys.userJobs(ownerId, { status: 'PROCESSING' }),
      pendingKey,
      dayKey,
      this.limits.activeJobs,
      this.limits.jobsPerDay,
      PENDING_TTL_SEC,
    );
    if (outcome === 1) {
      throw new AppError(
        'QUOTA_ACTIVE_JOBS',
        `You already have ${this.limits.activeJobs} jobs waiting or running; submit more when some have finished.`,
      );
    }
    if (outcome === 2) {
      const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
      throw new AppError(
        'QUOTA_DAILY_JOBS',
        `You have submitted ${this.limits.jobsPerDay} jobs today (UTC).`,
        {
          details: { retry_after_sec: Math.ceil((midnight - now.getTime()) / 1000) },
        },
      );
    }
    let released = false;
    return async (jobCreated) => {
      if (released) return;
      released = true;
      await this.redis.eval(RELEASE_SCRIPT, 2, pendingKey, dayKey, jobCreated ? '0' : '1');
    };
  }
}
