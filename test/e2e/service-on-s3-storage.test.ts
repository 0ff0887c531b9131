import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, UploadSessionView } from '../../src/contract/index.js';
import { LATIN_FONT, writePdf } from '../helpers/make-ocr-fixtures.js';
import { type S3LoopbackServer, startS3LoopbackServer } from '../helpers/s3-loopback-server.js';
import {
  connectTestRedis,
  deleteKeysWithPrefix,
  TEST_REDIS_URL,
  testKeyPrefix,
} from '../helpers/test-redis.js';
import { submitFile, waitForJob } from '../helpers/test-service.js';

let s3: S3LoopbackServer;
let child: ChildProcess;
let dir: string;
let url = '';
/** The service's stdout and stderr (JSON log lines). */
let output = '';
const prefix = testKeyPrefix('s3-service');

beforeAll(async () => {
  s3 = await startS3LoopbackServer('doc-transcribe');
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-s3-service-'));
  // The real command, as an operator starts it: storage settings by env, keys by the SDK's chain.
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: {
      ...process.env,
      PORT: '0',
      DATA_DIR: dir,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      STORAGE_DRIVER: 's3',
      STORAGE_BUCKET: 'doc-transcribe',
      STORAGE_PREFIX: 'e2e/',
      STORAGE_ENDPOINT: s3.endpoint,
      STORAGE_FORCE_PATH_STYLE: 'true',
      STORAGE_SIGNED_URL_TTL_SEC: '120',
      AWS_ACCESS_KEY_ID: 'loopback',
      AWS_SECRET_ACCESS_KEY: 'loopback-secret',
      RATE_LIMIT_MAX: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 40_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const found = /"event":"api\.listening"[^\n]*"url":"([^"]+)"/.exec(output);
      if (found?.[1]) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('exit', () => reject(new Error(`service exited:\n${output}`)));
  });
}, 60_000);

afterAll(async () => {
  child?.kill('SIGTERM');
  const redis = connectTestRedis();
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the whole service on S3-compatible storage', () => {
  it('is ready only once the bucket takes writes', async () => {
    const answer = await fetch(`${url}/readyz`);
    expect(answer.status).toBe(200);
  });

  it('keeps the upload and the results in the bucket and redirects downloads to signed URLs', async () => {
    const pdfPath = path.join(dir, 'letter.pdf');
    await writePdf(pdfPath, [{ text: 'Shared storage lets many machines work.', font: LATIN_FONT }]);
    const submitted = await submitFile(url, { name: 'letter.pdf', bytes: await readFile(pdfPath) });
    expect(submitted.status).toBe(201);
    const { job_id: jobId } = (await submitted.json()) as Job;
    expect(s3.objects.has(`e2e/jobs/${jobId}/input`)).toBe(true);

    const job = await waitForJob(url, jobId, undefined, 45_000);
    expect(job.status).toBe('COMPLETED');
    // Outputs live under the claim (attempt) that completed the job: `jobs/<id>/output/<claim>/`.
    const resultKey = new RegExp(`^e2e/jobs/${jobId}/output/[0-9a-f-]{36}/result\\.txt$`);
    expect([...s3.objects.keys()].filter((key) => resultKey.test(key))).toHaveLength(1);
    expect([...s3.objects.keys()].some((key) => key.startsWith('jobs/'))).toBe(false);

    const redirect = await fetch(`${url}/v1/jobs/${jobId}/result?format=txt`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location') ?? '';
    expect(location).toMatch(
      new RegExp(`^${s3.endpoint}/doc-transcribe/e2e/jobs/${jobId}/output/[0-9a-f-]{36}/result\\.txt\\?`),
    );
    expect(location).toContain('X-Amz-Expires=120');
    const download = await fetch(location);
    expect(download.headers.get('content-disposition')).toContain('letter.txt');
    expect(await download.text()).toContain('Shared storage lets many machines work.');
    expect(s3.openUploads()).toBe(0);
  });
  it('takes a resumable upload through the bucket: a cut PATCH leaves nothing, the job reads the parts in order', async () => {
    const pdfPath = path.join(dir, 'memo.pdf');
    await writePdf(pdfPath, [{ text: 'Parts travel through the bucket in order.', font: LATIN_FONT }]);
    const bytes = await readFile(pdfPath);
    const created = await fetch(`${url}/v1/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'memo.pdf', size: bytes.length }),
    });
    expect(created.status).toBe(201);
    const session = (await created.json()) as UploadSessionView;
    const sessionUrl = `${url}/v1/uploads/${session.upload_id}`;
    const partKeys = () =>
      [...s3.objects.keys()].filter((k) => k.startsWith(`e2e/uploads/${session.upload_id}/`));
    const patch = (offset: number, body: Uint8Array) =>
      fetch(sessionUrl, {
        method: 'PATCH',
        headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) },
        body,
      });
    const half = Math.ceil(bytes.length / 2);
    expect((await patch(0, bytes.subarray(0, half))).status).toBe(204);

    // The second half, cut after a few bytes: the store's upload is aborted, no part counts.
    const cut = http.request(sessionUrl, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/offset+octet-stream',
        'content-length': String(bytes.length - half),
        'upload-offset': String(half),
      },
    });
    cut.on('error', () => undefined);
    await new Promise<void>((resolve) => cut.write(bytes.subarray(half, half + 10), () => resolve()));
    cut.destroy();
    const deadline = Date.now() + 20_000;
    while (!output.includes('"event":"upload.part_aborted"') && Date.now() < deadline) await sleep(50);
    const asked = await fetch(sessionUrl, { method: 'HEAD' });
    expect(asked.headers.get('upload-offset')).toBe(String(half));
    expect(partKeys()).toHaveLength(1);

    expect((await patch(half, bytes.subarray(half))).status).toBe(204);
    expect(partKeys()).toHaveLength(2);
    const submitted = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ upload_id: session.upload_id }),
    });
    expect(submitted.status).toBe(201);
    const { job_id: jobId } = (await submitted.json()) as Job;
    expect(partKeys()).toEqual([]);
    expect(s3.objects.get(`e2e/jobs/${jobId}/input`)?.equals(bytes)).toBe(true);
    const job = await waitForJob(url, jobId, undefined, 45_000);
    expect(job.status).toBe('COMPLETED');
    expect(s3.openUploads()).toBe(0);
  });
});
