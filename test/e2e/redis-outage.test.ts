import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../src/contract/index.js';
import { type OwnRedisServer, ownRedisServer } from '../helpers/own-redis-server.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

// The service on a Redis of this test's own, which the test stops and starts again.
let redis: OwnRedisServer;
let svc: TestService;

beforeAll(async () => {
  redis = await ownRedisServer();
  svc = await startTestService('outage', { SERVICE_ROLE: 'api', REDIS_URL: redis.url });
});
afterAll(async () => {
  await redis.start().catch(() => undefined);
  await svc?.close();
  await redis?.dispose();
});

describe('when Redis goes away', () => {
  it('answers 503 DEPENDENCY_UNAVAILABLE with Retry-After at once, fails readiness, stays alive, and recovers', async () => {
    expect((await fetch(`${svc.url}/v1/jobs`)).status).toBe(200);
    await redis.stop();
    // The connection notices the closed socket.
    const deadline = Date.now() + 10_000;
    while (svc.service.app && Date.now() < deadline) {
      const probe = await fetch(`${svc.url}/v1/jobs`);
      if (probe.status === 503) break;
      await sleep(50);
    }
    for (const response of [
      await fetch(`${svc.url}/v1/jobs`),
      await fetch(`${svc.url}/v1/jobs/0190a6c5-0000-7000-8000-000000000000`),
      await submitFile(svc.url, { name: 'a.png', bytes: TINY_PNG }),
    ]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      const problem = (await response.json()) as Problem;
      expect(problem).toMatchObject({ error_code: 'DEPENDENCY_UNAVAILABLE', retryable: true });
    }
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    expect(svc.logs.some((l) => l.event === 'redis.error')).toBe(true);

    await redis.start();
    const recovered = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < recovered) {
      status = (await fetch(`${svc.url}/v1/jobs`)).status;
      if (status === 200) break;
      await sleep(100);
    }
    expect(status).toBe(200);
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
  });
});
