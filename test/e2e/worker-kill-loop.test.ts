import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { QueueThroughput } from '../../src/jobs/queue-throughput.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { connectTestRedis } from '../helpers/test-redis.js';
import { submitFile, waitForJob } from '../helpers/test-service.js';
import {
  startWorkerFleet,
  type WorkerFleet,
  type WorkerProcess,
  waitUntil,
} from '../helpers/worker-process.js';

// An API in this process, two real worker processes with the test-only fault-injection engine (no
// faults, 100 ms a page). 20 times, one of them is killed with SIGKILL after a random number of
// pages and a fresh one started; jobs keep arriving so several are always in flight.
const KILLS = 20;
const PAGES = 6;
const IN_FLIGHT = 4;
let fleet: WorkerFleet;

beforeAll(async () => {
  fleet = await startWorkerFleet('kill-loop', {
    OCR_TEST_FAULT_ENGINE: 'page_ms=100',
    WORKER_OCR_CONCURRENCY: '2',
    OCR_PAGES_IN_FLIGHT: '1',
    OCR_SEARCHABLE_PDF: 'false',
    OCR_DPI: '72',
    WORKER_LOCK_DURATION_MS: '1500',
    WORKER_STALLED_INTERVAL_MS: '500',
    WORKER_MAX_STALLED_COUNT: '100',
  });
});
afterAll(async () => {
  await fleet?.close();
});

const pagesDone = (worker: WorkerProcess) => worker.logs().filter((l) => l.event === 'ocr.page.done').length;

describe('worker processes killed with SIGKILL at random pages, 20 times', () => {
  it('completes every job once, with the right output, its lost attempts recorded', async () => {
    const bytes = await readFile((await makeScannedPdf(fleet.dir, PAGES, { dpi: 72 })).path);
    const ids: string[] = [];
    const submit = async () => {
      const response = await submitFile(fleet.svc.url, { name: `scan-${ids.length}.pdf`, bytes });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as Job).job_id);
    };
    const unfinished = async () => {
      const records = await fleet.svc.service.store.getMany(ids);
      return records.filter((r) => r.status === 'QUEUED' || r.status === 'PROCESSING').length;
    };
    const workers = [fleet.startWorker(), fleet.startWorker()];
    const allLogs: Array<Record<string, unknown>> = [];

    for (let kill = 0; kill < KILLS; kill++) {
      while ((await unfinished()) < IN_FLIGHT) await submit();
      const slot = kill % 2;
      const victim = workers[slot] as WorkerProcess;
      // Killed after 1 to 4 more pages of its own, so always with a job in hand; the wait is long
      // because a loaded machine starts a worker slowly.
      // While it waits, jobs are topped up: the other worker may finish everything open before a
      // slow-starting victim takes one, and the victim must still have work to be killed in.
      const target = pagesDone(victim) + 1 + Math.floor(Math.random() * 4);
      const victimReached = async () => {
        if (pagesDone(victim) >= target) return true;
        if ((await unfinished()) < IN_FLIGHT) await submit();
        return false;
      };
      await waitUntil(victimReached, 'pages', 30_000).catch(async (error) => {
        // Says where the jobs were, so a stuck job is told apart from a slow machine.
        const open = (await fleet.svc.service.store.getMany(ids)).filter((r) => r.status !== 'COMPLETED');
        const where = open.map((r) => `${r.job_id} ${r.status} "${r.stage}" attempts=${r.attempts}`);
        throw new Error(`kill ${kill}: ${(error as Error).message}; open jobs: ${where.join('; ')}`);
      });
      victim.child.kill('SIGKILL');
      await victim.exited;
      allLogs.push(...victim.logs());
      workers[slot] = fleet.startWorker();
    }

    const finals: Job[] = [];
    for (const id of ids) finals.push(await waitForJob(fleet.svc.url, id, undefined, 60_000));
    for (const worker of workers) {
      worker.child.kill('SIGTERM');
      await worker.exited;
      allLogs.push(...worker.logs());
    }

    expect(finals.map((j) => j.status)).toEqual(Array(ids.length).fill('COMPLETED'));
    expect(finals.every((j) => j.page_count === PAGES && j.error_code === null)).toBe(true);
    // Correct output: the same input gives the same text, one line per page.
    const texts = await Promise.all(
      ids.map(async (id) => (await fetch(`${fleet.svc.url}/v1/jobs/${id}/result?format=txt`)).text()),
    );
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]?.match(/^page [0-9a-f]{16}$/gm)).toHaveLength(PAGES);
    // Exactly once: one completion per job, one entry per job in the owner's history. The
    // throughput counters are written by the transition itself, so they count every completion
    // that applied, including one whose worker was killed before it could log it.
    const keys = new RedisKeys(fleet.prefix);
    const redis = connectTestRedis();
    const counted = (await new QueueThroughput(redis, keys).read(60)).minutes;
    expect(counted.reduce((sum, minute) => sum + minute.completed, 0)).toBe(ids.length);
    const completions = allLogs.filter((l) => l.event === 'job.transition' && l.to === 'COMPLETED');
    const completed = completions.map((l) => l.job_id as string);
    expect(new Set(completed).size).toBe(completed.length);
    expect(completed.every((id) => ids.includes(id))).toBe(true);
    const owner = (await fleet.svc.service.store.get(ids[0] as string))?.owner_id as string;
    const history = await redis.zrange(keys.userJobs(owner), 0, -1);
    expect(history.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    // Attempts recorded: each lost attempt is in the job's attempt history as WORKER_LOST.
    const recovered = allLogs.filter((l) => l.event === 'job.recovered').length;
    expect(recovered).toBeGreaterThanOrEqual(KILLS / 2);
    let lost = 0;
    for (const job of finals) {
      const attempts = await redis.lrange(keys.jobAttempts(job.job_id), 0, -1);
      const entries = attempts.map((a) => JSON.parse(a) as { error_code: string });
      expect(entries.every((e) => e.error_code === 'WORKER_LOST')).toBe(true);
      expect(entries).toHaveLength(job.attempts - 1);
      lost += entries.length;
    }
    await redis.quit();
    expect(lost).toBeGreaterThanOrEqual(KILLS / 2);
  }, 240_000);
});
