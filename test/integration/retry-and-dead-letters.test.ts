import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../src/contract/index.js';
import type { Pipeline } from '../../src/pipelines/pipeline.js';
import { RetryPolicy } from '../../src/worker/retry-policy.js';
import type { RunningWorker } from '../../src/worker/start-worker.js';
import { FAST_RETRY as RETRY, startWorkerHarness, type WorkerHarness } from '../helpers/worker-harness.js';

// The real worker on real Redis; only the pipeline is ours: it fails as told, then succeeds.
interface Script {
  failures: Array<{ code: ErrorCode; details?: Record<string, unknown> }>;
  startedAt: number[];
}
const scripts = new Map<string, Script>();

/** A real Pipeline: throws the scripted AppErrors one per attempt, then produces a text output. */
const scriptedPipeline: Pipeline = async (input, context) => {
  const script = scripts.get(input.jobId);
  if (!script) throw new Error(`no script for ${input.jobId}`);
  script.startedAt.push(Date.now());
  await context.reportProgress({ stage: 'working', progress: 10 });
  const failure = script.failures.shift();
  if (failure)
    throw new AppError(failure.code, undefined, failure.details ? { details: failure.details } : {});
  return { outputs: { txt: `done ${input.jobId}` }, engine: 'scripted 1', quality: null };
};

let harness: WorkerHarness;
let worker: RunningWorker;

beforeAll(async () => {
  harness = await startWorkerHarness('retry', scriptedPipeline);
  worker = await harness.startWorker();
});
afterAll(async () => {
  await harness?.close();
});

async function submit(failures: Script['failures']): Promise<{ jobId: string; script: Script }> {
  const jobId = await harness.createJob({ enqueue: false });
  const script: Script = { failures, startedAt: [] };
  scripts.set(jobId, script);
  await harness.queues.enqueue({ job_id: jobId, request_id: `req-${jobId}`, job_type: 'OCR' });
  return { jobId, script };
}

const waitForStatus: WorkerHarness['waitForStatus'] = (...args) => harness.waitForStatus(...args);

describe('retries and dead letters through the real worker', () => {
  it('retries transient failures with full-jitter backoff and then completes', async () => {
    const { jobId, script } = await submit([
      { code: 'ENGINE_UNAVAILABLE' },
      { code: 'ENGINE_UNAVAILABLE' },
      { code: 'ENGINE_UNAVAILABLE' },
    ]);
    const seenStages = new Set<string>();
    const deadline = Date.now() + 20_000;
    let record = await harness.store.get(jobId);
    while (record?.status !== 'COMPLETED' && Date.now() < deadline) {
      if (record?.status === 'QUEUED' && record.stage.startsWith('retry')) {
        seenStages.add(record.stage);
        expect(record.next_attempt_at).toMatch(/Z$/);
      }
      await sleep(10);
      record = await harness.store.get(jobId);
    }
    expect(record).toMatchObject({ status: 'COMPLETED', attempts: 4, error_code: null });
    expect(record?.next_attempt_at ?? null).toBeNull();
    expect([...seenStages].every((stage) => /^retry scheduled \([2-4]\/4\)$/.test(stage))).toBe(true);
    expect(script.startedAt).toHaveLength(4);

    // Attempt n+1 starts no earlier than allowed and not (much) later than the jitter's upper bound.
    const policy = new RetryPolicy(RETRY);
    for (let n = 1; n < script.startedAt.length; n++) {
      const gap = (script.startedAt[n] ?? 0) - (script.startedAt[n - 1] ?? 0);
      const { high } = policy.boundsFor('transient', n);
      expect(gap).toBeGreaterThanOrEqual(0);
      // Slack for the worker's own work between attempts and BullMQ's delayed-job promotion.
      expect(gap).toBeLessThanOrEqual(high + 1500);
    }
    const history = await harness.deadLetters.attemptsOf(jobId);
    expect(history.map((entry) => [entry.kind, entry.attempt, entry.error_code, entry.error_class])).toEqual([
      ['failed', 1, 'ENGINE_UNAVAILABLE', 'transient'],
      ['failed', 2, 'ENGINE_UNAVAILABLE', 'transient'],
      ['failed', 3, 'ENGINE_UNAVAILABLE', 'transient'],
    ]);
    expect(await harness.deadLetters.get(jobId)).toBeNull();
  });

  it('honours a rate limit retry-after as the earliest next attempt', async () => {
    const { jobId, script } = await submit([
      { code: 'ENGINE_RATE_LIMITED', details: { retry_after_ms: 900 } },
    ]);
    await waitForStatus(jobId, ['COMPLETED']);
    const gap = (script.startedAt[1] ?? 0) - (script.startedAt[0] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(900 - 50);
    expect(gap).toBeLessThanOrEqual(new RetryPolicy(RETRY).boundsFor('rate_limit', 1, 900).high + 1500);
  });

  it('fails an input error at once with a dead letter holding the request and the attempt', async () => {
    const { jobId, script } = await submit([{ code: 'PDF_ENCRYPTED' }]);
    const record = await waitForStatus(jobId, ['FAILED']);
    expect(record).toMatchObject({ error_code: 'PDF_ENCRYPTED', attempts: 1, stage: 'failed' });
    expect(script.startedAt).toHaveLength(1);
    const letter = await harness.waitForDeadLetter(jobId);
    expect(letter).toMatchObject({
      job_id: jobId,
      queue: 'ocr',
      error_code: 'PDF_ENCRYPTED',
      error_class: 'input',
      attempts: 1,
      failed_stage: 'working',
      worker_id: worker.workerId,
      request: {
        job_type: 'OCR',
        content_subtype: 'general',
        language: 'hin+eng',
        input_filename: 'scan.png',
        request_id: `req-${jobId}`,
      },
    });
    expect(letter?.attempt_history).toHaveLength(1);
  });

  it('writes the dead letter in the same atomic step as FAILED: no snapshot shows one without the other', async () => {
    const { jobId } = await submit([{ code: 'INPUT_UNREADABLE' }]);
    const deadline = Date.now() + 20_000;
    let snapshots = 0;
    for (;;) {
      // One MULTI reads both keys at the same instant.
      const [[, status], [, letter]] = ((await harness.redis
        .multi()
        .hget(harness.keys.job(jobId), 'status')
        .get(harness.keys.deadLetter(jobId))
        .exec()) ?? []) as [[unknown, string | null], [unknown, string | null]];
      snapshots++;
      expect(letter !== null).toBe(status === 'FAILED');
      if (status === 'FAILED') break;
      expect(Date.now()).toBeLessThan(deadline);
    }
    expect(snapshots).toBeGreaterThan(1);
    const letter = await harness.deadLetters.get(jobId);
    expect(letter).toMatchObject({ error_code: 'INPUT_UNREADABLE', attempts: 1 });
    expect(letter?.failed_at).toBe((await harness.store.get(jobId))?.finished_at);
    expect(letter?.attempt_history.map((entry) => entry.error_code)).toEqual(['INPUT_UNREADABLE']);
  });

  it('dead-letters a job that exhausts its budget, and a replay runs it again exactly once', async () => {
    const { jobId, script } = await submit([{ code: 'INTERNAL_ERROR' }, { code: 'INTERNAL_ERROR' }]);
    const failed = await waitForStatus(jobId, ['FAILED']);
    expect(failed).toMatchObject({ error_code: 'INTERNAL_ERROR', attempts: 2 });
    const letter = await harness.waitForDeadLetter(jobId);
    expect(letter?.attempt_history.map((entry) => entry.attempt)).toEqual([1, 2]);

    const listed = await harness.deadLetters.list({ error_code: 'INTERNAL_ERROR', limit: 100 });
    expect(listed.items.map((item) => item.job_id)).toContain(jobId);

    const outcomes = await Promise.all([
      harness.deadLetters.replay(jobId, 'ops-1'),
      harness.deadLetters.replay(jobId, 'ops-2'),
    ]);
    expect(outcomes.sort()).toEqual(['already_queued', 'replayed']);
    const done = await waitForStatus(jobId, ['COMPLETED']);
    expect(done).toMatchObject({ error_code: null, attempts: 3, finished_at: expect.any(String) });
    expect(script.startedAt).toHaveLength(3);
    expect(await harness.deadLetters.get(jobId)).toBeNull();
    const history = await harness.deadLetters.attemptsOf(jobId);
    expect(history.map((entry) => entry.kind)).toEqual(['failed', 'failed', 'replayed']);
    expect(history[2]).toMatchObject({ request_id: expect.stringMatching(/^ops-/), attempt: 2 });
    expect(await harness.deadLetters.replay(jobId, 'ops-3')).toBe('not_failed');
  });

  it('lists dead letters newest first across pages, filters them and purges them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { jobId } = await submit([{ code: 'UNSUPPORTED_MEDIA_TYPE' }]);
      await harness.waitForDeadLetter(jobId);
      ids.push(jobId);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await harness.deadLetters.list({
        error_code: 'UNSUPPORTED_MEDIA_TYPE',
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.items.map((item) => item.job_id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await harness.deadLetters.list({ queue: 'transcription', limit: 10 })).items).toEqual([]);
    expect((await harness.deadLetters.list({ until: '2000-01-01T00:00:00.000Z', limit: 10 })).items).toEqual(
      [],
    );
    expect(await harness.deadLetters.purge()).toBeGreaterThanOrEqual(3);
    expect((await harness.deadLetters.list({ limit: 10 })).items).toEqual([]);
    expect((await harness.store.get(ids[0] ?? ''))?.status).toBe('FAILED');
  });
});
