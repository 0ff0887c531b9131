import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipelines/pipeline.js';
import { Reconciler } from '../../src/worker/reconciler.js';
import { startWorkerHarness, type WorkerHarness } from '../helpers/worker-harness.js';

const donePipeline: Pipeline = async () => ({ outputs: { txt: 'done' }, engine: 'done 1', quality: null });

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness('backfill', donePipeline);
});
afterAll(async () => {
  await harness?.close();
});

describe('the upgrade path of the active-job index', () => {
  it('adds existing QUEUED and PROCESSING jobs missing from the index when a worker starts, once', async () => {
    const { redis, keys, store } = harness;
    // Jobs from before the index existed: active records, none of them in `jobs:active`.
    const queued = await harness.createJob({ enqueue: false });
    const running = await harness.createJob({ enqueue: false });
    await store.transition(running, 'PROCESSING', {}, { countAttempt: true });
    const finished = await harness.createJob({ enqueue: false });
    await store.transition(finished, 'CANCELLED', { stage: 'cancelled' });
    await redis.del(keys.activeJobs());

    await harness.startWorker();
    const active = await redis.zrange(keys.activeJobs(), 0, -1);
    expect(active.sort()).toEqual([queued, running].sort());
    expect(harness.logs.filter((l) => l.event === 'jobs.active_index_backfilled')).toEqual([
      expect.objectContaining({ added: 2 }),
    ]);
    expect(await redis.exists(keys.activeJobsBackfilled())).toBe(1);

    // Now the reconciler sees them: both are put back on the queue and the worker completes them.
    const reconciler = new Reconciler({
      redis,
      store,
      queues: harness.queues,
      storage: harness.storage,
      intervalMs: 60_000,
      graceMs: 0,
      logger: harness.logger,
    });
    try {
      const repairs = await reconciler.runOnce(Date.now() + 1000);
      expect(repairs).toEqual(
        expect.arrayContaining([
          { job_id: queued, repair: 'requeued_missing_entry' },
          { job_id: running, repair: 'handed_back_orphaned_processing' },
        ]),
      );
    } finally {
      await reconciler.stop();
    }
    expect((await harness.waitForStatus(queued, ['COMPLETED'])).outputs).toHaveProperty('txt');
    expect((await harness.waitForStatus(running, ['COMPLETED'])).outputs).toHaveProperty('txt');
    expect(await redis.zrange(keys.activeJobs(), 0, -1)).toEqual([]);

    // The marker makes later starts skip the walk.
    const late = await harness.createJob({ enqueue: false });
    await redis.zrem(keys.activeJobs(), late);
    await harness.startWorker();
    expect(await redis.zscore(keys.activeJobs(), late)).toBeNull();
    expect(harness.logs.filter((l) => l.event === 'jobs.active_index_backfilled')).toHaveLength(1);
  });
});
