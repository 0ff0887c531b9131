import type { Redis } from 'ioredis';
import { AppError, type JobType } from '../contract/index.js';
import type { RedisKeys } from './redis-keys.js';

export interface UsageLimits {
  /** Pages read by OCR per user per UTC day; 0: no limit. */
  pagesPerDay: number;
  /** Minutes of media transcribed per user per UTC day; 0: no limit. */
  audioMinutesPerDay: number;
}

/** What a job measured: its pages (OCR) or its media's whole seconds, rounded up (transcription). */
export interface JobUsage {
  unit: 'pages' | 'audio-sec';
  amount: number;
}

/** Left today (UTC): pages and audio seconds; null where there is no limit. */
export interface UsageLeft {
  pages: number | null;
  audioSec: number | null;
}

/**
 * Adds a job's pages or seconds to its owner's counter of the day unless that would go over the
 * limit, once per job: the job's marker (KEYS[2]) makes a retried or re-run attempt a no-op, in
 * the same step as the check, so concurrent jobs of one user cannot overshoot either.
 * Returns {1, used} when the job was counted before, {0, used} when refused, {2, used} when added.
 */
const CHARGE_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {1, tonumber(redis.call('GET', KEYS[1]) or '0')} end
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if used + amount > tonumber(ARGV[2]) then return {0, used} end
redis.call('INCRBY', KEYS[1], amount)
redis.call('EXPIRE', KEYS[1], 2 * 86400)
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
return {2, used + amount}`;

/** As long as a job's attempt history: a dead-letter replay within it is not counted again. */
const COUNTED_TTL_SEC = 30 * 86400;

/**
 * The one counting rule: a document's pages, a recording's seconds rounded up, from what was
 * measured (pages by `pdfinfo`, duration by ffprobe); null when nothing was.
 */
export function measuredUsage(
  jobType: JobType,
  facts: { page_count?: number | undefined; media_duration_sec?: number | undefined } | undefined,
): JobUsage | null {
  if (jobType === 'OCR') {
    const pages = facts?.page_count;
    return pages === undefined ? null : { unit: 'pages', amount: pages };
  }
  const seconds = facts?.media_duration_sec;
  return seconds === undefined ? null : { unit: 'audio-sec', amount: Math.ceil(seconds) };
}

export const utcDay = (now: Date) => now.toISOString().slice(0, 10);

const minutes = (sec: number) => `${Math.round((sec / 60) * 10) / 10}`;

function secondsToMidnight(now: Date): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((midnight - now.getTime()) / 1000);
}

/**
 * Per-user daily quotas on what jobs really measure (pages counted, duration from ffprobe), kept
 * in Redis so every worker and API replica shares them. The worker charges a job once it has
 * measured it; submit and precheck only read the counters.
 */
export class UsageQuota {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly limits: UsageLimits,
  ) {}

  private limitOf(unit: JobUsage['unit']): number {
    return unit === 'pages' ? this.limits.pagesPerDay : this.limits.audioMinutesPerDay * 60;
  }

  /**
   * Counts the job's usage on today's counter, or throws QUOTA_DAILY_PAGES /
   * QUOTA_DAILY_AUDIO_MINUTES when it would go over the limit (nothing is counted then).
   * Returns whether this call added it (false: no limit, or counted by an earlier attempt).
   */
  async charge(ownerId: string, jobId: string, usage: JobUsage, now = new Date()): Promise<boolean> {
    const limit = this.limitOf(usage.unit);
    if (limit === 0) return false;
    const day = utcDay(now);
    const [outcome, used] = (await this.redis.eval(
      CHARGE_SCRIPT,
      2,
      this.keys.userDailyUsage(ownerId, usage.unit, day),
      this.keys.jobUsageCounted(jobId),
      usage.amount,
      limit,
      `${usage.unit}:${day}:${usage.amount}`,
      COUNTED_TTL_SEC,
    )) as [number, number];
    if (outcome === 0) throw this.refusal(usage, used, now);
    return outcome === 2;
  }

  /** What the owner has left today; null for a unit without a limit. */
  async left(ownerId: string, now = new Date()): Promise<UsageLeft> {
    const day = utcDay(now);
    const read = async (unit: JobUsage['unit']) => {
      const limit = this.limitOf(unit);
      if (limit === 0) return null;
      const used = Number((await this.redis.get(this.keys.userDailyUsage(ownerId, unit, day))) ?? '0');
      return Math.max(0, limit - used);
    };
    const [pages, audioSec] = await Promise.all([read('pages'), read('audio-sec')]);
    return { pages, audioSec };
  }

  /** Refuses a submit early (429) when the owner has nothing left today for a job of this type. */
  async assertRoom(ownerId: string, jobType: JobType, now = new Date()): Promise<void> {
    const unit = jobType === 'OCR' ? 'pages' : 'audio-sec';
    if (this.limitOf(unit) === 0) return;
    const left = await this.left(ownerId, now);
    if ((unit === 'pages' ? left.pages : left.audioSec) === 0) {
      throw this.refusal({ unit, amount: 0 }, this.limitOf(unit), now);
    }
  }

  /**
   * Refuses (429) a job measured at upload whose pages or seconds would take its owner's day over
   * the limit, by the same rule as `charge`; counts nothing: the worker charges the job once.
   */
  async assertFits(ownerId: string, usage: JobUsage, now = new Date()): Promise<void> {
    const limit = this.limitOf(usage.unit);
    if (limit === 0) return;
    const used = Number(
      (await this.redis.get(this.keys.userDailyUsage(ownerId, usage.unit, utcDay(now)))) ?? '0',
    );
    if (used + usage.amount > limit) throw this.refusal(usage, used, now);
  }

  private refusal(usage: JobUsage, used: number, now: Date): AppError {
    const details = { details: { retry_after_sec: secondsToMidnight(now) } };
    if (usage.unit === 'pages') {
      const limit = this.limits.pagesPerDay;
      return new AppError(
        'QUOTA_DAILY_PAGES',
        usage.amount === 0
          ? `You have used all ${limit} pages a day (UTC) this service reads for you.`
          : `The document has ${usage.amount} pages; with ${used} of your ${limit} pages a day (UTC) used it would go over the limit.`,
        details,
      );
    }
    const limit = this.limits.audioMinutesPerDay;
    return new AppError(
      'QUOTA_DAILY_AUDIO_MINUTES',
      usage.amount === 0
        ? `You have used all ${limit} audio minutes a day (UTC) this service transcribes for you.`
        : `The recording is ${minutes(usage.amount)} minutes long; with ${minutes(used)} of your ${limit} audio minutes a day (UTC) used it would go over the limit.`,
      details,
    );
  }
}
