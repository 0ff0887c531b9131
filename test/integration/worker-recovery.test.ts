import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import type { Pipeline } from '../../src/pipelines/pipeline.js';
import { Reconciler } from '../../src/worker/reconciler.js';
import { startWorkerHarness, type WorkerHarness } from '../helpers/worker-harness.js';

// Jobs that wait for `release` (or an abort) before finishing: a worker can be stopped mid-job.
const gates = new Map<string, () => void>();
const started = new Set<string>();

const gatedPipeline: Pipeline = async (input, context) => {
  started.add(input.jobId);
  await context.reportProgress({ stage: 'working', progress: 5 });
  await new Promise<void>((resolve, reject) => {
    gates.set(input.jobId, resolve);
    context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true });
  });
  return { outputs: { txt: 'done' }, engine: 'gated 1', quality: null };
};

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness('recovery', gatedPipeline);
});
afterAll(async () => {
  for (const release of gates.values()) release();
  await harness?.close();
});

describe('graceful shutdown', () => {
  it('lets a running job finish within the grace period', async () => {
    const worker = await harness.startWorker();
    const jobId = await harness.createJob();
    await waitFor(() => gates.has(jobId));
    const closed = worker.close(10_000);
    gates.get(jobId)?.();
    await closed;
    expect((await harness.store.get(jobId))?.status).toBe('COMPLETED');
  });

  it('hands a job still running after the grace period back to the queue, and another worker finishes it', async () => {
    const first = await harness.startWorker();
    const jobId = await harness.createJob();
    await waitFor(() => gates.has(jobId));
    gates.delete(jobId);
    await first.close(200);
    const released = await harness.store.get(jobId);
    expect(released).toMatchObject({ status: 'QUEUED', stage: 'released by a stopping worker' });
    expect(await harness.queues.stateOf('OCR', jobId)).toMatch(/^(waiting|delayed)$/);
    expect(harness.logs.some((l) => l.event === 'job.released' && l.job_id === jobId)).toBe(true);

    await harness.startWorker();
    await waitFor(() => gates.has(jobId));
    gates.get(jobId)?.();
    const done = await harness.waitForStatus(jobId, ['COMPLETED', 'FAILED']);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 2, error_code: null });
  });
});

describe('reconciler', () => {
  it('is run by one leader at a time', async () => {
    const options = {
      redis: harness.redis,
      store: harness.store,
      queues: harness.queues,
      storage: harness.storage,
      intervalMs: 60_000,
      graceMs: 0,
      logger: createLogger({ level: 'silent', role: 'worker' }),
    };
    const a = new Reconciler(options);
    const b = new Reconciler(options);
    expect(await a.isLeader()).toBe(true);
    expect(await b.isLeader()).toBe(false);
    expect(await a.isLeader()).toBe(true);
    await a.stop();
    expect(await b.isLeader()).toBe(true);
    await b.stop();
  });

  it('requeues records without a queue entry and removes queue entries of final jobs, logging each repair', async () => {
    const reconciler = new Reconciler({
      redis: harness.redis,
      store: harness.store,
      queues: harness.queues,
      storage: harness.storage,
      intervalMs: 60_000,
      graceMs: 0,
      logger: harness.logger,
    });
    // QUEUED with no queue entry (an enqueue that never happened).
    const lostQueued = await harness.createJob({ enqueue: false });
    // PROCESSING with no queue entry (its entry vanished with a worker).
    const lostRunning = await harness.createJob({ enqueue: false });
    await harness.store.transition(lostRunning, 'PROCESSING', {}, { countAttempt: true });
    // A waiting entry whose record was cancelled behind the queue's back.
    const stale = await harness.createJob({ enqueue: false });
    await harness.store.transition(stale, 'CANCELLED', { stage: 'cancelled' });
    // The reconciler walks the index of active jobs, not every record: a final job is not in it.
    const active = await harness.redis.zrange(harness.keys.activeJobs(), 0, -1);
    expect(active).toEqual(expect.arrayContaining([lostQueued, lostRunning]));
    expect(active).not.toContain(stale);
    await harness.queues.queueFor('OCR').pause();
    try {
      await harness.queues.enqueue({ job_id: stale, request_id: 'r', job_type: 'OCR' });
      const repairs = await reconciler.runOnce(Date.now() + 1000);
      expect(repairs).toEqual(
        expect.arrayContaining([
          { job_id: lostQueued, repair: 'requeued_missing_entry' },
          { job_id: lostRunning, repair: 'handed_back_orphaned_processing' },
          { job_id: stale, repair: 'removed_entry_of_final_job' },
        ]),
      );
      expect(await harness.queues.stateOf('OCR', lostQueued)).not.toBeNull();
      expect(await harness.queues.stateOf('OCR', lostRunning)).not.toBeNull();
      expect(await harness.queues.stateOf('OCR', stale)).toBeNull();
      expect((await harness.store.get(lostRunning))?.status).toBe('QUEUED');
      // The lost attempt is in the history once, as when a worker's claim recovers a job.
      const lostAttempts = await harness.deadLetters.attemptsOf(lostRunning);
      expect(lostAttempts.map((a) => [a.attempt, a.error_code])).toEqual([[1, 'WORKER_LOST']]);
      const logged = harness.logs.filter((l) => l.event === 'reconciler.repaired').map((l) => l.job_id);
      expect(logged).toEqual(expect.arrayContaining([lostQueued, lostRunning, stale]));
      // A second pass finds nothing more to repair.
      expect(await reconciler.runOnce(Date.now() + 1000)).toEqual([]);
    } finally {
      await harness.queues.queueFor('OCR').resume();
      await reconciler.stop();
    }
  });
});
