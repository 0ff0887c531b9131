import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import type { Job as BullJob } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStore } from '../../src/jobs/job-store.js';
import { QueueThroughput } from '../../src/jobs/queue-throughput.js';
import { storageKeys } from '../../src/jobs/storage-keys.js';
import type { Pipeline, PipelineResult } from '../../src/pipelines/pipeline.js';
import type { ObjectStorage } from '../../src/storage/object-storage.js';
import { CancellationRegistry } from '../../src/worker/cancellation-registry.js';
import { JobProcessor } from '../../src/worker/job-processor.js';
import { RetryPolicy } from '../../src/worker/retry-policy.js';
import { FAST_RETRY, startWorkerHarness, type WorkerHarness } from '../helpers/worker-harness.js';
import { waitUntil } from '../helpers/worker-process.js';

// At-least-once delivery, step by step: two runs of the same job (the second claim made while the
// first run is still finishing) driven by hand on real Redis, so the interleavings that a loaded
// machine produces only now and then happen every time.

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness('stale-attempts', async () => ({
    outputs: {},
    engine: 'unused',
    quality: null,
  }));
});
afterAll(async () => {
  await harness?.close();
});

/** A gate a run waits at until the test opens it. */
function gate() {
  let open = () => {};
  let reached = false;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    open,
    get reached() {
      return reached;
    },
    async pass() {
      reached = true;
      await opened;
    },
  };
}

/** What BullMQ hands a processor: the n-th delivery of the job. */
function delivery(jobId: string, n: number): BullJob {
  return {
    data: { job_id: jobId, request_id: `req-${jobId}`, job_type: 'OCR' },
    attemptsStarted: n,
    attemptsMade: n - 1,
    queueName: 'ocr',
    moveToDelayed: async () => undefined,
  } as unknown as BullJob;
}

function processor(
  name: string,
  pipeline: Pipeline,
  overrides: { storage?: ObjectStorage; store?: JobStore } = {},
): JobProcessor {
  return new JobProcessor({
    store: overrides.store ?? harness.store,
    storage: overrides.storage ?? harness.storage,
    pipelines: { OCR: pipeline, TRANSCRIPTION: pipeline },
    // Never started: no cancel is sent in these tests.
    cancellations: new CancellationRegistry(harness.redis, harness.keys.cancelChannel(), harness.logger),
    retryPolicy: new RetryPolicy(FAST_RETRY),
    extraWork: { min: 20, perUnit: 0.5 },
    deadLetters: harness.deadLetters,
    tmpDir: path.join(os.tmpdir(), `dt-stale-attempts-${name}-${process.pid}`),
    workerId: name,
    logger: harness.logger.child({ worker_id: name }),
  });
}

const result = (run: string): PipelineResult => ({
  outputs: { txt: `output of run ${run}` },
  engine: `run ${run}`,
  quality: null,
});

/** Storage whose output writes wait at `outputGate` first (the run is between its check and its write). */
function storageHeldAt(outputGate: ReturnType<typeof gate>): ObjectStorage {
  const storage = harness.storage;
  return new Proxy(storage, {
    get(target, property, receiver) {
      if (property === 'put') {
        return async (key: string, body: Parameters<ObjectStorage['put']>[1]) => {
          if (key.includes('/output/')) await outputGate.pass();
          return target.put(key, body);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const logsOf = (jobId: string, event: string) =>
  harness.logs.filter((l) => l.job_id === jobId && l.event === event);

async function expectOneRunsEffects(jobId: string, winner: string, staleClaim: string | null): Promise<void> {
  const done = await harness.store.get(jobId);
  expect(done).toMatchObject({ status: 'COMPLETED', engine: `run ${winner}`, attempts: 2 });
  const key = storageKeys.output(jobId, 'txt', done?.claim_token);
  expect(await text(await harness.storage.get(key))).toBe(`output of run ${winner}`);
  // The stale run removed what it wrote under its own claim, nothing else.
  expect(await harness.storage.exists(storageKeys.output(jobId, 'txt', staleClaim))).toBe(false);
  expect(logsOf(jobId, 'job.transition').filter((l) => l.to === 'COMPLETED')).toHaveLength(1);
  const history = await harness.redis.zrange(harness.keys.userJobs('tester'), 0, -1);
  expect(history.filter((id) => id === jobId)).toHaveLength(1);
  // The first claim, taken over, is in the attempt history once.
  const attempts = await harness.deadLetters.attemptsOf(jobId);
  expect(attempts.map((a) => [a.attempt, a.error_code])).toEqual([[1, 'WORKER_LOST']]);
}

describe('two runs of the same job', () => {
  it("refuses the first run's completion once a second claim took the job over; the outputs are the second's", async () => {
    const jobId = await harness.createJob({ enqueue: false });
    const heldBeforeOutputs = gate();
    const first = processor('first', async () => result('1'), { storage: storageHeldAt(heldBeforeOutputs) });
    const firstRun = first.process(delivery(jobId, 1));
    // The first run passed its last check and is about to write its outputs.
    await waitUntil(() => heldBeforeOutputs.reached, 'the first run at its output write');
    const firstClaim = (await harness.store.get(jobId))?.claim_token ?? '';

    // Its lock lapsed: BullMQ hands the job out again, and a second run claims it.
    const secondGate = gate();
    const second = processor('second', async () => {
      await secondGate.pass();
      return result('2');
    });
    const secondRun = second.process(delivery(jobId, 2));
    await waitUntil(() => secondGate.reached, 'the second run');

    // The first run finishes: its outputs land under its own claim and its completion is refused.
    heldBeforeOutputs.open();
    await firstRun;
    expect(await harness.store.get(jobId)).toMatchObject({ status: 'PROCESSING', attempts: 2 });
    expect(logsOf(jobId, 'job.stale_attempt').map((l) => l.write)).toEqual(['completion']);

    secondGate.open();
    await secondRun;
    await expectOneRunsEffects(jobId, '2', firstClaim);
  });

  it("never lets a first run that finishes after the second one clobber the second's outputs", async () => {
    const jobId = await harness.createJob({ enqueue: false });
    const heldBeforeOutputs = gate();
    const first = processor('first', async () => result('1'), { storage: storageHeldAt(heldBeforeOutputs) });
    const firstRun = first.process(delivery(jobId, 1));
    await waitUntil(() => heldBeforeOutputs.reached, 'the first run at its output write');
    const firstClaim = (await harness.store.get(jobId))?.claim_token ?? '';

    // The second run claims the job and completes it while the first one is still writing.
    await processor('second', async () => result('2')).process(delivery(jobId, 2));
    expect((await harness.store.get(jobId))?.status).toBe('COMPLETED');

    heldBeforeOutputs.open();
    await firstRun;
    await expectOneRunsEffects(jobId, '2', firstClaim);
    expect(logsOf(jobId, 'job.stale_attempt').map((l) => l.write)).toEqual(['completion']);
  });

  it("refuses a stale run's progress and failure: it stops quietly and records nothing", async () => {
    const jobId = await harness.createJob({ enqueue: false });
    const firstGate = gate();
    const first = processor('first', async (_input, context) => {
      await firstGate.pass();
      await context.reportProgress({ stage: 'stale page 9 of 9', progress: 90 });
      // What a run does when its engine breaks down once it is stopped: it throws.
      throw new Error('engine child killed');
    });
    const firstRun = first.process(delivery(jobId, 1));
    await waitUntil(() => firstGate.reached, 'the first run');

    const secondGate = gate();
    const secondRun = processor('second', async () => {
      await secondGate.pass();
      return result('2');
    }).process(delivery(jobId, 2));
    await waitUntil(() => secondGate.reached, 'the second run');

    firstGate.open();
    await firstRun;
    const during = await harness.store.get(jobId);
    expect(during).toMatchObject({ status: 'PROCESSING', attempts: 2, stage: 'starting', progress: 0 });
    expect(logsOf(jobId, 'job.stale_attempt').map((l) => l.write)).toEqual(['progress']);
    expect(logsOf(jobId, 'job.attempt_failed')).toHaveLength(0);

    secondGate.open();
    await secondRun;
    expect(await harness.store.get(jobId)).toMatchObject({ status: 'COMPLETED', engine: 'run 2' });
    const attempts = await harness.deadLetters.attemptsOf(jobId);
    expect(attempts.map((a) => [a.attempt, a.error_code])).toEqual([[1, 'WORKER_LOST']]);
  });
});

describe('a stale run that fails', () => {
  it('cannot send the job back to the queue nor fail it under the run that replaced it', async () => {
    const jobId = await harness.createJob({ enqueue: false });
    const firstGate = gate();
    const firstRun = processor('first', async () => {
      await firstGate.pass();
      throw new Error('engine crashed');
    }).process(delivery(jobId, 1));
    await waitUntil(() => firstGate.reached, 'the first run');

    const secondGate = gate();
    const secondRun = processor('second', async () => {
      await secondGate.pass();
      return result('2');
    }).process(delivery(jobId, 2));
    await waitUntil(() => secondGate.reached, 'the second run');

    firstGate.open();
    await firstRun;
    expect(await harness.store.get(jobId)).toMatchObject({ status: 'PROCESSING', attempts: 2 });
    expect(logsOf(jobId, 'job.stale_attempt').map((l) => l.write)).toEqual(['retry']);
    expect(logsOf(jobId, 'job.attempt_failed')).toHaveLength(0);

    secondGate.open();
    await secondRun;
    expect(await harness.store.get(jobId)).toMatchObject({ status: 'COMPLETED', engine: 'run 2' });
    const attempts = await harness.deadLetters.attemptsOf(jobId);
    expect(attempts.map((a) => [a.attempt, a.error_code])).toEqual([[1, 'WORKER_LOST']]);
  });
});

describe('a worker that dies while handing back a lost job', () => {
  it('leaves one attempt entry per lost attempt (the entry and the hand-back are one step)', async () => {
    const jobId = await harness.createJob({ enqueue: false });
    // A worker claimed the job and died (SIGKILL): the record stays PROCESSING under its claim.
    await harness.store.transition(
      jobId,
      'PROCESSING',
      { stage: 'page 2 of 5', claim_token: 'dead-claim' },
      { countAttempt: true },
    );

    // The next worker finds it PROCESSING and dies too, at its hand-back write.
    const dyingStore = new Proxy(harness.store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property === 'transition') {
          return (...args: Parameters<JobStore['transition']>) => {
            if (args[1] === 'QUEUED')
              return Promise.reject(new Error('killed (SIGKILL) before the hand-back'));
            return target.transition(...args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(
      processor('dying', async () => result('dying'), { store: dyingStore }).process(delivery(jobId, 2)),
    ).rejects.toThrow(/SIGKILL/);

    // A third worker recovers it and completes it.
    await processor('third', async () => result('3')).process(delivery(jobId, 3));
    const done = await harness.store.get(jobId);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    const attempts = await harness.deadLetters.attemptsOf(jobId);
    expect(attempts.map((a) => [a.attempt, a.error_code, a.stage])).toEqual([
      [1, 'WORKER_LOST', 'page 2 of 5'],
    ]);
    expect(attempts).toHaveLength((done?.attempts ?? 0) - 1);
  });
});

describe('throughput counters', () => {
  it('count a final transition once: a repeated write or announcement counts nothing', async () => {
    const throughput = new QueueThroughput(harness.redis, harness.keys);
    const counts = async () => {
      const window = await throughput.read(60);
      return {
        completed: window.minutes.reduce((sum, m) => sum + m.completed, 0),
        failed: window.minutes.reduce((sum, m) => sum + m.failed, 0),
        unreadable: window.failuresByCode.find((c) => c.error_code === 'INPUT_UNREADABLE')?.count ?? 0,
      };
    };
    // Jobs of the tests above were counted too: only this test's change is looked at.
    const before = await counts();
    const completedId = await harness.createJob({ enqueue: false });
    const failedId = await harness.createJob({ enqueue: false });
    for (const id of [completedId, failedId]) {
      await harness.store.transition(
        id,
        'PROCESSING',
        { claim_token: `claim-${id}` },
        { countAttempt: true },
      );
    }
    const complete = () =>
      harness.store.transition(
        completedId,
        'COMPLETED',
        { stage: 'done' },
        { claimToken: `claim-${completedId}` },
      );
    const fail = () =>
      harness.store.transition(
        failedId,
        'FAILED',
        { stage: 'failed', error_code: 'INPUT_UNREADABLE', error_message: 'unreadable' },
        { claimToken: `claim-${failedId}` },
      );
    expect((await complete()).ok).toBe(true);
    expect((await fail()).ok).toBe(true);
    // The same writes again (a retry after a lost answer, a duplicate run): refused, not counted.
    expect(await complete()).toMatchObject({ ok: false, reason: 'refused' });
    expect(await fail()).toMatchObject({ ok: false, reason: 'refused' });
    // The final status announced again (the reconciler's outbox pass): not counted either.
    await harness.store.announcePending(0);
    await harness.store.announcePending(0);

    expect(await counts()).toEqual({
      completed: before.completed + 1,
      failed: before.failed + 1,
      unreadable: before.unreadable + 1,
    });
  });
});
