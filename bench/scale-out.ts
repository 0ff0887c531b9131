/**
 * Scale-out proof: one API process and 1, 2, 4 (… 8) separate worker processes (each its own
 * `serve --role worker` with concurrency 1) against one Redis prefix. A fixed batch of small
 * scanned pages is submitted at once; the run reports throughput per worker count and checks
 * that every job ran exactly once (one `job.started` across all workers, attempts = 1) and none
 * was lost (all COMPLETED with a txt output).
 *
 * Two engines:
 * - `tesseract` (default): CPU-bound, so on one machine throughput stops at its cores.
 * - `gemini`: I/O-bound like any cloud engine. The workers run the real Gemini OCR engine (SDK,
 *   wire format) against a loopback server in this process that answers every request after a
 *   fixed latency, so a worker spends its job waiting, not computing, and throughput can grow
 *   past the cores with the worker count, as it does across machines. Each page must reach the
 *   loopback server exactly once.
 *
 *   npm run bench:scale-out                              (SCALE_BENCH_WORKERS=1,2,4 SCALE_BENCH_JOBS=24)
 *   SCALE_BENCH_ENGINE=gemini npm run bench:scale-out    (1,2,4,8 workers, 64 jobs, SCALE_BENCH_LATENCY_MS=2000)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GeminiLoopback, startGeminiLoopback } from '../test/helpers/gemini-loopback-server.js';
import { LATIN_FONT, makeScanImage } from '../test/helpers/make-ocr-fixtures.js';
import { recordResult } from './shared/bench-results.js';
import { deleteRedisPrefix } from './shared/delete-redis-prefix.js';
import { type ServiceProcess, startServiceProcess } from './shared/service-process.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ENGINE = process.env.SCALE_BENCH_ENGINE ?? 'tesseract';
if (ENGINE !== 'tesseract' && ENGINE !== 'gemini') {
  throw new Error(`SCALE_BENCH_ENGINE: expected tesseract or gemini, got "${ENGINE}"`);
}
const IO_BOUND = ENGINE === 'gemini';
const WORKER_COUNTS = (process.env.SCALE_BENCH_WORKERS ?? (IO_BOUND ? '1,2,4,8' : '1,2,4'))
  .split(',')
  .map(Number);
const JOBS = Number(process.env.SCALE_BENCH_JOBS ?? (IO_BOUND ? 64 : 24));
/** The loopback Gemini server's answer time per request (mode `gemini`). */
const LATENCY_MS = Number(process.env.SCALE_BENCH_LATENCY_MS ?? 2000);
const PAGE_TEXT = 'Many workers share one queue and never read a page twice.';

interface JobView {
  job_id: string;
  status: string;
  attempts: number;
  engine: string | null;
  outputs: Record<string, number>;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-scale-'));
const page = await readFile(
  await makeScanImage(dir, 'page', PAGE_TEXT, LATIN_FONT, {
    dpi: 150,
  }),
);
let gemini: GeminiLoopback | undefined;
if (IO_BOUND) {
  gemini = await startGeminiLoopback();
  gemini.fallback = { text: PAGE_TEXT, delayMs: LATENCY_MS };
}

const lines = IO_BOUND
  ? [
      `Engine: Gemini OCR (the real SDK and wire format) against a loopback server answering each page after ${LATENCY_MS} ms; one job = one page = one request. Ceiling: worker processes × ${(60_000 / LATENCY_MS).toFixed(1)} jobs/min.`,
      '',
      `| worker processes | jobs | wall time | jobs/min | of ceiling | started once each | Gemini requests | lost | attempts > 1 |`,
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ]
  : [
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
    ...(gemini
      ? {
          OCR_ENGINE: 'gemini',
          GEMINI_API_KEY: 'bench-key',
          GEMINI_MODEL: 'gemini-loopback',
          GEMINI_BASE_URL: gemini.baseUrl,
        }
      : {}),
  };
  if (gemini) gemini.requests.length = 0;
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
    const lost = jobs.filter(
      (job) =>
        job.status !== 'COMPLETED' || !job.outputs.txt || (IO_BOUND && !job.engine?.startsWith('gemini')),
    ).length;
    const retried = jobs.filter((job) => job.attempts > 1).length;
    // Mode gemini: every page read by the engine exactly once, none twice, none skipped.
    const requests = gemini?.requests.length ?? JOBS;
    if (once !== JOBS || lost > 0 || retried > 0 || requests !== JOBS) failed = true;
    const perWorker = pool.map((w) => w.logs.filter((e) => e.event === 'job.started').length).join('/');
    const perMinute = (JOBS / seconds) * 60;
    const ceiling = (workers * 60_000) / LATENCY_MS;
    lines.push(
      IO_BOUND
        ? `| ${workers} (jobs each: ${perWorker}) | ${JOBS} | ${seconds.toFixed(1)} s | ${perMinute.toFixed(1)} | ${((perMinute / ceiling) * 100).toFixed(0)} % | ${once}/${JOBS} | ${requests} | ${lost} | ${retried} |`
        : `| ${workers} (jobs each: ${perWorker}) | ${JOBS} | ${seconds.toFixed(1)} s | ${perMinute.toFixed(1)} | ${once}/${JOBS} | ${lost} | ${retried} |`,
    );
    console.log(lines.at(-1));
  } finally {
    for (const process of started.reverse()) await process.stop();
    await deleteRedisPrefix(REDIS_URL, prefix);
  }
}
lines.push(
  '',
  IO_BOUND
    ? `The engine's work is waiting on the network, so throughput grows with the worker processes even past the ${os.availableParallelism()} cores; what is left of the ceiling is each job's own CPU (upload, claim, page render, outputs, status writes) and the queue's hand-over.`
    : `On ${os.availableParallelism()} cores throughput stops growing once the workers' tesseract processes use every core: more workers then only share the same CPUs.`,
);
for (const line of lines) console.log(line);
await recordResult(
  IO_BOUND ? 'Scale-out, I/O-bound engine' : 'Scale-out',
  IO_BOUND ? 'SCALE_BENCH_ENGINE=gemini npm run bench:scale-out' : 'npm run bench:scale-out',
  lines,
);
await gemini?.close();
await rm(dir, { recursive: true, force: true });
if (failed) {
  console.error('a job was lost, processed twice or retried');
  process.exitCode = 1;
}
