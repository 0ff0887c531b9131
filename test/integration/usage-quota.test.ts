import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/contract/index.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { measuredUsage, UsageQuota } from '../../src/jobs/usage-quota.js';
import { connectTestRedis, deleteKeysWithPrefix, testKeyPrefix } from '../helpers/test-redis.js';

// The daily usage counters on real Redis: atomic under concurrent jobs, once per job id.
const prefix = testKeyPrefix('usage-quota');
const keys = new RedisKeys(prefix);
let redis: Redis;

beforeAll(() => {
  redis = connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

const codeOf = (error: unknown) => (isAppError(error) ? error.code : String(error));

describe('UsageQuota', () => {
  it('lets exactly as many pages through as the limit when 30 jobs of one user are charged at once', async () => {
    const quota = new UsageQuota(redis, keys, { pagesPerDay: 100, audioMinutesPerDay: 0 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => quota.charge('alice', `job-${i}`, { unit: 'pages', amount: 7 })),
    );
    const charged = outcomes.filter((o) => o.status === 'fulfilled');
    // 14 × 7 = 98 fit in 100; a 15th would be 105.
    expect(charged).toHaveLength(14);
    for (const refused of outcomes.filter((o) => o.status === 'rejected')) {
      expect(codeOf(refused.reason)).toBe('QUOTA_DAILY_PAGES');
    }
    expect(await quota.left('alice')).toEqual({ pages: 2, audioSec: null });
    // Another user has a day of their own.
    expect(await quota.left('bob')).toEqual({ pages: 100, audioSec: null });
  });

  it('counts a job once however often its attempts are charged, and refuses nothing it already counted', async () => {
    const quota = new UsageQuota(redis, keys, { pagesPerDay: 0, audioMinutesPerDay: 1 });
    expect(await quota.charge('carol', 'talk', { unit: 'audio-sec', amount: 45 })).toBe(true);
    // The same job again (a retry, a re-run after a crash): not added, not refused.
    expect(await quota.charge('carol', 'talk', { unit: 'audio-sec', amount: 45 })).toBe(false);
    expect(await quota.left('carol')).toEqual({ pages: null, audioSec: 15 });
    const refusal = await quota.charge('carol', 'other', { unit: 'audio-sec', amount: 16 }).catch((e) => e);
    expect(codeOf(refusal)).toBe('QUOTA_DAILY_AUDIO_MINUTES');
    expect((refusal as Error).message).toContain('1 audio minutes a day');
    await expect(quota.assertRoom('carol', 'TRANSCRIPTION')).resolves.toBeUndefined();
    await quota.charge('carol', 'last', { unit: 'audio-sec', amount: 15 });
    expect(codeOf(await quota.assertRoom('carol', 'TRANSCRIPTION').catch((e) => e))).toBe(
      'QUOTA_DAILY_AUDIO_MINUTES',
    );
    // No page limit: OCR submits are never refused by it.
    await expect(quota.assertRoom('carol', 'OCR')).resolves.toBeUndefined();
  });

  it('judges a size measured at upload by the rule charge applies, counting nothing', async () => {
    const quota = new UsageQuota(redis, keys, { pagesPerDay: 0, audioMinutesPerDay: 1 });
    await quota.charge('dave', 'job-talk', { unit: 'audio-sec', amount: 40 });
    // 40 + 20 = 60 fits exactly; 40 + 21 does not, and the refusal names the limit.
    await quota.assertFits('dave', { unit: 'audio-sec', amount: 20 });
    const refused = await quota
      .assertFits('dave', { unit: 'audio-sec', amount: 21 })
      .catch((e: unknown) => e);
    expect(codeOf(refused)).toBe('QUOTA_DAILY_AUDIO_MINUTES');
    expect((refused as Error).message).toContain('of your 1 audio minutes a day (UTC)');
    expect(await quota.left('dave')).toEqual({ pages: null, audioSec: 20 });
    // No page limit: nothing to refuse.
    await quota.assertFits('dave', { unit: 'pages', amount: 10_000 });
  });
});

describe('measuredUsage', () => {
  it('counts a document by its pages and a recording by its seconds rounded up', () => {
    expect(measuredUsage('OCR', { page_count: 3 })).toEqual({ unit: 'pages', amount: 3 });
    expect(measuredUsage('TRANSCRIPTION', { media_duration_sec: 40.2 })).toEqual({
      unit: 'audio-sec',
      amount: 41,
    });
    expect(measuredUsage('TRANSCRIPTION', { page_count: 3 })).toBeNull();
    expect(measuredUsage('OCR', undefined)).toBeNull();
  });
});
