import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { AccessListStore } from '../api/auth/access-list-store.js';
import { ApiKeyStore } from '../api/auth/api-key-store.js';
import { buildApi } from '../api/build-api.js';
import { type Config, ConfigError, offeredEngines } from '../config/index.js';
import { backfillAllJobsIndex } from '../jobs/backfill-all-jobs-index.js';
import { DeadLetterStore } from '../jobs/dead-letter-store.js';
import { FeatureFlags } from '../jobs/feature-flags.js';
import { IdempotencyStore } from '../jobs/idempotency-store.js';
import { JobEventFeed } from '../jobs/job-event-feed.js';
import { JobQueues } from '../jobs/job-queues.js';
import { JobService } from '../jobs/job-service.js';
import { JobStore } from '../jobs/job-store.js';
import { QueueAdmin } from '../jobs/queue-admin.js';
import { registerQueueGauges } from '../jobs/queue-gauges.js';
import { QueueThroughput } from '../jobs/queue-throughput.js';
import { isHashTagged, RedisKeys } from '../jobs/redis-keys.js';
import { closeRedis, ShutdownSafeRedis } from '../jobs/shutdown-safe-redis.js';
import { SubmitQuota } from '../jobs/submit-quota.js';
import { UploadSessionStore } from '../jobs/upload-sessions.js';
import { UsageQuota } from '../jobs/usage-quota.js';
import { WorkerHeartbeats } from '../jobs/worker-heartbeats.js';
import { type Logger, redactUrl } from '../observability/logger.js';
import { type MetricsServer, startMetricsServer } from '../observability/metrics-server.js';
import { PrometheusMetrics } from '../observability/prometheus-metrics.js';
import { Readiness, type ReadinessChecks } from '../observability/readiness.js';
import { redactConfig } from '../observability/redact-config.js';
import { watchRedisConnection } from '../observability/watch-redis-connection.js';
import { createStorage } from '../storage/create-storage.js';
import { WebhookQueue } from '../webhooks/webhook-queue.js';
import { WebhookStore } from '../webhooks/webhook-store.js';
import type { RunningWorker } from '../worker/start-worker.js';
import type { WebhookWorker } from '../worker/webhook-worker.js';
import type { SpeechEngines } from './build-pipelines.js';
import { consumersCheck, redisCheck, scratchDirCheck, storageCheck } from './readiness-checks.js';

export interface RunningService {
  /** Base URL of the API, when this role serves one. */
  url: string | null;
  app: FastifyInstance | null;
  worker: RunningWorker | null;
  /** A worker process's own `/metrics` (`WORKER_METRICS_PORT`), when it serves one. */
  metricsUrl: string | null;
  readiness: Readiness;
  store: JobStore;
  flags: FeatureFlags;
  close(): Promise<void>;
}

/**
 * The composition root: builds every dependency from the config and starts the API and/or the
 * worker for the configured role. The only module that knows both `api` and `worker`.
 */
/** On a Redis Cluster the job scripts need every key in one slot: only a `{hash tag}` prefix gives that. */
async function refusePlainPrefixOnCluster(redis: Redis, prefix: string): Promise<void> {
  const info = await redis.info('cluster');
  if (/cluster_enabled:1/.test(info) && !isHashTagged(prefix)) {
    await redis.quit().catch(() => undefined);
    throw new ConfigError([
      `REDIS_KEY_PREFIX: Redis at REDIS_URL is a cluster: set REDIS_KEY_PREFIX to a hash tag such as {${prefix}} so that each job's keys share one slot`,
    ]);
  }
}

export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  logger.info({ event: 'config.loaded', config: redactConfig(config) }, 'configuration loaded');
  await mkdir(config.storage.rootDir, { recursive: true });
  await mkdir(config.worker.tmpDir, { recursive: true });

  const redis = watchRedisConnection(
    new ShutdownSafeRedis(config.redis.url, { maxRetriesPerRequest: 3, lazyConnect: true }),
    logger,
    'main',
  );
  await redis.connect();
  await refusePlainPrefixOnCluster(redis, config.redis.keyPrefix);
  logger.info({
    event: 'redis.connected',
    redis: redactUrl(config.redis.url),
    key_prefix: config.redis.keyPrefix,
  });

  const keys = new RedisKeys(config.redis.keyPrefix);
  // BullMQ defines its ~50 scripts as commands on the connection its queues are given, and ioredis
  // copies every defined command into each pipeline and transaction it builds (~70 µs each): the
  // queues get their own connection so the pipelines of the job store and the API stay cheap.
  const queueRedis = watchRedisConnection(redis.duplicate(), logger, 'queues');
  const webhooks = new WebhookStore(redis, keys);
  const webhookQueue = new WebhookQueue(queueRedis, keys, webhooks, logger);
  const flags = new FeatureFlags(
    redis,
    watchRedisConnection(redis.duplicate(), logger, 'flags'),
    keys,
    config.featureFlags.defaults,
    config.featureFlags.refreshMs,
    logger,
  );
  await flags.start();
  // Every final transition (worker outcomes, cancels of queued jobs) queues its webhooks (unless
  // flag `webhooks` is off). The throughput counters are written by the transition script itself.
  const throughput = new QueueThroughput(redis, keys);
  const queueWebhooks = webhookQueue.listener();
  const store = new JobStore(redis, keys, {
    // False (not queued) keeps the job in the announcements outbox for the reconciler; with the
    // flag off there is nothing to queue, so the announcement is done (not retried later).
    onFinal: async (record) => (flags.isEnabled('webhooks') ? queueWebhooks(record) : true),
  });
  const storage = await createStorage(config.storage);
  const queues = new JobQueues(queueRedis, keys);
  const metrics = new PrometheusMetrics(config.role);
  const heartbeats = new WorkerHeartbeats(redis, keys);
  registerQueueGauges(metrics.registry, {
    redis,
    queues,
    deadLetters: new DeadLetterStore(redis, keys, store, queues),
    heartbeats,
    logger,
  });
  const checks: ReadinessChecks = { redis: redisCheck(redis), storage: storageCheck(storage) };
  /** What jobs may name: validated by the API, built by the worker, shown in GET /v1/config. */
  const engines = offeredEngines(config);
  const readiness = new Readiness(checks, logger);

  let app: FastifyInstance | null = null;
  let url: string | null = null;
  let worker: RunningWorker | null = null;
  let feed: JobEventFeed | null = null;
  let metricsServer: MetricsServer | null = null;
  let webhookWorker: WebhookWorker | null = null;
  let speechEngines: SpeechEngines | null = null;
  let uploadSweep: NodeJS.Timeout | null = null;

  if (config.role === 'worker' || config.role === 'all') {
    // Loaded only where jobs run: the engines' SDKs (tesseract.js, OpenAI, Gemini) and the
    // pipelines would otherwise sit in every API process's memory unused.
    const [{ buildPipelines, SpeechEngines, engineChecks }, { startWorker }, { WebhookWorker }] =
      await Promise.all([
        import('./build-pipelines.js'),
        import('../worker/start-worker.js'),
        import('../worker/webhook-worker.js'),
      ]);
    // Kept to be closed at shutdown: whisper keeps its model-holding children between chunks.
    speechEngines = new SpeechEngines(config);
    worker = await startWorker({
      connection: redis,
      store,
      storage,
      pipelines: buildPipelines(config, { storage, speechEngines }),
      queues,
      workerQueues: config.worker.queues,
      concurrency: config.worker.concurrency,
      globalConcurrency: config.worker.globalConcurrency,
      tmpDir: config.worker.tmpDir,
      retry: config.worker.retry,
      extraWork: config.worker.extraWork,
      lockDurationMs: config.worker.lockDurationMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      maxStalledCount: config.worker.maxStalledCount,
      reconcilerIntervalMs: config.worker.reconcilerIntervalMs,
      logger,
      metrics,
      engineDefaults: engines.defaults,
      heartbeats,
      heartbeatMs: config.metrics.heartbeatMs,
      flags,
      usage: { quota: new UsageQuota(redis, keys, config.quota), cost: config.cost },
    });
    Object.assign(checks, engineChecks(config), {
      scratch_dir: scratchDirCheck(config.worker.tmpDir),
      queue_consumers: consumersCheck(worker),
    });
    if (config.role === 'worker' && config.metrics.workerPort !== null) {
      metricsServer = await startMetricsServer({
        host: config.http.host,
        port: config.metrics.workerPort,
        metrics,
        readiness,
        token: config.metrics.token,
        logger,
      });
    }
    webhookWorker = new WebhookWorker(
      { connection: redis, store, webhooks, config: config.webhooks, logger },
      keys.queuePrefix(),
    );
  }

  let allJobsBackfill: Promise<unknown> = Promise.resolve();
  if (config.role === 'api' || config.role === 'all') {
    const jobs = new JobService(
      store,
      queues,
      storage,
      {
        ocrLanguages: config.ocr.languages,
        transcriptionLanguage: 'en',
        engines,
        engineDefaults: engines.defaults,
      },
      new IdempotencyStore(redis, keys, config.idempotency),
      logger,
      metrics,
      new UsageQuota(redis, keys, config.quota),
    );
    const uploads = new UploadSessionStore(redis, keys, {
      ttlSec: config.uploads.sessions.ttlSec,
      consumedTtlSec: config.idempotency.ttlSec,
      maxOpenPerUser: config.uploads.sessions.maxOpenPerUser,
      consumeLeaseMs: 3_600_000,
    });
    // Every API process sweeps (idempotent: each removal is logged once, by whoever took the id).
    let sweeping = false;
    uploadSweep = setInterval(() => {
      if (sweeping || redis.status !== 'ready') return;
      sweeping = true;
      uploads
        .sweepExpired(storage, logger)
        .catch((error: unknown) =>
          logger.warn({ event: 'upload.sweep_failed', err: error }, 'expired upload sessions not swept'),
        )
        .finally(() => {
          sweeping = false;
        });
    }, config.uploads.sessions.sweepMs);
    uploadSweep.unref();
    feed = new JobEventFeed(watchRedisConnection(redis.duplicate(), logger, 'events'), redis, keys, logger);
    await feed.start();
    // Not awaited (a large deployment's walk must not delay the start); close waits for it.
    allJobsBackfill = backfillAllJobsIndex(redis, store, logger);
    app = await buildApi({
      logger,
      jobs,
      metrics,
      metricsToken: config.metrics.token,
      intakeLimits: {
        maxUploadBytes: config.uploads.maxBytes,
        maxUploadBytesByType: config.uploads.byType,
        ocrMaxPages: config.ocr.maxPages,
        transcriptionMaxDurationSec: config.transcription.maxDurationSec,
        ocrEngine: config.ocr.engine,
        ocrEngineBySubtype: config.ocr.engineBySubtype,
        speechEngine: config.transcription.engine,
        enginesOffered: engines,
        ocrPagesInFlight: config.ocr.pagesInFlight,
        chunksInFlight: config.transcription.chunksInFlight,
        activeJobsLimit: config.quota.activeJobs,
        cost: config.cost,
      },
      deadLetters: new DeadLetterStore(redis, keys, store, queues),
      queueAdmin: new QueueAdmin({ redis, keys, queues, heartbeats, throughput, readiness }),
      feed,
      heartbeatMs: config.events.heartbeatMs,
      isRedisReady: () => redis.status === 'ready',
      storage,
      flags,
      engines,
      maxUploadBytes: config.uploads.maxBytes,
      maxUploadBytesByType: config.uploads.byType,
      inputComplexity: { maxImagePixels: config.ocr.maxImagePixels, maxPdfPages: config.ocr.maxPages },
      trustProxy: config.http.trustProxy,
      quota: new SubmitQuota(redis, keys, config.quota),
      uploads,
      webhooks,
      webhookTargets: { allowPrivate: config.webhooks.allowPrivateTargets },
      openaiCompat: { waitMs: config.openaiCompat.waitMs },
      auth: config.auth,
      apiKeys: new ApiKeyStore(redis, keys),
      accessLists: new AccessListStore(redis, keys),
      // jose is loaded only with an identity provider: a local-mode API never verifies a token.
      verifier: config.auth.oidc
        ? new (await import('../api/auth/oidc-verifier.js')).OidcVerifier(config.auth.oidc)
        : null,
      cors: config.cors,
      rateLimit: {
        redis,
        nameSpace: keys.rateLimitNamespace(),
        ...config.rateLimit,
        isRedisReady: () => redis.status === 'ready',
      },
      readiness,
    });
    await app.listen({ host: config.http.host, port: config.http.port });
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    url = `http://${host}:${address.port}`;
    const authMode = config.auth.oidc ? 'oidc' : 'local-single-user';
    logger.info({ event: 'api.listening', url, auth_mode: authMode }, `API listening on ${url}`);
  }

  // Not awaited: the API answers /readyz 503 (`starting`) until every dependency has answered once.
  void readiness.watchStartup();

  return {
    url,
    app,
    worker,
    metricsUrl: metricsServer?.url ?? null,
    readiness,
    store,
    flags,
    async close() {
      logger.info({ event: 'service.stopping' }, 'shutting down');
      // The listener closes first, before anything that may wait (the readiness watch waits out a
      // hanging check): new connections are refused at once, requests in flight may finish.
      const apiClosed = app ? closeApi(app, config.shutdownTimeoutMs) : Promise.resolve();
      await readiness.stop();
      if (uploadSweep) clearInterval(uploadSweep);
      if (metricsServer) await metricsServer.close();
      await apiClosed;
      if (feed) await feed.close();
      await allJobsBackfill;
      if (worker) await worker.close(config.shutdownTimeoutMs);
      await speechEngines?.close();
      if (webhookWorker) await webhookWorker.close();
      await webhookQueue.close();
      await flags.close();
      await queues.close();
      await closeRedis(queueRedis);
      await closeRedis(redis);
      logger.info({ event: 'service.stopped' }, 'stopped');
    },
  };
}

/**
 * Stops accepting connections (a request on a kept-alive one is answered 503) and lets requests in
 * flight, uploads included, finish within the grace period; then their connections are cut.
 */
async function closeApi(app: FastifyInstance, graceMs: number): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
  cut.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}
