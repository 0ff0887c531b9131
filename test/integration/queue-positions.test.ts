import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobQueues } from '../../src/jobs/job-queues.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { connectTestRedis, deleteKeysWithPrefix, testKeyPrefix } from '../helpers/test-redis.js';

// Positions are looked for from the tail first, then from the head: both ends and the middle of a
// wait list longer than the near-tail window must still come out exact.
const WAITING = 700;
const prefix = testKeyPrefix('queue-positions');
const redis = connectTestRedis();
const queues = new JobQueues(redis, new RedisKeys(prefix));
const ids = Array.from({ length: WAITING }, (_, i) => `job-${String(i).padStart(4, '0')}`);

beforeAll(async () => {
  for (const id of ids) await queues.enqueue({ job_id: id, request_id: 'r', job_type: 'OCR' });
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await Promise.all([queues.queueFor('OCR').close(), queues.queueFor('TRANSCRIPTION').close()]);
  await redis.quit();
});

describe('queue positions of a long wait list', () => {
  it('are exact near the tail, near the head and in the middle, in the order asked', async () => {
    const asked = [ids[0], ids[1], ids[255], ids[256], ids[350], ids[698], ids[699]] as string[];
    expect(await queues.positionsOf('OCR', asked)).toEqual([1, 2, 256, 257, 351, 699, 700]);
  });

  it('are null for a job that is not waiting, without disturbing the others', async () => {
    expect(await queues.positionsOf('OCR', ['nope', ids[10] as string])).toEqual([null, 11]);
    expect(await queues.positionOf('OCR', ids[500] as string)).toBe(501);
  });
});
