import type { Redis } from 'ioredis';
import { QUEUE_NAMES } from '../contract/index.js';
import type { JobRecord } from './job-record.js';
import type { RedisKeys } from './redis-keys.js';

/** Minutes of counters kept: the longest window read is 60 minutes. */
const KEEP_SECONDS = 2 * 60 * 60;

export interface MinuteCounts {
  /** Start of the UTC minute (ISO 8601). */
  minute: string;
  queue: string;
  completed: number;
  failed: number;
}

export interface ThroughputWindow {
  /** Oldest minute first; one entry per minute and queue that saw an outcome. */
  minutes: MinuteCounts[];
  /** Failures of the whole window by catalog error code, most frequent first. */
  failuresByCode: Array<{ error_code: string; count: number }>;
}

const epochMinute = (ms: number) => Math.floor(ms / 60_000);

/**
 * Per-minute counters of jobs that reached COMPLETED or FAILED, written where a job reaches its
 * final status (the job store's final-status hook), so every process reads the same numbers.
 */
export class QueueThroughput {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Idempotent: the final-status hook may run again for the same transition (a retried announcement). */
  async recordFinal(record: JobRecord, now = Date.now()): Promise<void> {
    if (record.status !== 'COMPLETED' && record.status !== 'FAILED') return;
    const transition = `${record.job_id}:${record.finished_at ?? record.updated_at}`;
    const first = await this.redis.set(
      this.keys.throughputCounted(transition),
      '1',
      'EX',
      KEEP_SECONDS,
      'NX',
    );
    if (first === null) return;
    const key = this.keys.queueThroughput(epochMinute(now));
    const outcome = record.status === 'COMPLETED' ? 'completed' : 'failed';
    const multi = this.redis.multi().hincrby(key, `${outcome}:${QUEUE_NAMES[record.job_type]}`, 1);
    if (record.status === 'FAILED') multi.hincrby(key, `code:${record.error_code ?? 'INTERNAL_ERROR'}`, 1);
    await multi.expire(key, KEEP_SECONDS).exec();
  }

  /** The last `windowMinutes` minutes, the current one included. */
  async read(windowMinutes: number, now = Date.now()): Promise<ThroughputWindow> {
    const last = epochMinute(now);
    const minutes = Array.from({ length: windowMinutes }, (_, i) => last - windowMinutes + 1 + i);
    const pipeline = this.redis.pipeline();
    for (const minute of minutes) pipeline.hgetall(this.keys.queueThroughput(minute));
    const hashes = ((await pipeline.exec()) ?? []).map(
      ([, value]) => (value ?? {}) as Record<string, string>,
    );
    const result: MinuteCounts[] = [];
    const byCode = new Map<string, number>();
    hashes.forEach((hash, i) => {
      const perQueue = new Map<string, MinuteCounts>();
      for (const [field, value] of Object.entries(hash)) {
        const [kind, name] = [field.slice(0, field.indexOf(':')), field.slice(field.indexOf(':') + 1)];
        if (kind === 'code') {
          byCode.set(name, (byCode.get(name) ?? 0) + Number(value));
          continue;
        }
        if (kind !== 'completed' && kind !== 'failed') continue;
        const minute = new Date((minutes[i] as number) * 60_000).toISOString();
        const entry = perQueue.get(name) ?? { minute, queue: name, completed: 0, failed: 0 };
        entry[kind] += Number(value);
        perQueue.set(name, entry);
      }
      result.push(...[...perQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue)));
    });
    return {
      minutes: result,
      failuresByCode: [...byCode]
        .map(([error_code, count]) => ({ error_code, count }))
        .sort((a, b) => b.count - a.count || a.error_code.localeCompare(b.error_code)),
    };
  }
}
