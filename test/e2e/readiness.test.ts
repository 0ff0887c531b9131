import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadinessReport } from '../../src/observability/readiness.js';
import { type OwnRedisServer, ownRedisServer } from '../helpers/own-redis-server.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

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

    await redis.start();
    const back = await readyzUntil(svc.url, 200);
    expect(back.checks.redis?.ok).toBe(true);
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
