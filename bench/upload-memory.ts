/**
 * Memory bound of the API while it streams a large upload: a separate `api` process with a 3 GB
 * limit receives a multipart upload generated on the fly (never on disk on the client side) and
 * its peak RSS (VmHWM from /proc) is read afterwards.
 *
 *   npm run bench:upload-memory          (UPLOAD_BENCH_MB=2048)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TINY_PNG } from '../test/helpers/tiny-files.js';
import { recordResult } from './shared/bench-results.js';
import { deleteRedisPrefix } from './shared/delete-redis-prefix.js';
import { peakRssMb, startServiceProcess } from './shared/service-process.js';

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

const prefix = `dt-bench:upload:${Date.now()}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-upload-'));
const api = await startServiceProcess('api', {
  DATA_DIR: dataDir,
  REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  UPLOAD_MAX_BYTES: String(3 * 1024 ** 3),
  RATE_LIMIT_MAX: '0',
  RATE_LIMIT_PUBLIC_MAX: '0',
  QUOTA_ACTIVE_JOBS: '0',
  QUOTA_JOBS_PER_DAY: '0',
});
try {
  const before = await peakRssMb(api.pid);
  const started = performance.now();
  const status = await upload(api.url, UPLOAD_MB);
  const seconds = (performance.now() - started) / 1000;
  const peak = await peakRssMb(api.pid);
  const lines = [
    `| upload | answer | time | throughput | API peak RSS before | API peak RSS after (goal ≤ 150 MB) |`,
    '| --- | --- | --- | --- | --- | --- |',
    `| ${UPLOAD_MB} MiB, generated on the fly | ${status} | ${seconds.toFixed(1)} s | ${(UPLOAD_MB / seconds).toFixed(0)} MiB/s | ${before.toFixed(0)} MB | **${peak.toFixed(0)} MB** ${peak <= 150 ? '✓' : '✗'} |`,
  ];
  for (const line of lines) console.log(line);
  await recordResult('API memory while streaming an upload', 'npm run bench:upload-memory', lines);
  if (status !== 201) process.exitCode = 1;
} finally {
  await api.stop();
  await deleteRedisPrefix(REDIS_URL, prefix);
  await rm(dataDir, { recursive: true, force: true });
}
