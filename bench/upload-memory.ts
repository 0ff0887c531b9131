/**
 * Memory bound of the API while it streams a large upload: a separate `api` process with a 3 GB
 * limit receives a multipart upload generated on the fly (never on disk on the client side) and
 * its peak RSS (VmHWM from /proc) is read afterwards.
 *
 *   npm run bench:upload-memory          (UPLOAD_BENCH_MB=2048 UPLOAD_BENCH_STORAGE=local,s3)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startS3LoopbackServer } from '../test/helpers/s3-loopback-server.js';
import { TINY_PNG } from '../test/helpers/tiny-files.js';
import { recordResult } from './shared/bench-results.js';
import { deleteRedisPrefix } from './shared/delete-redis-prefix.js';
import { peakRssMib, startServiceProcess } from './shared/service-process.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const UPLOAD_MB = Number(process.env.UPLOAD_BENCH_MB ?? 2048);
const BOUNDARY = 'dtuploadbench';
const SLICE = Buffer.alloc(1024 * 1024, 0x5a);

/** Sends a PNG head followed by `mb` MiB of filler as the multipart `file`, slice by slice. */
function upload(url: string, mb: number): Promise<number> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const length = head.length + TINY_PNG.length + mb * SLICE.length + tail.length;
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/jobs`,
      {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.write(head);
    req.write(TINY_PNG);
    let sent = 0;
    const pump = () => {
      while (sent < mb) {
        sent += 1;
        if (!req.write(SLICE)) return void req.once('drain', pump);
      }
      req.end(tail);
    };
    pump();
  });
}

/** Local disk, and S3 through the official SDK's multipart upload to a loopback S3 server. */
const STORAGES = (process.env.UPLOAD_BENCH_STORAGE ?? 'local,s3').split(',') as Array<'local' | 's3'>;

async function measure(storage: 'local' | 's3'): Promise<{ row: string; status: number }> {
  const prefix = `dt-bench:upload:${Date.now()}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-upload-'));
  // The loopback server keeps objects in this (unmeasured) process's memory.
  const s3 = storage === 's3' ? await startS3LoopbackServer('doc-transcribe') : null;
  const api = await startServiceProcess('api', {
    DATA_DIR: dataDir,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    UPLOAD_MAX_BYTES: String(3 * 1024 ** 3),
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_PUBLIC_MAX: '0',
    QUOTA_ACTIVE_JOBS: '0',
    QUOTA_JOBS_PER_DAY: '0',
    ...(s3
      ? {
          STORAGE_DRIVER: 's3',
          STORAGE_BUCKET: s3.bucket,
          STORAGE_ENDPOINT: s3.endpoint,
          STORAGE_FORCE_PATH_STYLE: 'true',
          AWS_ACCESS_KEY_ID: 'loopback',
          AWS_SECRET_ACCESS_KEY: 'loopback-secret',
          AWS_REGION: 'us-east-1',
        }
      : {}),
  });
  try {
    const before = await peakRssMib(api.pid);
    const started = performance.now();
    const status = await upload(api.url, UPLOAD_MB);
    const seconds = (performance.now() - started) / 1000;
    const peak = await peakRssMib(api.pid);
    const within = peak * 2 ** 20 <= 150e6 ? '✓' : '✗';
    const where = storage === 's3' ? 'S3 (SDK multipart, loopback server)' : 'local disk';
    return {
      status,
      row: `| ${UPLOAD_MB} MiB, generated on the fly | ${where} | ${status} | ${seconds.toFixed(1)} s | ${(UPLOAD_MB / seconds).toFixed(0)} MiB/s | ${before.toFixed(0)} MiB | **${peak.toFixed(0)} MiB** (${((peak * 2 ** 20) / 1e6).toFixed(0)} MB) ${within} |`,
    };
  } finally {
    await api.stop();
    await s3?.close();
    await deleteRedisPrefix(REDIS_URL, prefix);
    await rm(dataDir, { recursive: true, force: true });
  }
}

const results = [];
for (const storage of STORAGES) results.push(await measure(storage));
const lines = [
  '| upload | storage | answer | time | throughput | API peak RSS before | API peak RSS after (goal ≤ 150 MB = 143 MiB) |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => r.row),
];
for (const line of lines) console.log(line);
await recordResult('API memory while streaming an upload', 'npm run bench:upload-memory', lines);
if (results.some((r) => r.status !== 201)) process.exitCode = 1;
