import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

/** Heartbeats older than this are dropped: the process is gone, its series should go too. */
const FORGET_AFTER_MS = 15 * 60_000;

/**
 * Each worker process writes "I am alive at T" into one sorted set; `/metrics` reads it back, so the
 * heartbeat of every worker is visible from any process and a dead one shows as an old timestamp.
 */
export class WorkerHeartbeats {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async beat(workerId: string, now = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.keys.workerHeartbeats(), now, workerId)
      .zremrangebyscore(this.keys.workerHeartbeats(), '-inf', now - FORGET_AFTER_MS)
      .exec();
  }

  async forget(workerId: string): Promise<void> {
    await this.redis.zrem(this.keys.workerHeartbeats(), workerId);
  }

  /** Worker id → time of its last heartbeat (ms). */
  async list(now = Date.now()): Promise<Map<string, number>> {
    const flat = await this.redis.zrangebyscore(
      this.keys.workerHeartbeats(),
      now - FORGET_AFTER_MS,
      '+inf',
      'WITHSCORES',
    );
    const beats = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) beats.set(flat[i] as string, Number(flat[i + 1]));
    return beats;
  }
}
