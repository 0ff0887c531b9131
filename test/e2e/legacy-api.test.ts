import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LegacyError, LegacyJob } from '../../src/contract/index.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { testKeyPrefix } from '../helpers/test-redis.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

// The earlier product's routes over the v1 ones, switched on and off at runtime by feature flag
// `legacy_api` through the admin API: one deployment of two processes sharing one Redis prefix,
// so a flag set through one is seen by the other without a restart.
let svc: TestService;
let other: TestService;
let dir: string;
let pdf: Buffer;
let threePages: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-legacy-'));
  pdf = await readFile((await makeScannedPdf(dir, 1)).path);
  threePages = await readFile((await makeScannedPdf(dir, 4)).path);
  const prefix = testKeyPrefix('legacy');
  svc = await startTestService('legacy', {
    REDIS_KEY_PREFIX: prefix,
    OCR_PAGES_IN_FLIGHT: '1',
    OCR_SEARCHABLE_PDF: 'false',
    FLAGS_REFRESH_SEC: '3600',
  });
  other = await startTestService('legacy-api-only', {
    REDIS_KEY_PREFIX: prefix,
    SERVICE_ROLE: 'api',
    FLAGS_REFRESH_SEC: '3600',
  });
});
afterAll(async () => {
  await other?.close();
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

function upload(baseUrl: string, name: string, bytes: Uint8Array, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append('file', new Blob([bytes]), name);
  return fetch(`${baseUrl}/upload`, { method: 'POST', body: form });
}

async function setFlag(enabled: boolean | null): Promise<Response> {
  return fetch(`${svc.url}/v1/admin/flags/legacy_api`, {
    method: enabled === null ? 'DELETE' : 'PUT',
    headers: enabled === null ? {} : { 'content-type': 'application/json' },
    body: enabled === null ? undefined : JSON.stringify({ enabled }),
  });
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

async function legacyStatus(baseUrl: string, jobId: string, done: (job: LegacyJob) => boolean) {
  let last: LegacyJob | undefined;
  const reached = await eventually(async () => {
    last = (await (await fetch(`${baseUrl}/status/${jobId}`)).json()) as LegacyJob;
    return done(last);
  }, 90_000);
  if (!reached) throw new Error(`job ${jobId} stuck: ${JSON.stringify(last)}`);
  return last as LegacyJob;
}

describe('feature flag legacy_api', () => {
  it('is off by default: the earlier routes answer 404 like unknown ones', async () => {
    const flags = (await (await fetch(`${svc.url}/v1/admin/flags`)).json()) as {
      flags: Array<{ name: string; enabled: boolean; source: string; env: string }>;
    };
    expect(flags.flags).toContainEqual(
      expect.objectContaining({ name: 'legacy_api', enabled: false, source: 'env', env: 'FLAG_LEGACY_API' }),
    );
    expect((await upload(svc.url, 'scan.pdf', pdf)).status).toBe(404);
    expect((await fetch(`${svc.url}/contract/job-status`)).status).toBe(404);
  });

  it('refuses unknown flags and bad bodies with catalog codes', async () => {
    const unknown = await fetch(`${svc.url}/v1/admin/flags/no_such_flag`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true }),
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error_code: string }).error_code).toBe('FEATURE_FLAG_UNKNOWN');
    const bad = await fetch(`${svc.url}/v1/admin/flags/legacy_api`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: 'yes' }),
    });
    expect(bad.status).toBe(400);
  });

  it('switched on through the admin API, takes effect in both processes without a restart', async () => {
    const set = await setFlag(true);
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ name: 'legacy_api', enabled: true, source: 'override' });
    expect(svc.logs.some((line) => line.event === 'flag.changed' && line.flag === 'legacy_api')).toBe(true);
    // The other process hears of it on the flags channel, long before its hourly re-read.
    expect(
      await eventually(async () => (await fetch(`${other.url}/contract/job-status`)).status === 200),
    ).toBe(true);
    expect(other.logs.some((line) => line.event === 'flag.applied' && line.enabled === true)).toBe(true);
  });
});

describe('the earlier API over v1', () => {
  it('serves the earlier contract document', async () => {
    const contract = (await (await fetch(`${svc.url}/contract/job-status`)).json()) as Record<
      string,
      unknown
    >;
    expect(contract).toMatchObject({
      contract_version: '1',
      job_types: ['ocr', 'transcription'],
      terminal_statuses: ['COMPLETED', 'FAILED', 'CANCELLED'],
    });
    expect(contract.fields).toEqual(
      expect.arrayContaining(['job_id', 'filename', 'error_message', 'duration_sec']),
    );
  });

  it('takes an upload and reports it with the earlier field names until it completes', async () => {
    const response = await upload(svc.url, 'पुस्तक scan.pdf', pdf, { job_type: 'ocr', language: 'eng' });
    expect(response.status).toBe(201);
    const submitted = (await response.json()) as LegacyJob;
    expect(submitted).toMatchObject({
      job_type: 'ocr',
      status: 'QUEUED',
      filename: 'पुस्तक scan.pdf',
      subtype: 'general',
    });
    expect(submitted).not.toHaveProperty('input_filename');

    const done = await legacyStatus(svc.url, submitted.job_id, (job) => job.status === 'COMPLETED');
    expect(done).toMatchObject({ progress: 100, page_count: 1, error_code: null, error_message: null });
    expect(done.completed_at).toEqual(expect.any(String));
    const text = await fetch(`${svc.url}${done.result_urls.txt}`);
    expect(text.status).toBe(200);
    expect(await text.text()).toMatch(/\w{4,}/);

    const list = (await (await fetch(`${svc.url}/jobs?job_type=ocr&limit=10`)).json()) as {
      jobs: LegacyJob[];
      count: number;
    };
    expect(list.jobs.map((job) => job.job_id)).toContain(submitted.job_id);
    expect(list.count).toBe(list.jobs.length);
    expect(list.jobs.every((job) => job.job_type === 'ocr')).toBe(true);
  });

  it('cancels and retries with the earlier routes', async () => {
    const submitted = (await (await upload(svc.url, 'long.pdf', threePages)).json()) as LegacyJob;
    const cancel = await fetch(`${svc.url}/jobs/${submitted.job_id}/cancel`, { method: 'POST' });
    expect([200, 202]).toContain(cancel.status);
    expect(((await cancel.json()) as LegacyJob).job_id).toBe(submitted.job_id);
    await legacyStatus(svc.url, submitted.job_id, (job) => job.status === 'CANCELLED');

    const retry = await fetch(`${svc.url}/jobs/${submitted.job_id}/retry`, { method: 'POST' });
    expect(retry.status).toBe(201);
    const retried = (await retry.json()) as LegacyJob;
    expect(retried.job_id).not.toBe(submitted.job_id);
    expect(retried).toMatchObject({ filename: 'long.pdf', job_type: 'ocr' });
    await fetch(`${svc.url}/jobs/${retried.job_id}/cancel`, { method: 'POST' });
  });

  it('answers errors in the earlier envelope, with the caller’s request id', async () => {
    const response = await fetch(`${svc.url}/status/0190a0a0-0000-7000-8000-000000000000`, {
      headers: { 'x-request-id': 'legacy-test-1' },
    });
    expect(response.status).toBe(404);
    const body = (await response.json()) as LegacyError;
    expect(body).toEqual({
      error_code: 'JOB_NOT_FOUND',
      error_message: expect.any(String),
      detail: expect.any(String),
      path: '/status/0190a0a0-0000-7000-8000-000000000000',
      request_id: 'legacy-test-1',
    });
    const refused = await upload(svc.url, 'notes.bin', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(((await refused.json()) as LegacyError).error_code).toMatch(/^[A-Z_]+$/);
  });

  it('goes back to 404 everywhere when the override is dropped', async () => {
    const cleared = await setFlag(null);
    expect(await cleared.json()).toMatchObject({ enabled: false, source: 'env' });
    expect(
      await eventually(async () => (await fetch(`${other.url}/contract/job-status`)).status === 404),
    ).toBe(true);
    expect((await fetch(`${svc.url}/status/anything`)).status).toBe(404);
  });
});
