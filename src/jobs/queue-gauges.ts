import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import { JOB_TYPES, type QueueOverview } from '../contract/index.js';
import { errorFields, type Logger } from '../observability/logger.js';
import type { DeadLetterStore } from './dead-letter-store.js';
import type { JobQueues } from './job-queues.js';
import type { WorkerHeartbeats } from './worker-heartbeats.js';

interface RedisSnapshot {
  up: boolean;
  queues: QueueOverview[];
  workersOnline: Map<string, number>;
  deadLetters: number;
  heartbeats: Map<string, number>;
  memoryUsed: number | null;
  memoryMax: number | null;
}

/** A scrape reads each gauge in turn; one Redis read serves them all. */
const SNAPSHOT_REUSE_MS = 250;

/**
 * Gauges read from Redis at scrape time (collect callbacks), so every process reports the same
 * deployment-wide truth and a restart loses nothing: queue depths, oldest waiting job, workers
 * online (BullMQ's `getWorkers`), dead letters, worker heartbeats and Redis memory.
 */
export function registerQueueGauges(
  registry: Registry,
  deps: {
    redis: Redis;
    queues: JobQueues;
    deadLetters: DeadLetterStore;
    heartbeats: WorkerHeartbeats;
    logger: Logger;
  },
): void {
  let cached: { at: number; snapshot: Promise<RedisSnapshot> } | null = null;
  const snapshot = (): Promise<RedisSnapshot> => {
    const now = Date.now();
    if (!cached || now - cached.at > SNAPSHOT_REUSE_MS) cached = { at: now, snapshot: readSnapshot(deps) };
    return cached.snapshot;
  };
  const registers = [registry];

  new Gauge({
    name: 'redis_up',
    help: '1 when Redis answered this scrape, 0 when it did not (the other Redis gauges are then absent)',
    registers,
    async collect() {
      this.set((await snapshot()).up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'redis_memory_used_bytes',
    help: 'Memory Redis uses (INFO memory used_memory)',
    registers,
    async collect() {
      this.reset();
      const { memoryUsed } = await snapshot();
      if (memoryUsed !== null) this.set(memoryUsed);
    },
  });
  new Gauge({
    name: 'redis_memory_max_bytes',
    help: 'Redis maxmemory (0: no limit); with noeviction, writes fail once used reaches it',
    registers,
    async collect() {
      this.reset();
      const { memoryMax } = await snapshot();
      if (memoryMax !== null) this.set(memoryMax);
    },
  });
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs on each queue by BullMQ state (waiting includes prioritized and paused)',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const q of (await snapshot()).queues) {
        this.set({ queue: q.name, state: 'waiting' }, q.waiting);
        this.set({ queue: q.name, state: 'active' }, q.active);
        this.set({ queue: q.name, state: 'delayed' }, q.delayed);
        this.set({ queue: q.name, state: 'failed' }, q.failed);
      }
    },
  });
  new Gauge({
    name: 'queue_oldest_waiting_age_seconds',
    help: 'Age of the job that has waited longest on each queue (0 when none waits)',
    labelNames: ['queue'],
    registers,
    async collect() {
      this.reset();
      for (const q of (await snapshot()).queues) this.set({ queue: q.name }, q.oldest_waiting_age_sec ?? 0);
    },
  });
  new Gauge({
    name: 'queue_workers_online',
    help: 'Worker connections consuming each queue (BullMQ getWorkers)',
    labelNames: ['queue'],
    registers,
    async collect() {
      this.reset();
      for (const [queue, count] of (await snapshot()).workersOnline) this.set({ queue }, count);
    },
  });
  new Gauge({
    name: 'dead_letter_jobs',
    help: 'Dead letters kept (jobs that ended FAILED and were not replayed or purged)',
    registers,
    async collect() {
      this.reset();
      const { up, deadLetters } = await snapshot();
      if (up) this.set(deadLetters);
    },
  });
  new Gauge({
    name: 'worker_heartbeat_timestamp_seconds',
    help: 'Unix time of the last heartbeat of each worker process (seen in the last 15 minutes)',
    labelNames: ['worker_id'],
    registers,
    async collect() {
      this.reset();
      for (const [workerId, at] of (await snapshot()).heartbeats)
        this.set({ worker_id: workerId }, at / 1000);
    },
  });
}

async function readSnapshot(deps: Parameters<typeof registerQueueGauges>[1]): Promise<RedisSnapshot> {
  const down: RedisSnapshot = {
    up: false,
    queues: [],
    workersOnline: new Map(),
    deadLetters: 0,
    heartbeats: new Map(),
    memoryUsed: null,
    memoryMax: null,
  };
  // A scrape while Redis is away must still answer (with redis_up 0), not hang on a reconnect.
  if (deps.redis.status !== 'ready') return down;
  try {
    const [queues, workers, deadLetters, heartbeats, memory] = await Promise.all([
      deps.queues.overview(),
      Promise.all(
        JOB_TYPES.map(async (type) => {
          const queue = deps.queues.queueFor(type);
          return [queue.name, (await queue.getWorkers()).length] as const;
        }),
      ),
      deps.deadLetters.count(),
      deps.heartbeats.list(),
      deps.redis.info('memory'),
    ]);
    return {
      up: true,
      queues,
      workersOnline: new Map(workers),
      deadLetters,
      heartbeats,
      memoryUsed: infoNumber(memory, 'used_memory'),
      memoryMax: infoNumber(memory, 'maxmemory'),
    };
  } catch (error) {
    deps.logger.warn({ event: 'metrics.redis_read_failed', ...errorFields(error) }, 'queue gauges not read');
    return down;
  }
}

function infoNumber(info: string, field: string): number | null {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return match?.[1] ? Number(match[1]) : null;
}
