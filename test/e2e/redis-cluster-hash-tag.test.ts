import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { type OwnRedisServer, ownRedisServer } from '../helpers/own-redis-server.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

// The whole service on a one-node Redis Cluster, which refuses any script or multi-key command
// whose keys are in different slots (CROSSSLOT) just like a real cluster. A hash-tagged
// REDIS_KEY_PREFIX puts every key of the deployment in one slot.
let redis: OwnRedisServer;
let svc: TestService;
let client: Redis;
const prefix = `{dt-cluster-${randomBytes(3).toString('hex')}}`;

beforeAll(async () => {
  redis = await ownRedisServer({ cluster: true });
  client = new Redis(redis.url);
  svc = await startTestService('cluster', { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix });
});
afterAll(async () => {
  await svc?.close();
  client?.disconnect();
  await redis?.dispose();
});

describe('Redis Cluster with a hash-tagged key prefix', () => {
  it('is a cluster that really refuses keys from different slots', async () => {
    await expect(client.eval("return redis.call('mget', KEYS[1], KEYS[2])", 2, 'a', 'b')).rejects.toThrow(
      /CROSSSLOT/,
    );
  });

  it('runs a job from submit to download, with history, cancel and delete, all in one slot', async () => {
    const submitted = await submitFile(svc.url, { name: 'page.png', bytes: TINY_PNG });
    expect(submitted.status).toBe(201);
    const job = (await submitted.json()) as Job;
    const done = await waitForJob(svc.url, job.job_id);
    expect(['COMPLETED', 'FAILED']).toContain(done.status);
    expect(done.error_code ?? 'none').not.toMatch(/INTERNAL|DEPENDENCY/);

    const history = await fetch(`${svc.url}/v1/jobs?job_type=OCR&limit=5`);
    expect(history.status).toBe(200);
    expect(((await history.json()) as { items: Job[] }).items.map((j) => j.job_id)).toContain(job.job_id);

    const second = (await (await submitFile(svc.url, { name: 'again.png', bytes: TINY_PNG })).json()) as Job;
    const cancel = await fetch(`${svc.url}/v1/jobs/${second.job_id}/cancel`, { method: 'POST' });
    expect([200, 202, 409]).toContain(cancel.status);
    expect((await fetch(`${svc.url}/v1/jobs/${job.job_id}`, { method: 'DELETE' })).status).toBeLessThan(300);

    // Every key the deployment wrote, the queues' included, hashes to one slot.
    const keys = await client.keys(`*${prefix}*`);
    expect(keys.length).toBeGreaterThan(3);
    const slots = new Set(await Promise.all(keys.map((key) => client.call('CLUSTER', 'KEYSLOT', key))));
    expect(slots.size).toBe(1);
  });
});

describe('Redis Cluster with a plain key prefix', () => {
  it('is refused at start with a message that names the fix, since the job scripts would span slots', async () => {
    await expect(startTestService('cluster-plain', { REDIS_URL: redis.url })).rejects.toThrow(
      /is a cluster: set REDIS_KEY_PREFIX to a hash tag/,
    );
  });
});
