/**
 * API load (PRS-021): autocannon against a separately started API process with real Redis —
 * small-file submit, job status and a history page — at several connection counts; then the
 * submit-to-start latency of an idle system (one `all` process, jobs sent one at a time).
 *
 *   npm run bench:api-load
 *   (API_BENCH_CONNECTIONS=5,10,50,200 API_BENCH_DURATION_SEC=5 API_BENCH_IDLE_JOBS=30)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { TINY_PNG } from '../test/helpers/tiny-files.js';
import { percentile, recordResult } from './shared/bench-results.js';
import { deleteRedisPrefix } from './shared/delete-redis-prefix.js';
import { startServiceProcess } from './shared/service-process.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONNECTIONS = (process.env.API_BENCH_CONNECTIONS ?? '5,10,50,200').split(',').map(Number);
const DURATION_SEC = Number(process.env.API_BENCH_DURATION_SEC ?? 5);
const IDLE_JOBS = Number(process.env.API_BENCH_IDLE_JOBS ?? 30);

const BOUNDARY = 'dtbenchboundary';
const SUBMIT_BODY = Buffer.concat([
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="dot.png"\r\nContent-Type: image/png\r\n\r\n`,
  ),
  TINY_PNG,
  Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
]);

/** Service settings of a load test: no per-user limits (one user makes all the requests). */
function serviceEnv(prefix: string, dataDir: string): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: process.env.API_BENCH_LOG_LEVEL ?? 'info',
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_PUBLIC_MAX: '0',
    RATE_LIMIT_ANONYMOUS_MAX: '0',
    QUOTA_ACTIVE_JOBS: '0',
    QUOTA_JOBS_PER_DAY: '0',
  };
}

interface Row {
  route: string;
  connections: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

/**
 * One autocannon step. Percentiles come from every response's own latency (autocannon's summary
 * has p97.5 but no p95), in ms with one decimal.
 */
async function load(
  url: string,
  route: string,
  connections: number,
  options: Partial<autocannon.Options>,
): Promise<Row> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: DURATION_SEC, ...options }, (error, done) =>
      error ? reject(error) : resolve(done),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(percentile(latencies, p) * 10) / 10;
  return {
    route,
    connections,
    rps: result.requests.average,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

const rows: Row[] = [];
const prefix = `dt-bench:api-load:${Date.now()}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-api-'));
const api = await startServiceProcess('api', serviceEnv(prefix, dataDir));
try {
  const first = await fetch(`${api.url}/v1/jobs`, {
    method: 'POST',
    body: SUBMIT_BODY,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
  });
  const { job_id: jobId } = (await first.json()) as { job_id: string };
  for (const connections of CONNECTIONS) {
    rows.push(
      await load(`${api.url}/v1/jobs`, `POST /v1/jobs (${TINY_PNG.length}-byte PNG)`, connections, {
        method: 'POST',
        body: SUBMIT_BODY,
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      }),
    );
    rows.push(await load(`${api.url}/v1/jobs/${jobId}`, 'GET /v1/jobs/:id', connections, {}));
    rows.push(await load(`${api.url}/v1/jobs?limit=50`, 'GET /v1/jobs?limit=50', connections, {}));
  }
} finally {
  await api.stop();
  await deleteRedisPrefix(REDIS_URL, prefix);
  await rm(dataDir, { recursive: true, force: true });
}

// Submit-to-start on an idle system: a worker waiting on an empty queue, one job at a time.
const idlePrefix = `dt-bench:api-idle:${Date.now()}`;
const idleDir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-idle-'));
const all = await startServiceProcess('all', serviceEnv(idlePrefix, idleDir));
const startLatencies: number[] = [];
try {
  for (let i = 0; i < IDLE_JOBS; i++) {
    const submitted = await fetch(`${all.url}/v1/jobs`, {
      method: 'POST',
      body: SUBMIT_BODY,
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    });
    const { job_id: id } = (await submitted.json()) as { job_id: string };
    const deadline = Date.now() + 60_000;
    let seenStart = false;
    for (;;) {
      const job = (await (await fetch(`${all.url}/v1/jobs/${id}`)).json()) as {
        status: string;
        created_at: string;
        started_at: string | null;
      };
      if (job.started_at && !seenStart) {
        seenStart = true;
        startLatencies.push(Date.parse(job.started_at) - Date.parse(job.created_at));
      }
      // The next job is sent once this one is done, so every job meets an idle worker.
      if (['COMPLETED', 'FAILED'].includes(job.status)) break;
      if (Date.now() > deadline) throw new Error(`job ${id} did not finish`);
      await sleep(20);
    }
  }
} finally {
  await all.stop();
  await deleteRedisPrefix(REDIS_URL, idlePrefix);
  await rm(idleDir, { recursive: true, force: true });
}
const sortedStart = [...startLatencies].sort((a, b) => a - b);

const table = [
  '| route | connections | req/s | p50 ms | p95 ms | p99 ms | errors (non-2xx) |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.route} | ${r.connections} | ${Math.round(r.rps)} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors} |`,
  ),
  '',
  `Submit-to-start latency, idle system (${startLatencies.length} jobs one at a time): p50 ${percentile(sortedStart, 50)} ms, p95 ${percentile(sortedStart, 95)} ms (goal p50 ≤ 50 ms).`,
  `Each load step ran ${DURATION_SEC} s; percentiles over every response's latency. Targets: GET /v1/jobs/:id ≥ 3,000 req/s, p99 ≤ 20 ms at 50 connections; submit ≥ 300 jobs/s.`,
];
for (const line of table) console.log(line);
await recordResult('API load', 'npm run bench:api-load', table);
const errors = rows.reduce((sum, r) => sum + r.errors, 0);
if (errors > 0) {
  console.error(`${errors} non-2xx answers or errors`);
  process.exitCode = 1;
}
