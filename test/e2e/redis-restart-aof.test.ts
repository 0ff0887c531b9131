import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { type OwnRedisServer, ownRedisServer } from '../helpers/own-redis-server.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

// The whole service on a Redis of this test's own, with AOF; Redis is killed and restarted while
// a job is being processed and others wait.
let redis: OwnRedisServer;
let svc: TestService;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-aof-'));
  redis = await ownRedisServer({ appendOnly: true, appendFsyncAlways: true });
  svc = await startTestService('aof', {
    REDIS_URL: redis.url,
    OCR_PAGES_IN_FLIGHT: '1',
    OCR_SEARCHABLE_PDF: 'false',
    WORKER_LOCK_DURATION_MS: '10000',
    WORKER_STALLED_INTERVAL_MS: '2000',
  });
});
afterAll(async () => {
  await redis.start().catch(() => undefined);
  await svc?.close();
  await redis?.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function submit(name: string, bytes: Uint8Array): Promise<Job> {
  const response = await submitFile(svc.url, { name, bytes });
  expect(response.status).toBe(201);
  return (await response.json()) as Job;
}

describe('a Redis restart with AOF', () => {
  it('loses no accepted job: the running one and the queued ones all complete', async () => {
    const pdf = await makeScannedPdf(dir, 3);
    const running = await submit('scan.pdf', await readFile(pdf.path));
    const queued = [await submit('a.png', TINY_PNG), await submit('b.png', TINY_PNG)];
    await waitForJob(svc.url, running.job_id, (job) => job.status === 'PROCESSING' && job.progress > 0);

    await redis.stop();
    // The service notices (readiness fails), then Redis comes back with its AOF.
    const noticed = Date.now() + 10_000;
    let readiness = 200;
    while (Date.now() < noticed && readiness !== 503) {
      readiness = (await fetch(`${svc.url}/readyz`)).status;
      if (readiness !== 503) await sleep(50);
    }
    expect(readiness).toBe(503);
    await redis.start();

    const done = await waitForJob(svc.url, running.job_id, undefined, 90_000);
    expect(done).toMatchObject({ status: 'COMPLETED', page_count: 3 });
    for (const job of queued) {
      const finished = await waitForJob(svc.url, job.job_id, undefined, 60_000);
      expect(finished.status).not.toBe('QUEUED');
      expect(['COMPLETED', 'FAILED']).toContain(finished.status);
      // A tiny blank image may have no text, but it must have been processed, not lost.
      expect(finished.error_code ?? 'none').not.toBe('WORKER_LOST');
    }
    // The worker kept the work it had in hand: the running job was not started over.
    expect(done.attempts).toBe(1);
  });
});
