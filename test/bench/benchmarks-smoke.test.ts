import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../helpers/test-redis.js';

/**
 * Each benchmark once, in a tiny configuration, only to prove it still runs and prints its
 * figures; results go to a temporary file so the repository stays clean. No time is asserted.
 */
let dir: string;
let resultsFile: string;

function runBench(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, BENCH_RESULTS_FILE: resultsFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-smoke-'));
  resultsFile = path.join(dir, 'benchmarks.md');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the benchmarks, in a tiny configuration', () => {
  it('api-load loads submit, status and history and measures submit-to-start', async () => {
    const run = await runBench('bench/api-load.ts', {
      API_BENCH_CONNECTIONS: '2',
      API_BENCH_DURATION_SEC: '1',
      API_BENCH_IDLE_JOBS: '2',
    });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('GET /v1/jobs/:id | 2 |');
    expect(await readFile(resultsFile, 'utf8')).toContain('### API load');
  });

  it('upload-memory streams an upload to a separate API process and reads its peak RSS', async () => {
    const run = await runBench('bench/upload-memory.ts', { UPLOAD_BENCH_MB: '8' });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/8 MiB, generated on the fly \| local disk \| 201 \|/);
    expect(run.output).toMatch(
      /8 MiB, generated on the fly \| S3 \(SDK multipart, loopback server\) \| 201 \|/,
    );
    expect(await readFile(resultsFile, 'utf8')).toContain('### API memory while streaming an upload');
  });

  it('scale-out runs a batch on one and two worker processes with no job lost or run twice', async () => {
    const run = await runBench('bench/scale-out.ts', { SCALE_BENCH_WORKERS: '1,2', SCALE_BENCH_JOBS: '2' });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('| 2/2 | 0 | 0 |');
  });

  it('scale-out with the I/O-bound engine reads each page once through the Gemini wire format', async () => {
    const run = await runBench('bench/scale-out.ts', {
      SCALE_BENCH_ENGINE: 'gemini',
      SCALE_BENCH_WORKERS: '1,2',
      SCALE_BENCH_JOBS: '2',
      SCALE_BENCH_LATENCY_MS: '20',
    });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/loopback server answering each page after 20 ms/);
    // started once each | Gemini requests | lost | attempts > 1, for both worker counts
    expect(run.output.match(/^\| [12] \(jobs each: .*\| 2\/2 \| 2 \| 0 \| 0 \|$/gm)).toHaveLength(4);
    expect(await readFile(resultsFile, 'utf8')).toContain('### Scale-out, I/O-bound engine');
  });

  it('ocr compares the whole service with bare tesseract and samples the worker while it reads a long PDF', async () => {
    const run = await runBench('bench/ocr/run-ocr-bench.ts', {}, [
      '--compare-pages',
      '2',
      '--pages',
      '3',
      '--text-pages',
      '5',
      '--in-flight',
      '1',
      '--dpi',
      '100',
      '--report-only',
    ]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/\| ratio service \/ bare \| \*\*\d/);
    expect(run.output).toMatch(/\| text layer, 5 born-digital pages .*pages\/s \|/);
    expect(run.output).toMatch(/\| peak RSS, worker Node process \| \d+ MiB \|/);
    expect(run.output).toMatch(/\| peak RSS, tesseract \| \d+ MiB/);
    expect(await readFile(resultsFile, 'utf8')).toContain('### OCR');
  }, 120_000);

  it('transcription compares the whole service with bare pocketsphinx and samples the worker', async () => {
    const run = await runBench('bench/transcription/run-transcription-bench.ts', {}, [
      '--minutes',
      '0.25',
      '--chunk-sec',
      '8',
      '--in-flight',
      '1',
      '--report-only',
    ]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(
      /\| bare `pocketsphinx_continuous`, 8 s byte-range chunks in 1 lanes \| [\d.]+ s/,
    );
    expect(run.output).toMatch(
      /\| service, HTTP submit → worker → COMPLETED .*\| [\d.]+ s, RTF [\d.]+ \([\d.]+ audio-min\/min\), [1-9]\d* words \|/,
    );
    expect(run.output).toMatch(/\| throughput ratio service \/ bare \| \*\*\d/);
    expect(run.output).toMatch(/\| peak RSS, worker Node process \| \d+ MiB/);
    expect(run.output).toMatch(/\| peak RSS, pocketsphinx_co \| \d+ MiB/);
    expect(await readFile(resultsFile, 'utf8')).toContain('### Transcription');
  }, 180_000);

  it('transcription without the bare side measures only the service job and its peak RSS', async () => {
    const run = await runBench('bench/transcription/run-transcription-bench.ts', {}, [
      '--minutes',
      '0.25',
      '--chunk-sec',
      '8',
      '--in-flight',
      '1',
      '--no-bare',
      '--report-only',
    ]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toMatch(/bare `pocketsphinx_continuous`|ratio service \/ bare/);
    expect(run.output).toMatch(/\| peak RSS, worker Node process \| \d+ MiB/);
  }, 180_000);

  it('history compares a small and a large history page', async () => {
    const run = await runBench('bench/history.ts', {
      HISTORY_BENCH_JOBS: '300',
      HISTORY_BENCH_REQUESTS: '5',
      HISTORY_BENCH_SECONDS: '1',
    });
    expect(run.code, run.output).toBe(0);
    expect(await readFile(resultsFile, 'utf8')).toContain('### History');
  });
});
