import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/job-record.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { newJobId } from '../../src/jobs/new-job-id.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { newRecord } from '../helpers/job-record-fixture.js';
import { connectTestRedis, deleteKeysWithPrefix, testKeyPrefix } from '../helpers/test-redis.js';

const prefix = testKeyPrefix('job-store');
let redis: Redis;
let store: JobStore;

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
    let after: string | undefined;
    do {
      const page = await store.listByOwner(owner, { limit: 3, after });
      expect(page.total).toBe(7);
      seen.push(...page.records.map((r) => r.job_id));
      after = page.after ?? undefined;
    } while (after);
    expect(seen).toEqual([...ids].reverse());
  });

  it('never repeats or skips a job while new jobs keep arriving between pages', async () => {
    const owner = 'busy-user';
    const base = Date.now() - 50_000;
    const existing: string[] = [];
    for (let i = 0; i < 25; i++) {
      const record = newRecord(owner, base + i);
      existing.push(record.job_id);
      await store.create(record);
    }
    const seen: string[] = [];
    let after: string | undefined;
    let arrivals = 0;
    do {
      const page = await store.listByOwner(owner, { limit: 4, after });
      seen.push(...page.records.map((r) => r.job_id));
      after = page.after ?? undefined;
      await store.create(newRecord(owner, Date.now() + arrivals++));
    } while (after);
    expect(seen).toEqual([...existing].reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('keeps type and status indexes and counts right across every transition', async () => {
    const owner = 'counting-user';
    const base = Date.now() - 10_000;
    const ocr = newRecord(owner, base);
    const speech = {
      ...newRecord(owner, base + 1),
      job_type: 'TRANSCRIPTION' as const,
      input_filename: 'talk.mp3',
    };
    const third = newRecord(owner, base + 2);
    for (const record of [ocr, speech, third]) await store.create(record);
    const counts = async (jobType?: 'OCR' | 'TRANSCRIPTION') =>
      (await store.listByOwner(owner, { limit: 10, jobType })).counts;

    expect(await counts()).toEqual({
      by_type: { OCR: 2, TRANSCRIPTION: 1 },
      by_status: { QUEUED: 3, PROCESSING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 },
    });
    await store.transition(ocr.job_id, 'PROCESSING', {}, { countAttempt: true });
    await store.transition(speech.job_id, 'PROCESSING', {}, { countAttempt: true });
    await store.transition(speech.job_id, 'QUEUED', { stage: 'retry scheduled' });
    await store.transition(speech.job_id, 'PROCESSING', {}, { countAttempt: true });
    await store.transition(ocr.job_id, 'COMPLETED', { progress: 100 });
    await store.requestCancel(third.job_id);
    // A refused transition changes nothing.
    await store.transition(ocr.job_id, 'FAILED');

    expect((await counts()).by_status).toEqual({
      QUEUED: 0,
      PROCESSING: 1,
      COMPLETED: 1,
      FAILED: 0,
      CANCELLED: 1,
    });
    expect((await counts('OCR')).by_status).toEqual({
      QUEUED: 0,
      PROCESSING: 0,
      COMPLETED: 1,
      FAILED: 0,
      CANCELLED: 1,
    });
    const active = await store.listByOwner(owner, { limit: 10, statuses: ['QUEUED', 'PROCESSING'] });
    expect(active.records.map((r) => r.job_id)).toEqual([speech.job_id]);
    expect(active.total).toBe(1);
    const finishedOcr = await store.listByOwner(owner, {
      limit: 10,
      jobType: 'OCR',
      statuses: ['COMPLETED', 'CANCELLED'],
    });
    expect(finishedOcr.records.map((r) => r.job_id)).toEqual([third.job_id, ocr.job_id]);

    await store.remove(third);
    expect((await counts()).by_status.CANCELLED).toBe(0);
    expect((await counts()).by_type.OCR).toBe(1);
  });

  it('finds jobs by any part of their file name, in any case and script', async () => {
    const owner = 'search-user';
    const names = ['Pravachan 2019.mp3', 'समयसार भाग १.pdf', 'pravachan-2020.mp3', 'notes.png'];
    for (const [i, name] of names.entries()) {
      await store.create({ ...newRecord(owner, Date.now() - 1000 + i), input_filename: name });
    }
    const search = async (q: string, limit = 10) => {
      const found: string[] = [];
      let after: string | undefined;
      do {
        const page = await store.listByOwner(owner, { limit, q, after });
        found.push(...page.records.map((r) => r.input_filename));
        after = page.after ?? undefined;
      } while (after);
      return found;
    };
    expect(await search('PRAVACHAN')).toEqual(['pravachan-2020.mp3', 'Pravachan 2019.mp3']);
    expect(await search('समयसार')).toEqual(['समयसार भाग १.pdf']);
    expect(await search('pravachan', 1)).toEqual(['pravachan-2020.mp3', 'Pravachan 2019.mp3']);
    expect(await search('nothing-like-this')).toEqual([]);
  });

  it("records every change in the owner's event stream, deletion included", async () => {
    const owner = 'event-user';
    const record = newRecord(owner);
    await store.create(record);
    await store.transition(record.job_id, 'PROCESSING', {}, { countAttempt: true });
    await store.reportProgress(record.job_id, 50, 'page 1 of 2');
    await store.transition(record.job_id, 'COMPLETED', { progress: 100 });
    await store.remove(record);
    const entries = (await redis.xrange(store.keys.userEvents(owner), '-', '+')) as Array<[string, string[]]>;
    expect(entries.map(([, fields]) => fields)).toEqual([
      ...Array.from({ length: 4 }, () => ['job_id', record.job_id, 'kind', 'changed']),
      ['job_id', record.job_id, 'kind', 'deleted'],
    ]);
  });

  it('removes a job from every index and the file-name table', async () => {
    const owner = 'removal-user';
    const record = newRecord(owner);
    await store.create(record);
    await store.transition(record.job_id, 'PROCESSING', {}, { countAttempt: true });
    expect(await store.remove(record)).toBe(true);
    const keys = await redis.keys(`${prefix}:user:${owner}:jobs*`);
    for (const key of keys) expect(await redis.zscore(key, record.job_id)).toBeNull();
    expect(await redis.hexists(store.keys.userFilenames(owner), record.job_id)).toBe(0);
    expect(await redis.exists(store.keys.job(record.job_id))).toBe(0);
    expect(await store.remove(record)).toBe(false);
  });

  it('hides a job from anyone but its owner', async () => {
    const record = newRecord('alice');
    await store.create(record);
    expect(await store.getOwned(record.job_id, 'mallory')).toBeNull();
    expect((await store.getOwned(record.job_id, 'alice'))?.job_id).toBe(record.job_id);
  });
});
