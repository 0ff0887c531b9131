import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { connectTestRedis, deleteKeysWithPrefix, testKeyPrefix } from '../helpers/test-redis.js';
import { tinyWav } from '../helpers/tiny-files.js';
import { startApiProcess, type WorkerProcess, waitUntil } from '../helpers/worker-process.js';

// Needs `npm run build:server`: the API runs as its own process from dist/, as in production.
const prefix = testKeyPrefix('api-shutdown');
let dataDir: string;
let api: WorkerProcess & { url: string };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'dt-api-shutdown-'));
  api = await startApiProcess(dataDir, prefix, { SHUTDOWN_TIMEOUT_MS: '60000' });
});
afterAll(async () => {
  if (api?.child.exitCode === null) api.child.kill('SIGKILL');
  const redis = connectTestRedis();
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
  await rm(dataDir, { recursive: true, force: true });
});

/** A multipart body with one file part, to be sent in pieces. */
function multipartBody(filename: string, bytes: Buffer): { boundary: string; body: Buffer } {
  const boundary = 'dt-slow-upload-boundary';
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { boundary, body };
}

/** Files of the data dir whose name says an upload is being written (`<key>.<uuid>.partial`). */
async function partialFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((name) => name.endsWith('.partial'));
}

/** What a fresh connection to the API gets: a status, or the connection error's code. */
async function freshConnection(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

describe('API graceful shutdown (SIGTERM)', () => {
  it('finishes an upload in flight with 201, refuses new connections, and exits 0', async () => {
    expect(await freshConnection(api.url)).toBe(200);
    // Larger than the 4,100 bytes sniffed first, so the upload is being stored when SIGTERM comes.
    const { boundary, body } = multipartBody('slow-talk.wav', tinyWav(32_000));
    const half = Math.floor(body.length / 2);
    const upload = request(`${api.url}/v1/jobs`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
    });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      upload.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      upload.on('error', reject);
    });
    upload.write(body.subarray(0, half));
    await waitUntil(async () => (await partialFiles(dataDir)).length > 0, 'the upload to be stored');

    api.child.kill('SIGTERM');
    await waitUntil(
      () => api.logs().some((line) => line.event === 'service.stopping'),
      'the API to start stopping',
    );
    // Not taking new work: a new connection is refused (or told 503) while the upload still runs.
    const fresh = await freshConnection(api.url);
    expect(fresh === 'ECONNREFUSED' || fresh === 503).toBe(true);
    expect(api.child.exitCode).toBeNull();

    upload.end(body.subarray(half));
    const response = await answered;
    expect(response.status).toBe(201);
    const job = JSON.parse(response.body) as Job;
    expect(await api.exited).toBe(0);

    const redis = connectTestRedis();
    try {
      const record = await new JobStore(redis, new RedisKeys(prefix)).get(job.job_id);
      expect(record).toMatchObject({ job_id: job.job_id, status: 'QUEUED' });
    } finally {
      await redis.quit();
    }
    expect(api.logs().some((line) => line.event === 'service.stopped')).toBe(true);
  });
});
