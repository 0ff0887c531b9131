import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

/** Heartbeats older than this are dropped: the process is gone, its series should go too. */
const FORGET_AFTER_MS = 15 * 60_000;

/** What a worker process says about itself with each heartbeat. */
export interface WorkerInfo {
  host: string;
  pid: number;
  /** Queue name → jobs this process runs at once on it (now, after any runtime change). */
  concurrency: Record<string, number>;
}

export interface WorkerSeen extends WorkerInfo {
  worker_id: string;
  last_heartbeat_at: string;
}

/**
 * Each worker process writes "I am alive at T" into one sorted set; `/metrics` reads it back, so the
 * heartbeat of every worker is visible from any process and a dead one shows as an old timestamp.
 */
export class WorkerHeartbeats {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async beat(workerId: string, now = Date.now(), info?: WorkerInfo): Promise<void> {
    const multi = this.redis
      .multi()
      .zadd(this.keys.workerHeartbeats(), now, workerId)
      .zremrangebyscore(this.keys.workerHeartbeats(), '-inf', now - FORGET_AFTER_MS);
    if (info) multi.hset(this.keys.workerInfo(), workerId, JSON.stringify(info));
    await multi.exec();
  }

  async forget(workerId: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.keys.workerHeartbeats(), workerId)
      .hdel(this.keys.workerInfo(), workerId)
      .exec();
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

  /** Workers whose last heartbeat is at most `withinMs` old, with what they said about themselves. */
  async online(withinMs: number, now = Date.now()): Promise<WorkerSeen[]> {
    const [beats, infos] = await Promise.all([this.list(now), this.redis.hgetall(this.keys.workerInfo())]);
    const seen: WorkerSeen[] = [];
    for (const [workerId, at] of beats) {
      if (now - at > withinMs) continue;
      const raw = infos[workerId];
      const info: WorkerInfo = raw ? (JSON.parse(raw) as WorkerInfo) : { host: '', pid: 0, concurrency: {} };
      seen.push({ worker_id: workerId, ...info, last_heartbeat_at: new Date(at).toISOString() });
    }
    return seen.sort((a, b) => a.worker_id.localeCompare(b.worker_id));
  }
}
