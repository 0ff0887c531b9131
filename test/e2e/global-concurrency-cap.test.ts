import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { submitFile } from '../helpers/test-service.js';
import { startWorkerFleet, type WorkerFleet, waitUntil } from '../helpers/worker-process.js';

// An API in this process and two real worker processes, each allowed 2 OCR jobs at once, under a
// global cap of 1 for the OCR queue (BullMQ's global concurrency, kept in Redis).
const JOBS = 6;
let fleet: WorkerFleet;

beforeAll(async () => {
  fleet = await startWorkerFleet('global-cap', {
    WORKER_OCR_CONCURRENCY: '2',
    WORKER_GLOBAL_CONCURRENCY_OCR: '1',
    OCR_PAGES_IN_FLIGHT: '1',
    OCR_SEARCHABLE_PDF: 'false',
    OCR_DPI: '72',
  });
});
afterAll(async () => {
  await fleet?.close();
});

describe('the global concurrency cap of a queue', () => {
  it('never lets more than the cap run at once across worker processes', async () => {
    const workers = [fleet.startWorker(), fleet.startWorker()];
    for (const worker of workers) {
      await waitUntil(
        () => worker.logs().some((l) => l.event === 'worker.global_concurrency' && l.cap === 1),
        'the cap to be set',
      );
    }

    const bytes = await readFile((await makeScannedPdf(fleet.dir, 2, { dpi: 72 })).path);
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const response = await submitFile(fleet.svc.url, { name: `scan-${i}.pdf`, bytes });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as Job).job_id);
    }

    // Observed from the job records while they run: at most one PROCESSING at any poll.
    let most = 0;
    await waitUntil(
      async () => {
        const records = await Promise.all(ids.map((id) => fleet.svc.service.store.get(id)));
        most = Math.max(most, records.filter((r) => r?.status === 'PROCESSING').length);
        return records.every((r) => r?.status === 'COMPLETED' || r?.status === 'FAILED');
      },
      'every job to finish',
      80_000,
    );
    expect(most).toBe(1);

    // And from the records afterwards: the jobs' running times do not overlap.
    const records = await Promise.all(ids.map((id) => fleet.svc.service.store.get(id)));
    expect(records.map((r) => r?.status)).toEqual(Array(JOBS).fill('COMPLETED'));
    const spans = records
      .map((r) => ({ start: Date.parse(r?.started_at ?? ''), end: Date.parse(r?.finished_at ?? '') }))
      .sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]?.start).toBeGreaterThanOrEqual(spans[i - 1]?.end ?? Number.NaN);
    }
    // Each job ran once, in one of the two processes.
    const completions = workers
      .flatMap((w) => w.logs())
      .filter((l) => l.event === 'job.transition' && l.to === 'COMPLETED');
    expect(completions.map((l) => l.job_id).sort()).toEqual([...ids].sort());
  });
});
