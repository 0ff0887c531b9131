import { hostname } from 'node:os';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EngineDefaults, ExtraWorkConfig, RetryConfig } from '../config/index.js';
import { JOB_TYPES, type JobType, QUEUE_NAMES } from '../contract/index.js';
import { backfillActiveIndex } from '../jobs/backfill-active-index.js';
import { DeadLetterStore } from '../jobs/dead-letter-store.js';
import type { FeatureFlags } from '../jobs/feature-flags.js';
import type { JobQueues } from '../jobs/job-queues.js';
import type { JobStore } from '../jobs/job-store.js';
import type { ConcurrencyMessage } from '../jobs/queue-admin.js';
import { closeRedis } from '../jobs/shutdown-safe-redis.js';
import type { WorkerHeartbeats } from '../jobs/worker-heartbeats.js';
import type { JobMetrics } from '../observability/job-metrics.js';
import { errorFields, type Logger } from '../observability/logger.js';
import { watchRedisConnection } from '../observability/watch-redis-connection.js';
import type { Pipeline } from '../pipelines/pipeline.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { CancellationRegistry } from './cancellation-registry.js';
import { JobProcessor } from './job-processor.js';
import { Reconciler } from './reconciler.js';
import { RetryPolicy } from './retry-policy.js';
import type { UsageRules } from './usage-quota.js';

export interface WorkerOptions {
  connection: Redis;
  store: JobStore;
  storage: ObjectStorage;
  pipelines: Record<JobType, Pipeline>;
  /** The queues (for the reconciler's repairs). */
  queues: JobQueues;
  /** Names of the queues this worker consumes. */
  workerQueues: readonly string[];
  concurrency: Record<'ocr' | 'transcription', number>;
  /**
   * Jobs of a queue running at once across every worker (BullMQ global concurrency, kept in
   * Redis): a number sets it, 0 removes it, undefined leaves it as it is.
   */
  globalConcurrency?: Partial<Record<'ocr' | 'transcription', number | undefined>>;
  tmpDir: string;
  retry: RetryConfig;
  extraWork: ExtraWorkConfig;
  /** BullMQ lock and stalled-job detection (a killed worker's jobs are handed out again). */
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** 0 turns the reconciler off in this process. */
  reconcilerIntervalMs: number;
  logger: Logger;
  metrics?: JobMetrics;
  /** The engines of jobs that name none: the `engine` label of jobs that fail before running one. */
  engineDefaults?: EngineDefaults;
  /** Written every `heartbeatMs`: `worker_heartbeat_timestamp_seconds` in /metrics. */
  heartbeats?: WorkerHeartbeats;
  heartbeatMs?: number;
  /** Feature flags read while jobs run (`ocr_psm_retry`, `transcription_repetition_rerun`). */
  flags?: FeatureFlags;
  /** Daily page / audio-minute quotas and cost thresholds applied once a job is measured. */
  usage?: UsageRules;
}

/** How long stopped jobs get to hand themselves back after the grace period. */
const RELEASE_TIMEOUT_MS = 10_000;

export interface RunningWorker {
  workerId: string;
  /** Throws naming each queue whose consumer is not running (closed, or paused unexpectedly). */
  checkConsumers(): Promise<void>;
  close(timeoutMs: number): Promise<void>;
}

/** Consumes the configured queues; `close` lets running jobs finish, up to a timeout. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const workerId = `${hostname()}:${process.pid}`;
  const logger = options.logger.child({ worker_id: workerId });
  const cancellations = new CancellationRegistry(
    watchRedisConnection(options.connection.duplicate(), logger, 'cancellations'),
    options.store.keys.cancelChannel(),
    logger,
  );
  await cancellations.start();
  const processor = new JobProcessor({
    store: options.store,
    storage: options.storage,
    pipelines: options.pipelines,
    cancellations,
    retryPolicy: new RetryPolicy(options.retry),
    extraWork: options.extraWork,
    deadLetters: new DeadLetterStore(options.connection, options.store.keys, options.store),
    tmpDir: options.tmpDir,
    workerId,
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.engineDefaults ? { engineDefaults: options.engineDefaults } : {}),
    ...(options.flags ? { flags: options.flags } : {}),
    ...(options.usage ? { usage: options.usage } : {}),
  });

  await applyGlobalConcurrency(options, logger);
  const workers = JOB_TYPES.filter((type) => options.workerQueues.includes(QUEUE_NAMES[type])).map((type) => {
    const name = QUEUE_NAMES[type] as 'ocr' | 'transcription';
    const worker = new Worker(name, (job, token) => processor.process(job, token), {
      connection: watchRedisConnection(
        options.connection.duplicate({ maxRetriesPerRequest: null }),
        logger,
        `worker-${name}`,
      ),
      prefix: options.store.keys.queuePrefix(),
      concurrency: options.concurrency[name],
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: options.maxStalledCount,
      autorun: true,
    });
    worker.on('failed', (job, error) => {
      // A job BullMQ gave up on without our processor deciding (e.g. stalled too often)
      // must not stay PROCESSING forever.
      if (!job) return;
      void processor
        .failLostJob(job.id ?? '', name, error.message)
        .catch((err: unknown) =>
          logger.error({ event: 'job.fail_record_error', job_id: job.id, ...errorFields(err) }),
        );
    });
    worker.on('error', (error) =>
      logger.error({ event: 'worker.error', queue: name, ...errorFields(error) }),
    );
    logger.info(
      { event: 'worker.started', queue: name, concurrency: options.concurrency[name] },
      'worker started',
    );
    return worker;
  });

  // Jobs from before the active-job index existed: added once, so the reconciler can see them.
  await backfillActiveIndex(options.connection, options.store.keys, logger);
  const reconciler = new Reconciler({
    redis: options.connection,
    store: options.store,
    queues: options.queues,
    storage: options.storage,
    intervalMs: options.reconcilerIntervalMs,
    graceMs: Math.max(options.lockDurationMs, 10_000),
    logger,
  });
  reconciler.start();

  const concurrencyNow = () => Object.fromEntries(workers.map((worker) => [worker.name, worker.concurrency]));
  const control = await watchQueueControl(options, logger, workers);

  const heartbeats = options.heartbeats;
  const info = () => ({ host: hostname(), pid: process.pid, concurrency: concurrencyNow() });
  const beat = () =>
    heartbeats
      ?.beat(workerId, Date.now(), info())
      .catch((error: unknown) =>
        logger.warn({ event: 'worker.heartbeat_failed', ...errorFields(error) }, 'heartbeat not written'),
      );
  await beat();
  const heartbeatTimer = heartbeats ? setInterval(() => void beat(), options.heartbeatMs ?? 10_000) : null;
  heartbeatTimer?.unref();

  let closing: Promise<void> | undefined;
  return {
    workerId,
    async checkConsumers() {
      const stopped = workers
        .filter((worker) => closing !== undefined || !worker.isRunning() || worker.isPaused())
        .map((worker) => worker.name);
      if (stopped.length > 0) throw new Error(`queue consumer not running: ${stopped.join(', ')}`);
    },
    close(timeoutMs: number) {
      closing ??= closeWorker(timeoutMs);
      return closing;
    },
  };

  async function closeWorker(timeoutMs: number): Promise<void> {
    if (heartbeatTimer) clearInterval(heartbeatTimer);
    await reconciler.stop();
    const graceful = Promise.all(workers.map((worker) => worker.close()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    if ((await Promise.race([graceful, timeout])) === 'timeout') {
      // Jobs still running are stopped and handed back to their queue for another worker.
      const released = cancellations.releaseAll();
      logger.warn(
        { event: 'worker.shutdown_timeout', timeout_ms: timeoutMs, released },
        'grace period over: handing running jobs back',
      );
      let forceTimer: NodeJS.Timeout | undefined;
      const released$ = new Promise<'timeout'>((resolve) => {
        forceTimer = setTimeout(() => resolve('timeout'), RELEASE_TIMEOUT_MS);
      });
      if ((await Promise.race([graceful, released$])) === 'timeout') {
        // A job that did not stop in time becomes stalled: another worker picks it up later.
        await Promise.all(workers.map((worker) => worker.close(true)));
      }
      clearTimeout(forceTimer);
    }
    clearTimeout(timer);
    await cancellations.stop();
    await closeRedis(control);
    await heartbeats
      ?.forget(workerId)
      .catch((error: unknown) =>
        logger.warn({ event: 'worker.heartbeat_failed', ...errorFields(error) }, 'heartbeat not removed'),
      );
    logger.info({ event: 'worker.stopped' }, 'worker stopped');
  }
}

/**
 * Applies per-worker concurrency set through `PUT /v1/admin/queues/:queue/concurrency`: the value
 * kept in Redis at start (it outlives restarts), then each change announced on the control channel.
 */
async function watchQueueControl(options: WorkerOptions, logger: Logger, workers: Worker[]): Promise<Redis> {
  const keys = options.store.keys;
  const apply = (queue: string, perWorker: number) => {
    const worker = workers.find((w) => w.name === queue);
    if (!worker || !Number.isInteger(perWorker) || perWorker < 1 || worker.concurrency === perWorker) return;
    worker.concurrency = perWorker;
    logger.info(
      { event: 'worker.concurrency_changed', queue, concurrency: perWorker },
      'concurrency changed',
    );
  };
  const subscriber = watchRedisConnection(options.connection.duplicate(), logger, 'queue-control');
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== keys.queueControlChannel()) return;
    try {
      const { queue, per_worker: perWorker } = JSON.parse(message) as ConcurrencyMessage;
      apply(queue, perWorker);
    } catch (error) {
      logger.warn(
        { event: 'worker.queue_control_invalid', ...errorFields(error) },
        'control message ignored',
      );
    }
  });
  await subscriber.subscribe(keys.queueControlChannel());
  for (const [queue, value] of Object.entries(await options.connection.hgetall(keys.queueConcurrency())))
    apply(queue, Number(value));
  return subscriber;
}

/**
 * Sets (or removes) each consumed queue's cap across all machines before taking work. BullMQ keeps
 * it in the queue's meta in Redis and checks it atomically when a worker moves a job to active.
 */
async function applyGlobalConcurrency(options: WorkerOptions, logger: Logger): Promise<void> {
  for (const type of JOB_TYPES) {
    const name = QUEUE_NAMES[type] as 'ocr' | 'transcription';
    const cap = options.globalConcurrency?.[name];
    if (!options.workerQueues.includes(name) || cap === undefined) continue;
    const queue = options.queues.queueFor(type);
    if (cap > 0) await queue.setGlobalConcurrency(cap);
    else await queue.removeGlobalConcurrency();
    logger.info(
      { event: 'worker.global_concurrency', queue: name, cap: cap > 0 ? cap : null },
      'queue cap set',
    );
  }
}
