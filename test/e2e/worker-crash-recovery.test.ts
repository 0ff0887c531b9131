import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { submitFile, waitForJob } from '../helpers/test-service.js';
import { characterErrorRate } from '../helpers/text-metrics.js';
import { startWorkerFleet, type WorkerFleet, waitUntil } from '../helpers/worker-process.js';

// An API in this process and a real worker process (`serve --role worker`) sharing Redis and the
// data directory; the worker is killed with SIGKILL mid-job and a new one takes over.
const ITERATIONS = 3;
let fleet: WorkerFleet;

beforeAll(async () => {
  fleet = await startWorkerFleet('crash', {
    WORKER_OCR_CONCURRENCY: '1',
    OCR_PAGES_IN_FLIGHT: '1',
    OCR_SEARCHABLE_PDF: 'false',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
  });
});
afterAll(async () => {
  await fleet?.close();
});

describe('a worker killed with SIGKILL mid-job', () => {
  it('loses no job: stalled detection hands it to the next worker, which resumes from checkpoints', async () => {
    const pdf = await makeScannedPdf(fleet.dir, 3);
    const bytes = await readFile(pdf.path);
    let worker = fleet.startWorker();
    const allLogs: Array<Record<string, unknown>> = [];

    for (let i = 0; i < ITERATIONS; i++) {
      const response = await submitFile(fleet.svc.url, { name: `scan-${i}.pdf`, bytes });
      expect(response.status).toBe(201);
      const { job_id: jobId } = (await response.json()) as Job;

      const current = worker;
      await waitUntil(
        () => current.logs().some((l) => l.event === 'ocr.page.done' && l.job_id === jobId),
        `a first page of ${jobId}`,
      );
      current.child.kill('SIGKILL');
      await current.exited;
      allLogs.push(...current.logs());
      expect((await fleet.svc.service.store.get(jobId))?.status).toBe('PROCESSING');

      worker = fleet.startWorker();
      const job = await waitForJob(fleet.svc.url, jobId, undefined, 90_000);
      expect(job).toMatchObject({ status: 'COMPLETED', page_count: 3, error_code: null });
      expect(job.attempts).toBeGreaterThanOrEqual(2);
      const text = await (await fetch(`${fleet.svc.url}/v1/jobs/${jobId}/result?format=txt`)).text();
      expect(characterErrorRate(pdf.texts.join('\n'), text.replace(/^.*---.*$/gm, ''))).toBeLessThan(0.05);
      const logs = worker.logs().filter((l) => l.job_id === jobId);
      expect(logs.some((l) => l.event === 'job.recovered')).toBe(true);
      expect(logs.some((l) => l.event === 'ocr.page.resumed')).toBe(true);
    }
    allLogs.push(...worker.logs());
    worker.child.kill('SIGTERM');
    await worker.exited;
    // Each job completed exactly once, whatever number of workers touched it.
    const completions = allLogs.filter((l) => l.event === 'job.transition' && l.to === 'COMPLETED');
    expect(completions).toHaveLength(ITERATIONS);
    expect(new Set(completions.map((l) => l.job_id)).size).toBe(ITERATIONS);
  });
});
