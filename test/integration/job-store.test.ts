import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_VERSION } from '../../src/contract/index.js';
import type { JobRecord } from '../../src/jobs/job-record.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { newJobId } from '../../src/jobs/new-job-id.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { connectTestRedis, deleteKeysWithPrefix, testKeyPrefix } from '../helpers/test-redis.js';

const prefix = testKeyPrefix('job-store');
let redis: Redis;
let store: JobStore;

function newRecord(owner = 'alice', createdAt = Date.now()): JobRecord {
  const id = newJobId(createdAt);
  const now = new Date(createdAt).toISOString();
  return {
    contract_version: CONTRACT_VERSION,
    job_id: id,
    job_type: 'OCR',
    content_subtype: 'general',
    status: 'QUEUED',
    stage: 'queued',
    progress: 0,
    request_id: 'req-1',
    input_filename: 'स्कैन.pdf',
    input_size_bytes: 1234,
    input_mime: 'application/pdf',
    language: 'hin+eng',
    page_count: null,
    media_duration_sec: null,
    processing_duration_sec: null,
    engine: null,
    outputs: {},
    quality: null,
    error_code: null,
    error_message: null,
    attempts: 0,
    retry_of_job_id: null,
    cancel_requested: false,
    created_at: now,
    started_at: null,
    finished_at: null,
    updated_at: now,
    owner_id: owner,
    input_key: `jobs/${id}/input`,
    input_sha256: 'ab'.repeat(32),
  };
}

beforeAll(() => {
  redis = connectTestRedis();
  store = new JobStore(redis, new RedisKeys(prefix));
});

afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

describe('JobStore', () => {
  it('round-trips a record with typed values', async () => {
    const record = newRecord();
    await store.create(record);
    const read = await store.get(record.job_id);
    expect(read).toEqual(record);
    expect(typeof read?.input_size_bytes).toBe('number');
  });

  it('moves a job through QUEUED → PROCESSING → COMPLETED and stamps the times', async () => {
    const record = newRecord();
    await store.create(record);
    expect(await store.transition(record.job_id, 'PROCESSING', {}, { countAttempt: true })).toEqual({
      ok: true,
      from: 'QUEUED',
    });
    const done = await store.transition(record.job_id, 'COMPLETED', { outputs: { txt: 12 }, progress: 100 });
    expect(done.ok).toBe(true);
    const read = await store.get(record.job_id);
    expect(read).toMatchObject({ status: 'COMPLETED', attempts: 1, progress: 100, outputs: { txt: 12 } });
    expect(read?.started_at).toMatch(/Z$/);
    expect(read?.finished_at).toMatch(/Z$/);
  });

  it('refuses a transition the state machine forbids and leaves the job untouched', async () => {
    const record = newRecord();
    await store.create(record);
    expect(await store.transition(record.job_id, 'COMPLETED')).toEqual({
      ok: false,
      reason: 'refused',
      current: 'QUEUED',
    });
    expect((await store.get(record.job_id))?.status).toBe('QUEUED');
    expect(await store.transition(newJobId(), 'PROCESSING')).toEqual({ ok: false, reason: 'missing' });
  });

  it('never lets progress go backwards and ignores progress outside PROCESSING', async () => {
    const record = newRecord();
    await store.create(record);
    expect((await store.reportProgress(record.job_id, 10, 'x')).applied).toBe(false);
    await store.transition(record.job_id, 'PROCESSING', {}, { countAttempt: true });
    await store.reportProgress(record.job_id, 60, 'page 3 of 5');
    await store.reportProgress(record.job_id, 40, 'page 2 of 5');
    expect(await store.get(record.job_id)).toMatchObject({ progress: 60, stage: 'page 2 of 5' });
  });

  it('cancels a queued job at once and flags a running one for its worker', async () => {
    const queued = newRecord();
    const running = newRecord();
    await store.create(queued);
    await store.create(running);
    await store.transition(running.job_id, 'PROCESSING', {}, { countAttempt: true });

    const subscriber = redis.duplicate();
    const announced = new Promise<string>((resolve) =>
      subscriber.on('message', (_c, id: string) => resolve(id)),
    );
    await subscriber.subscribe(store.keys.cancelChannel());

    expect(await store.requestCancel(queued.job_id)).toEqual({ outcome: 'cancelled', status: 'QUEUED' });
    expect((await store.get(queued.job_id))?.status).toBe('CANCELLED');

    expect(await store.requestCancel(running.job_id)).toEqual({ outcome: 'requested', status: 'PROCESSING' });
    expect(await announced).toBe(running.job_id);
    expect(await store.get(running.job_id)).toMatchObject({ status: 'PROCESSING', cancel_requested: true });
    expect((await store.reportProgress(running.job_id, 50, 'page 1')).cancelRequested).toBe(true);
    expect(await store.requestCancel(queued.job_id)).toEqual({ outcome: 'final', status: 'CANCELLED' });
    await subscriber.quit();
  });

  it('lets exactly one of two concurrent final writes win (cancel versus complete)', async () => {
    for (let round = 0; round < 25; round++) {
      const record = newRecord();
      await store.create(record);
      await store.transition(record.job_id, 'PROCESSING', {}, { countAttempt: true });
      const writerA = redis.duplicate();
      const writerB = redis.duplicate();
      const [cancelled, completed] = await Promise.all([
        new JobStore(writerA, store.keys).transition(record.job_id, 'CANCELLED', { stage: 'cancelled' }),
        new JobStore(writerB, store.keys).transition(record.job_id, 'COMPLETED', { stage: 'done' }),
      ]);
      await Promise.all([writerA.quit(), writerB.quit()]);
      expect([cancelled.ok, completed.ok].filter(Boolean)).toHaveLength(1);
      const final = await store.get(record.job_id);
      expect(final?.status).toBe(cancelled.ok ? 'CANCELLED' : 'COMPLETED');
      expect(final?.stage).toBe(cancelled.ok ? 'cancelled' : 'done');
    }
  });

  it('pages through a user history newest first with exact cursors, and counts it', async () => {
    const owner = 'history-user';
    const base = Date.now() - 100_000;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const record = newRecord(owner, base + i);
      ids.push(record.job_id);
      await store.create(record);
    }
    await store.create(newRecord('someone-else'));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listByOwner(owner, { limit: 3, cursor });
      expect(page.total).toBe(7);
      seen.push(...page.records.map((r) => r.job_id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('hides a job from anyone but its owner', async () => {
    const record = newRecord('alice');
    await store.create(record);
    expect(await store.getOwned(record.job_id, 'mallory')).toBeNull();
    expect((await store.getOwned(record.job_id, 'alice'))?.job_id).toBe(record.job_id);
  });
});
