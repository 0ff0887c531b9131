import type { Redis } from 'ioredis';
import {
  type AdminOverview,
  type AdminQueue,
  AppError,
  JOB_TYPES,
  type JobType,
  QUEUE_NAMES,
  type SetConcurrencyBody,
} from '../contract/index.js';
import type { Logger } from '../observability/logger.js';
import type { Readiness } from '../observability/readiness.js';
import type { JobQueues } from './job-queues.js';
import type { QueueThroughput } from './queue-throughput.js';
import type { RedisKeys } from './redis-keys.js';
import type { WorkerHeartbeats } from './worker-heartbeats.js';

/** A worker silent for longer than this is not listed as online (heartbeats come every 10 s by default). */
const ONLINE_WITHIN_MS = 60_000;
/** The overview's window: per-minute counts of the last hour. */
const WINDOW_MINUTES = 60;

/** A per-worker concurrency change, as published on the queue-control channel. */
export interface ConcurrencyMessage {
  queue: string;
  per_worker: number;
}

/**
 * Operators' control of the queues: depths and throughput, pause/resume (BullMQ's pause is global:
 * every worker stops taking jobs) and concurrency (per worker, announced to every worker over
 * pub/sub and kept in Redis for workers that start later; global via BullMQ's queue cap).
 */
export class QueueAdmin {
  constructor(
    private readonly deps: {
      redis: Redis;
      keys: RedisKeys;
      queues: JobQueues;
      heartbeats: WorkerHeartbeats;
      throughput: QueueThroughput;
      readiness: Readiness;
    },
  ) {}

  typeOf(queueName: string): JobType {
    const type = JOB_TYPES.find((t) => QUEUE_NAMES[t] === queueName);
    if (!type) throw new AppError('ROUTE_NOT_FOUND', `There is no queue named "${queueName}".`);
    return type;
  }

  async queues(now = Date.now()): Promise<AdminQueue[]> {
    const [depths, window, workers, perWorker] = await Promise.all([
      this.deps.queues.overview(now),
      this.deps.throughput.read(WINDOW_MINUTES, now),
      this.deps.heartbeats.online(ONLINE_WITHIN_MS, now),
      this.deps.redis.hgetall(this.deps.keys.queueConcurrency()),
    ]);
    const fiveMinutesAgo = new Date(now - 4 * 60_000 - (now % 60_000)).toISOString();
    return Promise.all(
      depths.map(async (depth) => {
        const queue = this.deps.queues.queueFor(depth.job_type);
        const [paused, cap] = await Promise.all([queue.isPaused(), queue.getGlobalConcurrency()]);
        const sum = (field: 'completed' | 'failed', since: string | null) =>
          window.minutes
            .filter((m) => m.queue === depth.name && (since === null || m.minute >= since))
            .reduce((total, m) => total + m[field], 0);
        const rate = (count: number, minutes: number) => Math.round((count / minutes) * 100) / 100;
        const configured = perWorker[depth.name];
        return {
          ...depth,
          paused,
          global_concurrency: cap && cap > 0 ? cap : null,
          per_worker_concurrency: configured ? Number(configured) : null,
          completed_per_minute: {
            last_5m: rate(sum('completed', fiveMinutesAgo), 5),
            last_60m: rate(sum('completed', null), WINDOW_MINUTES),
          },
          failed_per_minute: {
            last_5m: rate(sum('failed', fiveMinutesAgo), 5),
            last_60m: rate(sum('failed', null), WINDOW_MINUTES),
          },
          workers: workers.filter((w) => w.concurrency[depth.name] !== undefined),
        };
      }),
    );
  }

  async overview(log: Logger, now = Date.now()): Promise<AdminOverview> {
    const [queues, window, workers, dependencies] = await Promise.all([
      this.queues(now),
      this.deps.throughput.read(WINDOW_MINUTES, now),
      this.deps.heartbeats.online(ONLINE_WITHIN_MS, now),
      this.deps.readiness.report(log),
    ]);
    return {
      generated_at: new Date(now).toISOString(),
      window_minutes: WINDOW_MINUTES,
      queues,
      throughput: window.minutes,
      failures_by_code: window.failuresByCode,
      workers,
      dependencies,
    };
  }

  async pause(queueName: string): Promise<void> {
    await this.deps.queues.queueFor(this.typeOf(queueName)).pause();
  }

  async resume(queueName: string): Promise<void> {
    await this.deps.queues.queueFor(this.typeOf(queueName)).resume();
  }

  async setConcurrency(queueName: string, body: SetConcurrencyBody): Promise<void> {
    const queue = this.deps.queues.queueFor(this.typeOf(queueName));
    if (body.global !== undefined) {
      if (body.global > 0) await queue.setGlobalConcurrency(body.global);
      else await queue.removeGlobalConcurrency();
    }
    if (body.per_worker !== undefined) {
      const message: ConcurrencyMessage = { queue: queueName, per_worker: body.per_worker };
      await this.deps.redis
        .multi()
        .hset(this.deps.keys.queueConcurrency(), queueName, String(body.per_worker))
        .publish(this.deps.keys.queueControlChannel(), JSON.stringify(message))
        .exec();
    }
  }
}
