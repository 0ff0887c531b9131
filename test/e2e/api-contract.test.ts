import { access } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Problem } from '../../src/contract/index.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';

// The API role alone: jobs stay QUEUED, which lets these tests look at the API's own behaviour.
let svc: TestService;

// The smallest valid PNG (1×1, grey): recognised by content whatever its name.
const TINY_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c63600000000200' +
    '01e221bc330000000049454e44ae426082',
  'hex',
);

async function problemOf(response: Response): Promise<Problem> {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Problem;
}

beforeAll(async () => {
  // A Gemini key (never used: nothing runs in the API role) makes gemini an engine jobs may name.
  svc = await startTestService('api', {
    SERVICE_ROLE: 'api',
    UPLOAD_MAX_BYTES: '4096',
    GEMINI_API_KEY: 'test-key-not-used',
  });
});
afterAll(async () => {
  await svc?.close();
});

describe('API without a worker', () => {
  it('answers liveness and readiness with the state of Redis and storage', async () => {
    expect(await (await fetch(`${svc.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${svc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      auth_mode: 'local-single-user',
      checks: { redis: { ok: true }, storage: { ok: true } },
    });
  });

  it('serves the contract: enums, error catalog and the JSON Schema of a job', async () => {
    const contract = (await (await fetch(`${svc.url}/v1/contract`)).json()) as Record<string, never>;
    expect(contract).toMatchObject({
      contract_version: '1',
      enums: {
        status: ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'],
        job_type: ['OCR', 'TRANSCRIPTION'],
      },
      error_catalog: { JOB_NOT_FOUND: { http_status: 404, retryable: false } },
    });
    expect(contract.schemas).toHaveProperty('job.properties.media_duration_sec');
  });

  it('accepts an upload by content, echoes the request id and stores it on the queued job', async () => {
    const response = await submitFile(
      svc.url,
      { name: 'पृष्ठ १.jpeg', bytes: TINY_PNG },
      { content_subtype: 'jain_literature', language: 'hin' },
      { 'x-request-id': 'client-req-42' },
    );
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('client-req-42');
    const job = (await response.json()) as Job;
    expect(response.headers.get('location')).toBe(`/v1/jobs/${job.job_id}`);
    expect(job).toMatchObject({
      status: 'QUEUED',
      job_type: 'OCR',
      input_mime: 'image/png',
      input_filename: 'पृष्ठ १.jpeg',
      input_size_bytes: TINY_PNG.length,
      content_subtype: 'jain_literature',
      language: 'hin',
      request_id: 'client-req-42',
      progress: 0,
      attempts: 0,
      contract_version: '1',
    });
    const record = await svc.service.store.get(job.job_id);
    expect(record?.input_key).toBe(`jobs/${job.job_id}/input`);
    expect(await svc.queuedJob('OCR', job.job_id)).toBeDefined();
    expect(
      svc.logs.some(
        (l) => l.event === 'job.submitted' && l.job_id === job.job_id && l.request_id === 'client-req-42',
      ),
    ).toBe(true);
  });

  it('generates a request id when the header is missing or unsafe', async () => {
    const response = await fetch(`${svc.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects a file it cannot recognise with 415 and keeps nothing', async () => {
    const response = await submitFile(svc.url, {
      name: 'notes.pdf',
      bytes: Buffer.from('just some text, not a pdf'),
    });
    expect(response.status).toBe(415);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ status: 415, error_code: 'UNSUPPORTED_MEDIA_TYPE', retryable: false });
    expect(problem.request_id).toBe(response.headers.get('x-request-id'));
    expect(problem.message_hi).toMatch(/[\u0900-\u097f]/);
  });

  it('says an empty file is empty', async () => {
    const response = await submitFile(svc.url, { name: 'empty.pdf', bytes: new Uint8Array() });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).error_code).toBe('UPLOAD_EMPTY');
  });

  it('rejects a file larger than the limit with 413', async () => {
    const big = Buffer.concat([TINY_PNG, Buffer.alloc(8192)]);
    const response = await submitFile(svc.url, { name: 'big.png', bytes: big });
    expect(response.status).toBe(413);
    expect((await problemOf(response)).error_code).toBe('FILE_TOO_LARGE');
  });

  it('rejects a request without a file, bad fields, and a job type that contradicts the content', async () => {
    const form = new FormData();
    form.append('content_subtype', 'general');
    const noFile = await fetch(`${svc.url}/v1/jobs`, { method: 'POST', body: form });
    expect(noFile.status).toBe(400);
    expect((await problemOf(noFile)).error_code).toBe('FILE_MISSING');

    const badSubtype = await submitFile(
      svc.url,
      { name: 'a.png', bytes: TINY_PNG },
      { content_subtype: 'poetry' },
    );
    expect(badSubtype.status).toBe(400);
    const problem = await problemOf(badSubtype);
    expect(problem.error_code).toBe('VALIDATION_FAILED');
    expect(problem.errors?.[0]?.field).toBe('content_subtype');

    const mismatch = await submitFile(
      svc.url,
      { name: 'a.png', bytes: TINY_PNG },
      { job_type: 'TRANSCRIPTION' },
    );
    expect(mismatch.status).toBe(422);
    expect((await problemOf(mismatch)).error_code).toBe('JOB_TYPE_MISMATCH');

    const notMultipart = await fetch(`${svc.url}/v1/jobs`, {
      method: 'POST',
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(notMultipart.status).toBe(400);
    expect((await problemOf(notMultipart)).error_code).toBe('REQUEST_BODY_INVALID');
  });

  it('answers 404 problems for unknown jobs and routes', async () => {
    const unknown = await fetch(`${svc.url}/v1/jobs/0190a3f2-0000-7000-8000-000000000000`);
    expect(unknown.status).toBe(404);
    expect((await problemOf(unknown)).error_code).toBe('JOB_NOT_FOUND');
    const malformed = await fetch(`${svc.url}/v1/jobs/../../etc/passwd`);
    expect(malformed.status).toBe(404);
    const route = await fetch(`${svc.url}/v2/nothing`);
    expect((await problemOf(route)).error_code).toBe('ROUTE_NOT_FOUND');
  });

  it('refuses the result of a job that has not completed', async () => {
    const job = (await (await submitFile(svc.url, { name: 'a.png', bytes: TINY_PNG })).json()) as Job;
    const result = await fetch(`${svc.url}/v1/jobs/${job.job_id}/result?format=txt`);
    expect(result.status).toBe(409);
    expect((await problemOf(result)).error_code).toBe('RESULT_NOT_READY');
    const badFormat = await fetch(`${svc.url}/v1/jobs/${job.job_id}/result?format=docx`);
    expect((await problemOf(badFormat)).error_code).toBe('VALIDATION_FAILED');
  });

  it('cancels a queued job at once and takes it off the queue; a second cancel is refused', async () => {
    const job = (await (await submitFile(svc.url, { name: 'a.png', bytes: TINY_PNG })).json()) as Job;
    expect(await svc.queuedJob('OCR', job.job_id)).toBeDefined();
    const cancel = await fetch(`${svc.url}/v1/jobs/${job.job_id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ status: 'CANCELLED', error_code: 'JOB_CANCELLED' });
    const again = await fetch(`${svc.url}/v1/jobs/${job.job_id}/cancel`, { method: 'POST' });
    expect(await svc.queuedJob('OCR', job.job_id)).toBeUndefined();
    expect(again.status).toBe(409);
    expect((await problemOf(again)).error_code).toBe('JOB_NOT_CANCELLABLE');
  });

  it('lists the history newest first with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        ((await (await submitFile(svc.url, { name: `p${i}.png`, bytes: TINY_PNG })).json()) as Job).job_id,
      );
    }
    const first = (await (await fetch(`${svc.url}/v1/jobs?limit=2`)).json()) as {
      items: Job[];
      next_cursor: string;
      total: number;
    };
    expect(first.items.map((j) => j.job_id)).toEqual([ids[2], ids[1]]);
    const second = (await (await fetch(`${svc.url}/v1/jobs?limit=2&cursor=${first.next_cursor}`)).json()) as {
      items: Job[];
    };
    expect(second.items[0]?.job_id).toBe(ids[0]);
    expect(first.total).toBeGreaterThanOrEqual(3);
    const bad = await fetch(`${svc.url}/v1/jobs?limit=1000`);
    expect((await problemOf(bad)).error_code).toBe('VALIDATION_FAILED');
  });

  it('answers 304 to a poller whose ETag is still current, and a new ETag once the job changes', async () => {
    const job = (await (await submitFile(svc.url, { name: 'a.png', bytes: TINY_PNG })).json()) as Job;
    const first = await fetch(`${svc.url}/v1/jobs/${job.job_id}`);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);
    const unchanged = await fetch(`${svc.url}/v1/jobs/${job.job_id}`, { headers: { 'if-none-match': etag } });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');
    await fetch(`${svc.url}/v1/jobs/${job.job_id}/cancel`, { method: 'POST' });
    const changed = await fetch(`${svc.url}/v1/jobs/${job.job_id}`, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('gives back the original upload under its own name', async () => {
    const job = (await (await submitFile(svc.url, { name: 'मूल.png', bytes: TINY_PNG })).json()) as Job;
    const input = await fetch(`${svc.url}/v1/jobs/${job.job_id}/input`);
    expect(input.status).toBe(200);
    expect(input.headers.get('content-type')).toBe('image/png');
    expect(input.headers.get('content-disposition')).toContain(encodeURIComponent('मूल.png'));
    expect(Buffer.from(await input.arrayBuffer())).toEqual(TINY_PNG);
  });

  it('deletes a queued job with its queue entry, record, history entry and files', async () => {
    const job = (await (await submitFile(svc.url, { name: 'a.png', bytes: TINY_PNG })).json()) as Job;
    const deleted = await fetch(`${svc.url}/v1/jobs/${job.job_id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await fetch(`${svc.url}/v1/jobs/${job.job_id}`)).status).toBe(404);
    expect(await svc.service.store.get(job.job_id)).toBeNull();
    expect(await svc.queuedJob('OCR', job.job_id)).toBeUndefined();
    const history = (await (await fetch(`${svc.url}/v1/jobs?limit=100`)).json()) as { items: Job[] };
    expect(history.items.map((j) => j.job_id)).not.toContain(job.job_id);
    await expect(access(path.join(svc.dataDir, 'storage', 'jobs', job.job_id))).rejects.toThrow();
    expect((await fetch(`${svc.url}/v1/jobs/${job.job_id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('retries only failed or cancelled jobs', async () => {
    const job = (await (await submitFile(svc.url, { name: 'a.png', bytes: TINY_PNG })).json()) as Job;
    const refused = await fetch(`${svc.url}/v1/jobs/${job.job_id}/retry`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect((await problemOf(refused)).error_code).toBe('JOB_NOT_RETRYABLE');
    await fetch(`${svc.url}/v1/jobs/${job.job_id}/cancel`, { method: 'POST' });
    const retried = await fetch(`${svc.url}/v1/jobs/${job.job_id}/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ language: 'eng' }),
    });
    expect(retried.status).toBe(201);
    const again = (await retried.json()) as Job;
    expect(again).toMatchObject({
      status: 'QUEUED',
      retry_of_job_id: job.job_id,
      language: 'eng',
      input_filename: 'a.png',
    });
    expect(again.job_id).not.toBe(job.job_id);
    const input = await fetch(`${svc.url}/v1/jobs/${again.job_id}/input`);
    expect(Buffer.from(await input.arrayBuffer())).toEqual(TINY_PNG);
  });

  it('retries with another engine and OCR options, validated as submit validates them', async () => {
    const submitted = await submitFile(
      svc.url,
      { name: 'scan.png', bytes: TINY_PNG },
      { ocr_engine: 'tesseract', ocr_psm: '6' },
    );
    const job = (await submitted.json()) as Job;
    await fetch(`${svc.url}/v1/jobs/${job.job_id}/cancel`, { method: 'POST' });
    const retry = (body: unknown) =>
      fetch(`${svc.url}/v1/jobs/${job.job_id}/retry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const badEngine = await retry({ ocr_engine: 'abbyy' });
    expect(badEngine.status).toBe(400);
    expect(await problemOf(badEngine)).toMatchObject({ error_code: 'VALIDATION_FAILED' });
    const badDpi = await retry({ ocr_dpi: 20 });
    expect((await problemOf(badDpi)).error_code).toBe('VALIDATION_FAILED');
    // Options of the other job type are refused, not silently dropped.
    const foreign = await retry({ chunk_sec: 30 });
    expect(foreign.status).toBe(400);
    expect(await problemOf(foreign)).toMatchObject({
      error_code: 'VALIDATION_FAILED',
      errors: [{ field: 'chunk_sec', message: 'applies to transcription jobs only; this job is OCR' }],
    });

    const retried = await retry({ ocr_engine: 'gemini', ocr_dpi: 200 });
    expect(retried.status).toBe(201);
    const again = (await retried.json()) as Job;
    // The new options are laid over the original's: psm stays.
    expect(again).toMatchObject({
      retry_of_job_id: job.job_id,
      ocr_options: { engine: 'gemini', dpi: 200, psm: '6' },
    });
    const read = (await (await fetch(`${svc.url}/v1/jobs/${again.job_id}`)).json()) as Job;
    expect(read.ocr_options).toEqual({ engine: 'gemini', dpi: 200, psm: '6' });
    expect((await svc.service.store.get(again.job_id))?.ocr_options?.engine).toBe('gemini');

    // null goes back to the configured engine.
    await fetch(`${svc.url}/v1/jobs/${again.job_id}/cancel`, { method: 'POST' });
    const reset = await fetch(`${svc.url}/v1/jobs/${again.job_id}/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ocr_engine: null }),
    });
    expect(reset.status).toBe(201);
    expect(((await reset.json()) as Job).ocr_options).toEqual({ dpi: 200, psm: '6' });
  });
});
