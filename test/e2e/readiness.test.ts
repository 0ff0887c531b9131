import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadinessReport } from '../../src/observability/readiness.js';
import { type OwnRedisServer, ownRedisServer } from '../helpers/own-redis-server.js';
import { scrapeMetrics } from '../helpers/prometheus-scrape.js';
import { testKeyPrefix } from '../helpers/test-redis.js';
import { startTestService, type TestService } from '../helpers/test-service.js';
import { waitUntil } from '../helpers/worker-process.js';

type ReadyBody = ReadinessReport & { auth_mode: string };

/** Polls `/readyz` until it answers `status`; returns the last body. */
async function readyzUntil(url: string, status: number, timeoutMs = 30_000): Promise<ReadyBody> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: unknown } | undefined;
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/readyz`);
    last = { status: response.status, body: await response.json() };
    if (response.status === status) return last.body as ReadyBody;
    await sleep(200);
  }
  throw new Error(`/readyz never answered ${status}; last: ${JSON.stringify(last)}`);
}

const redisUp = async (url: string) => (await scrapeMetrics(`${url}/metrics`)).value('redis_up');

describe('/readyz follows Redis', () => {
  let redis: OwnRedisServer;
  let svc: TestService;

  beforeAll(async () => {
    redis = await ownRedisServer();
    svc = await startTestService('readiness-redis', { REDIS_URL: redis.url, WORKER_QUEUES: 'ocr' });
  });
  afterAll(async () => {
    await svc?.close();
    await redis?.dispose();
  });

  it('is ready with every dependency named, and states local mode', async () => {
    const body = await readyzUntil(svc.url, 200);
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks)).toEqual(expect.arrayContaining(['redis', 'storage', 'ocr_engine']));
    for (const check of Object.values(body.checks)) expect(check.ok).toBe(true);
    expect(body.auth_mode).toBe('local-single-user');
    expect(svc.logs.some((line) => line.event === 'readiness.ready')).toBe(true);
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  });

  it('answers 503 naming redis while Redis is down, and 200 again once it is back', async () => {
    await redis.stop();
    const down = await readyzUntil(svc.url, 503);
    expect(down.status).toBe('not_ready');
    expect(down.checks.redis?.ok).toBe(false);
    expect(svc.logs.some((line) => line.event === 'readiness.check_failed' && line.check === 'redis')).toBe(
      true,
    );
    // The process itself is alive: orchestrators must not restart it for a Redis outage.
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    // The other signals docs/runbooks.md ("Redis down") names: redis_up 0 and redis.error.
    expect(await redisUp(svc.url)).toBe(0);
    await waitUntil(() => svc.logs.some((line) => line.event === 'redis.error'), 'redis.error', 30_000);
    const error = svc.logs.find((line) => line.event === 'redis.error');
    expect(error?.code).toMatch(/^E[A-Z]+$/);
    expect(typeof error?.connection).toBe('string');
    const reconnectsBefore = svc.logs.filter((line) => line.event === 'redis.reconnected').length;

    await redis.start();
    const back = await readyzUntil(svc.url, 200);
    expect(back.checks.redis?.ok).toBe(true);
    // Every connection the scrape reads through reconnects on its own schedule: poll, as Prometheus would.
    await waitUntil(async () => (await redisUp(svc.url)) === 1, 'redis_up 1', 30_000);
    const reconnects = () => svc.logs.filter((line) => line.event === 'redis.reconnected').length;
    await waitUntil(() => reconnects() > reconnectsBefore, 'redis.reconnected', 30_000);
  });
});

describe('readiness of the configured engines', () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService('readiness-lang', { OCR_LANGUAGES: 'eng+xyzzy', WORKER_QUEUES: 'ocr' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('never goes ready while a configured tesseract language is missing, and names it', async () => {
    const body = await readyzUntil(svc.url, 503);
    await sleep(1_500);
    const again = await readyzUntil(svc.url, 503);
    for (const report of [body, again]) {
      expect(report.status).toBe('starting');
      expect(report.checks.redis?.ok).toBe(true);
      const engine = report.checks.ocr_engine;
      expect(engine?.ok).toBe(false);
      expect(engine && !engine.ok ? engine.error : '').toContain('xyzzy');
    }
    const waiting = svc.logs.filter((line) => line.event === 'readiness.waiting');
    expect(waiting.length).toBeGreaterThan(0);
    expect(JSON.stringify(waiting.at(-1))).toContain('ocr_engine');
    expect(svc.logs.some((line) => line.event === 'readiness.ready')).toBe(false);
  });
});

describe('readiness of a worker process and its queue consumers', () => {
  let api: TestService;
  let worker: TestService;
  const prefix = testKeyPrefix('readiness-consumers');

  beforeAll(async () => {
    api = await startTestService('readiness-api', { REDIS_KEY_PREFIX: prefix, SERVICE_ROLE: 'api' });
    worker = await startTestService('readiness-worker', {
      REDIS_KEY_PREFIX: prefix,
      SERVICE_ROLE: 'worker',
      WORKER_QUEUES: 'ocr',
      WORKER_METRICS_PORT: '0',
    });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  it('checks only Redis and storage in an API process, and the engines, scratch directory and consumers in a worker', async () => {
    expect(Object.keys((await readyzUntil(api.url, 200)).checks).sort()).toEqual(['redis', 'storage']);
    const workerUrl = worker.service.metricsUrl ?? '';
    expect(Object.keys((await readyzUntil(workerUrl, 200)).checks).sort()).toEqual([
      'ocr_engine',
      'queue_consumers',
      'redis',
      'scratch_dir',
      'storage',
    ]);
  });

  it('answers 503 naming queue_consumers once a consumer has stopped while the process lives on', async () => {
    const workerUrl = worker.service.metricsUrl ?? '';
    await readyzUntil(workerUrl, 200);
    // The consumer closes (as after a fatal BullMQ error) but the process and its HTTP port stay up.
    await worker.service.worker?.close(5_000);
    const down = await readyzUntil(workerUrl, 503);
    expect(down.status).toBe('not_ready');
    const consumers = down.checks.queue_consumers;
    expect(consumers?.ok).toBe(false);
    expect(consumers && !consumers.ok ? consumers.error : '').toContain('queue consumer not running: ocr');
    for (const name of ['redis', 'storage', 'ocr_engine', 'scratch_dir'])
      expect(down.checks[name]?.ok).toBe(true);
    expect(
      worker.logs.some((line) => line.event === 'readiness.check_failed' && line.check === 'queue_consumers'),
    ).toBe(true);
    expect((await fetch(`${workerUrl}/healthz`)).status).toBe(200);
  });
});
