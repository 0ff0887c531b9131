import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, JobList, Problem } from '../../src/contract/index.js';
import { IdempotencyStore } from '../../src/jobs/idempotency-store.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { TEST_REDIS_URL } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { TINY_PNG, tinyWav } from '../helpers/tiny-files.js';

// The API role alone: idempotency is the API's business; jobs stay QUEUED.
let svc: TestService;

const submitWithKey = (
  key: string,
  bytes: Uint8Array = TINY_PNG,
  fields: Record<string, string> = {},
  name = 'page.png',
) => submitFile(svc.url, { name, bytes }, fields, { 'idempotency-key': key });

async function storedInputs(): Promise<number> {
  const jobsDir = path.join(svc.dataDir, 'storage', 'jobs');
  return (await readdir(jobsDir).catch(() => [])).length;
}

async function historyTotal(): Promise<number> {
  return ((await (await fetch(`${svc.url}/v1/jobs`)).json()) as JobList).total;
}

beforeAll(async () => {
  svc = await startTestService('idempotency', { SERVICE_ROLE: 'api' });
});
afterAll(async () => {
  await svc?.close();
});

describe('Idempotency-Key on POST /v1/jobs', () => {
  it('turns 20 parallel identical submits into exactly one job, one stored input and one history row', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => submitWithKey('race-key-1')));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    // The others either saw the first still uploading (409) or its finished job (200, reused).
    expect(statuses.every((s) => s === 201 || s === 200 || s === 409)).toBe(true);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<Record<string, unknown>>;
    const created = bodies[statuses.indexOf(201)] ?? {};
    expect(created.reused).toBe(false);
    for (const [i, body] of bodies.entries()) {
      if (statuses[i] === 200) expect(body).toMatchObject({ job_id: created.job_id, reused: true });
      if (statuses[i] === 409) expect(body.error_code).toBe('IDEMPOTENCY_KEY_IN_USE');
    }
    expect(await historyTotal()).toBe(1);
    expect(await storedInputs()).toBe(1);
  });

  it('answers a repeated submit with the original job, marked reused', async () => {
    const first = await submitWithKey('repeat-key', TINY_PNG, { language: 'eng' });
    expect(first.status).toBe(201);
    const job = (await first.json()) as Job;
    const again = await submitWithKey('repeat-key', TINY_PNG, { language: 'eng' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toMatchObject({ job_id: job.job_id, status: 'QUEUED', reused: true });
    // The draft standard's quoted form names the same key.
    const quoted = await submitWithKey('"repeat-key"', TINY_PNG, { language: 'eng' });
    expect(quoted.status).toBe(200);
  });

  it('refuses the same key with a different file or different fields, keeping nothing', async () => {
    const first = await submitWithKey('mismatch-key');
    expect(first.status).toBe(201);
    const inputsBefore = await storedInputs();
    for (const response of [
      await submitWithKey('mismatch-key', tinyWav(), {}, 'page.wav'),
      await submitWithKey('mismatch-key', TINY_PNG, { content_subtype: 'jain_literature' }),
    ]) {
      expect(response.status).toBe(422);
      expect(((await response.json()) as Problem).error_code).toBe('IDEMPOTENCY_KEY_MISMATCH');
    }
    expect(await storedInputs()).toBe(inputsBefore);
  });

  it('frees the key when the first request fails, so the corrected request can use it', async () => {
    const bad = await submitWithKey('fix-key', TINY_PNG, { job_type: 'TRANSCRIPTION' });
    expect(bad.status).toBe(422);
    const good = await submitWithKey('fix-key');
    expect(good.status).toBe(201);
  });

  it('starts afresh when the job a key created has been deleted', async () => {
    const job = (await (await submitWithKey('deleted-key')).json()) as Job;
    expect((await fetch(`${svc.url}/v1/jobs/${job.job_id}`, { method: 'DELETE' })).status).toBe(204);
    const again = await submitWithKey('deleted-key');
    expect(again.status).toBe(201);
    expect(((await again.json()) as Job).job_id).not.toBe(job.job_id);
  });

  it('refuses malformed keys', async () => {
    for (const key of ['', 'x'.repeat(256), 'spaces are not allowed']) {
      const response = await submitWithKey(key);
      expect(response.status).toBe(400);
      expect(((await response.json()) as Problem).error_code).toBe('IDEMPOTENCY_KEY_INVALID');
    }
  });
});

describe('IdempotencyStore', () => {
  it('scopes keys per user and lets only the holder complete or release a key', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    const keys = new RedisKeys(`${svc.service.store.keys.prefix}:store-test`);
    const store = new IdempotencyStore(redis, keys, { ttlSec: 60, lockSec: 60 });
    try {
      expect(await store.claim('alice', 'k', 'req-a')).toEqual({ kind: 'claimed' });
      expect(await store.claim('bob', 'k', 'req-b')).toEqual({ kind: 'claimed' });
      expect(await store.claim('alice', 'k', 'req-c')).toEqual({ kind: 'in_progress' });
      await store.release('alice', 'k', 'req-c');
      expect(await store.claim('alice', 'k', 'req-d')).toEqual({ kind: 'in_progress' });
      await store.complete('alice', 'k', 'req-a', 'job-1', 'fp-1');
      expect(await store.claim('alice', 'k', 'req-e')).toEqual({
        kind: 'completed',
        jobId: 'job-1',
        fingerprint: 'fp-1',
      });
    } finally {
      await redis.quit();
    }
  });
});
