import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/job-record.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { newRecord } from '../helpers/job-record-fixture.js';
import { connectTestRedis, deleteKeysWithPrefix, testKeyPrefix } from '../helpers/test-redis.js';

// Final transitions are announced (webhooks queued) through an outbox written inside the
// transition's own Lua step: a process that dies between the transition and its listener, or a
// listener that fails, leaves the job in the outbox, and another process announces it later.
const prefix = testKeyPrefix('final-outbox');
const keys = new RedisKeys(prefix);
let redis: Redis;

beforeAll(() => {
  redis = connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

const pending = () => redis.zrange(keys.finalAnnouncements(), 0, -1);

describe('the final-announcement outbox', () => {
  it('is written by the final transition and cleared once the listener took it', async () => {
    const heard: string[] = [];
    const store = new JobStore(redis, keys, {
      onFinal: async (record) => {
        heard.push(`${record.job_id}:${record.status}`);
        return true;
      },
    });
    const record = newRecord('alice');
    await store.create(record);
    await store.transition(record.job_id, 'PROCESSING', {}, { countAttempt: true });
    expect(await pending()).not.toContain(record.job_id);
    await store.transition(record.job_id, 'COMPLETED', { progress: 100 });
    expect(heard).toEqual([`${record.job_id}:COMPLETED`]);
    expect(await pending()).not.toContain(record.job_id);
  });

  it('keeps a job whose announcement failed, and another process announces it later, once', async () => {
    const failing = new JobStore(redis, keys, { onFinal: async () => false });
    const record = newRecord('bob');
    await failing.create(record);
    await failing.transition(record.job_id, 'PROCESSING', {}, { countAttempt: true });
    await failing.transition(record.job_id, 'FAILED', {
      error_code: 'INPUT_UNREADABLE',
      error_message: 'bad',
    });
    expect(await pending()).toContain(record.job_id);

    const heard: JobRecord[] = [];
    const other = new JobStore(redis, keys, {
      onFinal: async (r) => {
        heard.push(r);
        return true;
      },
    });
    // Too recent for the grace period: left alone.
    expect(await other.announcePending(60_000)).toEqual([]);
    expect(await other.announcePending(0, 200, Date.now() + 1)).toContain(record.job_id);
    expect(heard.map((r) => [r.job_id, r.status, r.error_code])).toEqual([
      [record.job_id, 'FAILED', 'INPUT_UNREADABLE'],
    ]);
    expect(await pending()).not.toContain(record.job_id);
    expect(await other.announcePending(0, 200, Date.now() + 1)).not.toContain(record.job_id);
  });

  it('covers a queued job cancelled at once, and forgets a job deleted before it was announced', async () => {
    const failing = new JobStore(redis, keys, { onFinal: async () => false });
    const cancelled = newRecord('carol');
    await failing.create(cancelled);
    expect((await failing.requestCancel(cancelled.job_id)).outcome).toBe('cancelled');
    expect(await pending()).toContain(cancelled.job_id);

    const deleted = newRecord('carol');
    await failing.create(deleted);
    await failing.requestCancel(deleted.job_id);
    await failing.remove(deleted);

    const heard: string[] = [];
    const other = new JobStore(redis, keys, {
      onFinal: async (r) => {
        heard.push(r.job_id);
        return true;
      },
    });
    await other.announcePending(0, 200, Date.now() + 1);
    expect(heard).toEqual([cancelled.job_id]);
    expect(await pending()).toEqual([]);
  });
});
