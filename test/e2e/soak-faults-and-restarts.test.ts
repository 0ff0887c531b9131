import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { LATIN_FONT, makeScanImage } from '../helpers/make-ocr-fixtures.js';
import { connectTestRedis } from '../helpers/test-redis.js';
import { submitFile } from '../helpers/test-service.js';
import {
  startWorkerFleet,
  type WorkerFleet,
  type WorkerProcess,
  waitUntil,
} from '../helpers/worker-process.js';

// Soak: 500 one-page jobs, the test-only fault-injection engine failing 10 % of page reads (half
// transient, half permanent), two worker processes restarted five times along the way (SIGKILL and SIGTERM).
const JOBS = 500;
let fleet: WorkerFleet;

beforeAll(async () => {
  fleet = await startWorkerFleet('soak', {
    OCR_TEST_FAULT_ENGINE: 'transient=0.05,permanent=0.05,page_ms=10',
    WORKER_OCR_CONCURRENCY: '16',
    OCR_PAGES_IN_FLIGHT: '1',
    OCR_SEARCHABLE_PDF: 'false',
    WORKER_LOCK_DURATION_MS: '1500',
    WORKER_STALLED_INTERVAL_MS: '500',
    WORKER_MAX_STALLED_COUNT: '100',
    SHUTDOWN_TIMEOUT_MS: '300',
    JOB_RETRY_BASE_DELAY_MS: '50',
    JOB_RETRY_MAX_DELAY_MS: '400',
    RECONCILER_INTERVAL_MS: '2000',
  });
});
afterAll(async () => {
  await fleet?.close();
});

describe('soak: 500 jobs, random engine faults, workers restarted', () => {
  it('brings every job to a terminal state, with counts that add up and no duplicate outputs', async () => {
    const image = await makeScanImage(fleet.dir, 'soak', 'Soak test page', LATIN_FONT, { dpi: 72 });
    const bytes = await readFile(image);
    const workers = [fleet.startWorker(), fleet.startWorker()];
    const logs: Array<Record<string, unknown>> = [];
    const ids: string[] = [];

    // Restarts are tied to progress, not to the clock (a fast machine finishes 500 jobs in a few
    // seconds): jobs go in five batches, and once a third of a batch has ended one of the two
    // workers goes, alternately by SIGKILL and SIGTERM, while the rest of the batch is in flight.
    const BATCHES = 5;
    const terminal = (status: string) => status === 'COMPLETED' || status === 'FAILED';
    const endedCount = async (batch: string[]) =>
      (await fleet.svc.service.store.getMany(batch)).filter((r) => terminal(r.status)).length;
    let restarts = 0;
    for (let b = 0; b < BATCHES; b++) {
      const batch: string[] = [];
      for (let i = 0; i < JOBS / BATCHES; i++) {
        const response = await submitFile(fleet.svc.url, { name: `page-${b}-${i}.png`, bytes });
        expect(response.status).toBe(201);
        batch.push(((await response.json()) as Job).job_id);
      }
      ids.push(...batch);
      await waitUntil(
        async () => (await endedCount(batch)) >= batch.length / 3,
        'a third of the batch',
        30_000,
      );
      const slot = restarts % 2;
      const victim = workers[slot] as WorkerProcess;
      victim.child.kill(restarts % 4 < 2 ? 'SIGKILL' : 'SIGTERM');
      await victim.exited;
      logs.push(...victim.logs());
      workers[slot] = fleet.startWorker();
      restarts++;
    }
    await waitUntil(
      async () => (await fleet.svc.service.store.getMany(ids)).every((r) => terminal(r.status)),
      'every job to end',
      75_000,
    ).catch(async (error) => {
      const counts: Record<string, number> = {};
      for (const r of await fleet.svc.service.store.getMany(ids))
        counts[r.status] = (counts[r.status] ?? 0) + 1;
      throw new Error(`${(error as Error).message}: ${JSON.stringify(counts)}`);
    });
    for (const worker of workers) {
      worker.child.kill('SIGTERM');
      await worker.exited;
      logs.push(...worker.logs());
    }
    expect(restarts).toBe(BATCHES);

    const records = await fleet.svc.service.store.getMany(ids);
    expect(records).toHaveLength(JOBS);
    const completed = records.filter((r) => r.status === 'COMPLETED');
    const failed = records.filter((r) => r.status === 'FAILED');
    expect(completed.length + failed.length).toBe(JOBS);
    // About 5 % of page reads fail permanently: some jobs fail, most complete.
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(JOBS * 0.2);

    const keys = new RedisKeys(fleet.prefix);
    const redis = connectTestRedis();
    try {
      // Dead letters: exactly the failed jobs, each with its code.
      const letters = (await redis.zrange(keys.deadLetters(), 0, -1)).filter((id) => ids.includes(id));
      expect(letters.sort()).toEqual(failed.map((r) => r.job_id).sort());
      for (const record of failed) {
        const why = `${record.job_id}: ${record.error_code} ${record.error_message} (stage "${record.stage}", attempts ${record.attempts})`;
        expect(['INPUT_UNREADABLE', 'ENGINE_UNAVAILABLE', 'WORKER_LOST'], why).toContain(record.error_code);
      }
      // Nothing left active: not in the active index, not on the queue.
      const active = await redis.zrange(keys.activeJobs(), 0, -1);
      expect(active.filter((id) => ids.includes(id))).toEqual([]);
      const queue = new Queue('ocr', { connection: redis, prefix: keys.queuePrefix() });
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused');
      await queue.close();
      expect(counts).toEqual({ wait: 0, active: 0, delayed: 0, prioritized: 0, paused: 0 });
    } finally {
      await redis.quit();
    }

    // Outputs: one per completed job, the same text each time; none for a failed job.
    const storageRoot = path.join(fleet.svc.dataDir, 'storage', 'jobs');
    for (const record of completed) {
      expect(Object.keys(record.outputs)).toContain('txt');
      // Each run writes under its own claim; the completing claim's folder holds the result once.
      const claim = record.claim_token as string;
      expect(claim).toBeTruthy();
      const files = await readdir(path.join(storageRoot, record.job_id, 'output', claim));
      expect(files.filter((f) => f.startsWith('result.txt'))).toEqual(['result.txt']);
    }
    for (const record of failed) {
      await expect(readdir(path.join(storageRoot, record.job_id, 'output'))).rejects.toThrow();
    }
    const sample = await Promise.all(
      completed
        .slice(0, 20)
        .map(async (r) => (await fetch(`${fleet.svc.url}/v1/jobs/${r.job_id}/result?format=txt`)).text()),
    );
    expect(new Set(sample).size).toBe(1);
    // No job completed twice.
    const completions = logs
      .filter((l) => l.event === 'job.transition' && l.to === 'COMPLETED')
      .map((l) => l.job_id);
    expect(new Set(completions).size).toBe(completions.length);
  }, 110_000);
});
