/**
 * History benchmark (issue 3): a page of 50 with counts for a user with 100 jobs and for one with
 * 100,000 jobs, measured alternately through the real API, and GET /v1/jobs/:id under 50
 * concurrent connections. Needs Redis at REDIS_URL (default redis://127.0.0.1:6379).
 *
 *   npm run bench:history            (HISTORY_BENCH_JOBS=100000 HISTORY_BENCH_REQUESTS=400 by default)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/index.js';
import { CONTRACT_VERSION, JOB_STATUSES, JOB_TYPES } from '../src/contract/index.js';
import type { JobRecord } from '../src/jobs/job-record.js';
import { newJobId } from '../src/jobs/new-job-id.js';
import { createLogger } from '../src/observability/logger.js';
import { type RunningService, startService } from '../src/service/start-service.js';
import { recordResult } from './shared/bench-results.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const LARGE = Number(process.env.HISTORY_BENCH_JOBS ?? 100_000);
const SMALL = 100;
const REQUESTS = Number(process.env.HISTORY_BENCH_REQUESTS ?? 400);

function record(index: number, total: number): JobRecord {
  const created = Date.now() - (total - index) * 1000;
  const id = newJobId(created);
  const iso = new Date(created).toISOString();
  const status = JOB_STATUSES[index % JOB_STATUSES.length] ?? 'COMPLETED';
  return {
    contract_version: CONTRACT_VERSION,
    job_id: id,
    job_type: JOB_TYPES[index % 2] ?? 'OCR',
    content_subtype: 'general',
    status,
    stage: status.toLowerCase(),
    progress: status === 'COMPLETED' ? 100 : 0,
    request_id: `bench-${index}`,
    input_filename: `book ${index} भाग.pdf`,
    input_size_bytes: 1000 + index,
    input_mime: 'application/pdf',
    language: 'hin+eng',
    page_count: 10,
    media_duration_sec: null,
    processing_duration_sec: 3,
    engine: 'tesseract 5.3.0',
    outputs: { txt: 100, json: 200 },
    quality: { score: 0.9 },
    error_code: null,
    error_message: null,
    attempts: 1,
    retry_of_job_id: null,
    cancel_requested: false,
    created_at: iso,
    started_at: iso,
    finished_at: iso,
    updated_at: iso,
    owner_id: 'local',
    input_key: `jobs/${id}/input`,
    input_sha256: 'ab'.repeat(32),
  };
}

interface Deployment {
  name: string;
  prefix: string;
  dataDir: string;
  service: RunningService;
  url: string;
  someJobId: string;
}

async function deploy(name: string, jobs: number): Promise<Deployment> {
  const prefix = `dt-bench:${name}:${Date.now()}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `dt-bench-${name}-`));
  const config = loadConfig({
    SERVICE_ROLE: 'api',
    PORT: '0',
    DATA_DIR: dataDir,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    // One user makes every request: with the default limit most status reads would answer 429.
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_PUBLIC_MAX: '0',
    RATE_LIMIT_ANONYMOUS_MAX: '0',
  });
  const service = await startService(config, createLogger({ level: 'silent', role: 'api' }));
  const started = performance.now();
  let someJobId = '';
  for (let from = 0; from < jobs; from += 500) {
    const batch = Array.from({ length: Math.min(500, jobs - from) }, (_, i) => record(from + i, jobs));
    await Promise.all(batch.map((r) => service.store.create(r)));
    someJobId = batch.at(-1)?.job_id ?? someJobId;
  }
  console.log(`seeded ${jobs} jobs for "${name}" in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { name, prefix, dataDir, service, url: service.url ?? '', someJobId };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const itemsSeen: Record<string, number> = {};

async function timeRequest(name: string, url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url);
  const body = (await response.json()) as { items: unknown[] };
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  itemsSeen[name] = body.items.length;
  return elapsed;
}

async function cleanup(deployment: Deployment) {
  await deployment.service.close();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${deployment.prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  await redis.quit();
  await rm(deployment.dataDir, { recursive: true, force: true });
}

const results: string[] = [];
const small = await deploy('small', SMALL);
const large = await deploy('large', LARGE);
try {
  const queries = ['limit=50', 'limit=50&job_type=OCR&status=COMPLETED,FAILED'];
  for (const query of queries) {
    const samples: Record<string, number[]> = { small: [], large: [] };
    for (let i = 0; i < REQUESTS + 50; i++) {
      for (const d of i % 2 === 0 ? [small, large] : [large, small]) {
        const ms = await timeRequest(d.name, `${d.url}/v1/jobs?${query}`);
        if (i >= 50) samples[d.name]?.push(ms);
      }
    }
    const stats = Object.fromEntries(
      Object.entries(samples).map(([name, values]) => {
        const sorted = [...values].sort((a, b) => a - b);
        return [name, { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }];
      }),
    );
    const ratio = (stats.large?.p99 ?? 0) / (stats.small?.p99 ?? 1);
    const line =
      `GET /v1/jobs?${query} (${REQUESTS} requests each, sequential): ` +
      `${SMALL} jobs (${itemsSeen.small} items/page) p50 ${stats.small?.p50.toFixed(2)} ms p99 ${stats.small?.p99.toFixed(2)} ms | ` +
      `${LARGE} jobs (${itemsSeen.large} items/page) p50 ${stats.large?.p50.toFixed(2)} ms p99 ${stats.large?.p99.toFixed(2)} ms | ` +
      `p99 ratio ${ratio.toFixed(2)} (target ≤ 1.5)`;
    console.log(line);
    results.push(`- ${line}`);
  }

  const result = await autocannon({
    url: `${large.url}/v1/jobs/${large.someJobId}`,
    connections: 50,
    duration: Number(process.env.HISTORY_BENCH_SECONDS ?? 10),
  });
  const line =
    `GET /v1/jobs/:id, 50 connections, ${result.duration} s: ${Math.round(result.requests.average)} req/s, ` +
    `latency p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`;
  console.log(line);
  results.push(`- ${line}`);
  await recordResult('History', 'npm run bench:history', results);
} finally {
  await cleanup(small);
  await cleanup(large);
}
