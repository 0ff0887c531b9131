/**
 * Scale-out proof: one API process and 1, 2 and 4 separate worker processes (each its own
 * `serve --role worker` with concurrency 1) against one Redis prefix. A fixed batch of small
 * scanned pages is submitted at once; the run reports throughput per worker count and checks
 * that every job ran exactly once (one `job.started` across all workers, attempts = 1) and none
 * was lost (all COMPLETED with a txt output).
 *
 *   npm run bench:scale-out          (SCALE_BENCH_WORKERS=1,2,4 SCALE_BENCH_JOBS=24)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { LATIN_FONT, makeScanImage } from '../test/helpers/make-ocr-fixtures.js';
import { recordResult } from './shared/bench-results.js';
import { deleteRedisPrefix } from './shared/delete-redis-prefix.js';
import { type ServiceProcess, startServiceProcess } from './shared/service-process.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const WORKER_COUNTS = (process.env.SCALE_BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
const JOBS = Number(process.env.SCALE_BENCH_JOBS ?? 24);

interface JobView {
  job_id: string;
  status: string;
  attempts: number;
  outputs: Record<string, number>;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-scale-'));
const page = await readFile(
  await makeScanImage(dir, 'page', 'Many workers share one queue and never read a page twice.', LATIN_FONT, {
    dpi: 150,
  }),
);

const lines = [
  `| worker processes | jobs | wall time | jobs/min | started once each | lost | attempts > 1 |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
];
let failed = false;
for (const workers of WORKER_COUNTS) {
  const prefix = `dt-bench:scale:${workers}:${Date.now()}`;
  const env = {
    DATA_DIR: path.join(dir, `data-${workers}`),
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_PUBLIC_MAX: '0',
    QUOTA_ACTIVE_JOBS: '0',
    QUOTA_JOBS_PER_DAY: '0',
    WORKER_QUEUES: 'ocr',
    WORKER_OCR_CONCURRENCY: '1',
    OCR_PAGES_IN_FLIGHT: '1',
    OCR_LANGUAGES: 'eng',
    RECONCILER_INTERVAL_MS: '0',
  };
  const started: ServiceProcess[] = [];
  try {
    const api = await startServiceProcess('api', env);
    started.push(api);
    // Separate processes on one machine stand for separate hosts; they share Redis and storage.
    const pool = await Promise.all(
      Array.from({ length: workers }, () => startServiceProcess('worker', env, { keepLogs: true })),
    );
    started.push(...pool);
    const t0 = performance.now();
    const ids = await Promise.all(
      Array.from({ length: JOBS }, async (_, i) => {
        const form = new FormData();
        form.append('file', new Blob([page]), `page-${i}.png`);
        const answer = await fetch(`${api.url}/v1/jobs`, { method: 'POST', body: form });
        return ((await answer.json()) as JobView).job_id;
      }),
    );
    let jobs: JobView[] = [];
    const deadline = Date.now() + 30 * 60_000;
    while (Date.now() < deadline) {
      jobs = await Promise.all(
        ids.map(async (id) => (await (await fetch(`${api.url}/v1/jobs/${id}`)).json()) as JobView),
      );
      if (jobs.every((job) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status))) break;
      await sleep(200);
    }
    const seconds = (performance.now() - t0) / 1000;
    const starts = new Map<string, number>();
    for (const worker of pool) {
      for (const entry of worker.logs) {
        if (entry.event === 'job.started' && typeof entry.job_id === 'string') {
          starts.set(entry.job_id, (starts.get(entry.job_id) ?? 0) + 1);
        }
      }
    }
    const once = ids.filter((id) => starts.get(id) === 1).length;
    const lost = jobs.filter((job) => job.status !== 'COMPLETED' || !job.outputs.txt).length;
    const retried = jobs.filter((job) => job.attempts > 1).length;
    if (once !== JOBS || lost > 0 || retried > 0) failed = true;
    const perWorker = pool.map((w) => w.logs.filter((e) => e.event === 'job.started').length).join('/');
    lines.push(
      `| ${workers} (jobs each: ${perWorker}) | ${JOBS} | ${seconds.toFixed(1)} s | ${((JOBS / seconds) * 60).toFixed(1)} | ${once}/${JOBS} | ${lost} | ${retried} |`,
    );
    console.log(lines.at(-1));
  } finally {
    for (const process of started.reverse()) await process.stop();
    await deleteRedisPrefix(REDIS_URL, prefix);
  }
}
lines.push(
  '',
  `On ${os.availableParallelism()} cores throughput stops growing once the workers' tesseract processes use every core: more workers then only share the same CPUs.`,
);
for (const line of lines) console.log(line);
await recordResult('Scale-out', 'npm run bench:scale-out', lines);
await rm(dir, { recursive: true, force: true });
if (failed) {
  console.error('a job was lost, processed twice or retried');
  process.exitCode = 1;
}
