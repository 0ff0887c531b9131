import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

/** Minutes of counters kept: the longest window read is 60 minutes. */
export const THROUGHPUT_KEEP_SECONDS = 2 * 60 * 60;

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

/** The UTC minute (minutes since the epoch) whose counters hash holds a moment `ms`. */
export const epochMinute = (ms: number) => Math.floor(ms / 60_000);

/**
 * Per-minute counters of jobs that reached COMPLETED or FAILED. They are written by the transition
 * script itself (`src/jobs/job-scripts.ts`), in the step that changes the status, so a job is
 * counted exactly once per transition that applied: a retried write or a repeated final
 * announcement is refused or ignored and counts nothing. Every process reads the same numbers.
 */
export class QueueThroughput {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

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
