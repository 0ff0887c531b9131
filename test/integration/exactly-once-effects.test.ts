import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKeys } from '../../src/jobs/storage-keys.js';
import type { Pipeline } from '../../src/pipelines/pipeline.js';
import { startWorkerHarness, type WorkerHarness } from '../helpers/worker-harness.js';
import { waitUntil } from '../helpers/worker-process.js';

// At-least-once delivery made visible: a job's BullMQ lock is taken away while its first run is
// still going, so stalled detection hands the job to a second run. Both runs finish; only one may
// leave outputs, one completion and one history entry.
const runs = new Map<string, Array<() => void>>();

const gatedPipeline: Pipeline = async (input) => {
  const gates = runs.get(input.jobId) ?? [];
  const run = gates.length + 1;
  await new Promise<void>((resolve) => {
    gates.push(resolve);
    runs.set(input.jobId, gates);
  });
  return { outputs: { txt: `output of run ${run}` }, engine: `gated run ${run}`, quality: null };
};

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness('exactly-once', gatedPipeline);
});
afterAll(async () => {
  for (const gates of runs.values()) for (const release of gates) release();
  await harness?.close();
});

describe('a job processed twice', () => {
  it('keeps the effects of one run only: one set of outputs, one completion, one history entry', async () => {
    await harness.startWorker({ lockDurationMs: 1000, stalledIntervalMs: 300 });
    const jobId = await harness.createJob();
    await waitUntil(() => (runs.get(jobId)?.length ?? 0) === 1, 'the first run');
    const first = await harness.store.get(jobId);
    expect(first).toMatchObject({ status: 'PROCESSING', attempts: 1 });

    // The first run's worker loses its lock (as after a long pause); the job is handed out again.
    await harness.redis.del(`${harness.keys.queuePrefix()}:ocr:${jobId}:lock`);
    await waitUntil(() => (runs.get(jobId)?.length ?? 0) === 2, 'the second run', 20_000);
    expect(await harness.store.get(jobId)).toMatchObject({ status: 'PROCESSING', attempts: 2 });

    // The second run finishes first and completes the job.
    runs.get(jobId)?.[1]?.();
    const done = await harness.waitForStatus(jobId, ['COMPLETED']);
    expect(done.engine).toBe('gated run 2');

    // Then the first, superseded run finishes: it must write nothing and change nothing.
    runs.get(jobId)?.[0]?.();
    await waitUntil(
      () => harness.logs.some((l) => l.event === 'job.superseded' && l.job_id === jobId),
      'the first run to give up',
    );
    expect(await harness.store.get(jobId)).toEqual(done);
    expect(await text(await harness.storage.get(storageKeys.output(jobId, 'txt', done.claim_token)))).toBe(
      'output of run 2',
    );
    const completions = harness.logs.filter(
      (l) => l.event === 'job.transition' && l.to === 'COMPLETED' && l.job_id === jobId,
    );
    expect(completions).toHaveLength(1);
    // One entry in the owner's history, and the lost first run recorded once in the attempt history.
    const history = await harness.redis.zrange(harness.keys.userJobs('tester'), 0, -1);
    expect(history.filter((id) => id === jobId)).toHaveLength(1);
    const attempts = await harness.deadLetters.attemptsOf(jobId);
    expect(attempts.map((a) => [a.attempt, a.error_code])).toEqual([[1, 'WORKER_LOST']]);
  });
});
