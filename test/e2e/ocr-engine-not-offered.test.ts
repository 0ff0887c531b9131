import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Problem } from '../../src/contract/index.js';
import { testKeyPrefix } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

// An OCR engine a deployment does not offer (gemini without GEMINI_API_KEY) is refused when the job
// is asked for: submit, retry with a changed or a kept engine and the earlier `/upload`, never later
// by a worker.
// API role only: jobs stay queued, nothing is read.
let svc: TestService;
let withGemini: TestService;
const offeredPrefix = testKeyPrefix('ocr-offered');

const submit = (service: TestService, fields: Record<string, string>) =>
  submitFile(service.url, { name: 'scan.png', bytes: TINY_PNG }, fields);

const retry = (jobId: string, body: Record<string, unknown>) =>
  fetch(`${svc.url}/v1/jobs/${jobId}/retry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function storedInputs(service: TestService): Promise<string[]> {
  const root = path.join(service.dataDir, 'storage', 'jobs');
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => entry.endsWith(`${path.sep}input`));
}

async function jobCount(service: TestService): Promise<number> {
  const page = (await (await fetch(`${service.url}/v1/jobs?limit=100`)).json()) as { items: Job[] };
  return page.items.length;
}

beforeAll(async () => {
  [svc, withGemini] = await Promise.all([
    startTestService('ocr-not-offered', { SERVICE_ROLE: 'api', FLAG_LEGACY_API: 'true' }),
    startTestService('ocr-offered', {
      SERVICE_ROLE: 'api',
      GEMINI_API_KEY: 'test-key-not-used',
      REDIS_KEY_PREFIX: offeredPrefix,
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([svc?.close(), withGemini?.close()]);
});

describe('an OCR engine the deployment does not offer', () => {
  it('is refused at submit with 400 ENGINE_NOT_OFFERED naming the offered engines, and keeps nothing', async () => {
    const [inputsBefore, jobsBefore] = [await storedInputs(svc), await jobCount(svc)];
    const response = await submit(svc, { ocr_engine: 'gemini' });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as Problem;
    expect(problem).toMatchObject({
      error_code: 'ENGINE_NOT_OFFERED',
      detail: 'ocr_engine: gemini is not offered here; this server offers tesseract.',
      errors: [{ field: 'ocr_engine', message: 'gemini is not offered here; this server offers tesseract' }],
    });
    expect(await storedInputs(svc)).toEqual(inputsBefore);
    expect(await jobCount(svc)).toBe(jobsBefore);

    const offered = await submit(svc, { ocr_engine: 'tesseract' });
    expect(offered.status).toBe(201);
    expect(((await offered.json()) as Job).ocr_options).toMatchObject({ engine: 'tesseract' });
  });

  it('is accepted where the deployment offers it (a Gemini key is configured)', async () => {
    const config = (await (await fetch(`${withGemini.url}/v1/config`)).json()) as {
      engines: { ocr: string[] };
    };
    expect(config.engines.ocr).toEqual(['tesseract', 'gemini']);
    const response = await submit(withGemini, { ocr_engine: 'gemini' });
    expect(response.status).toBe(201);
    expect(((await response.json()) as Job).ocr_options).toMatchObject({ engine: 'gemini' });
  });

  it('is refused when a retry changes the engine to it; an offered one or null is taken', async () => {
    const submitted = (await (await submit(svc, {})).json()) as Job;
    await fetch(`${svc.url}/v1/jobs/${submitted.job_id}/cancel`, { method: 'POST' });
    const cancelled = await waitForJob(svc.url, submitted.job_id);
    expect(cancelled.status).toBe('CANCELLED');
    const [inputsBefore, jobsBefore] = [await storedInputs(svc), await jobCount(svc)];

    const refused = await retry(cancelled.job_id, { ocr_engine: 'gemini' });
    expect(refused.status).toBe(400);
    expect((await refused.json()) as Problem).toMatchObject({
      error_code: 'ENGINE_NOT_OFFERED',
      errors: [{ field: 'ocr_engine', message: 'gemini is not offered here; this server offers tesseract' }],
    });
    expect(await storedInputs(svc)).toEqual(inputsBefore);
    expect(await jobCount(svc)).toBe(jobsBefore);

    const taken = await retry(cancelled.job_id, { ocr_engine: 'tesseract' });
    expect(taken.status).toBe(201);
    expect(((await taken.json()) as Job).ocr_options).toMatchObject({ engine: 'tesseract' });
    const byDefault = await retry(cancelled.job_id, { ocr_engine: null });
    expect(byDefault.status).toBe(201);
    expect(((await byDefault.json()) as Job).ocr_options?.engine).toBeUndefined();
  });

  it('is refused when a retry keeps it from a job made where it was offered, until null is sent', async () => {
    // The same deployment restarted without its Gemini key: same prefix, same storage.
    const reconfigured = await startTestService('ocr-offered-no-more', {
      SERVICE_ROLE: 'api',
      REDIS_KEY_PREFIX: offeredPrefix,
      DATA_DIR: withGemini.dataDir,
    });
    try {
      const made = (await (await submit(withGemini, { ocr_engine: 'gemini' })).json()) as Job;
      await fetch(`${withGemini.url}/v1/jobs/${made.job_id}/cancel`, { method: 'POST' });
      expect((await waitForJob(withGemini.url, made.job_id)).status).toBe('CANCELLED');
      const retryThere = (body: Record<string, unknown>) =>
        fetch(`${reconfigured.url}/v1/jobs/${made.job_id}/retry`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const jobsBefore = await jobCount(reconfigured);

      const kept = await retryThere({});
      expect(kept.status).toBe(400);
      const message =
        'gemini is not offered here; this server offers tesseract (send ocr_engine: null for the configured engine, or name one offered)';
      expect((await kept.json()) as Problem).toMatchObject({
        error_code: 'ENGINE_NOT_OFFERED',
        errors: [{ field: 'ocr_engine', message }],
      });
      expect(await jobCount(reconfigured)).toBe(jobsBefore);

      const byDefault = await retryThere({ ocr_engine: null });
      expect(byDefault.status).toBe(201);
      expect(((await byDefault.json()) as Job).ocr_options?.engine).toBeUndefined();
    } finally {
      await reconfigured.close();
    }
  });

  it('is refused by the earlier POST /upload too, in its error envelope', async () => {
    const jobsBefore = await jobCount(svc);
    const form = new FormData();
    form.append('ocr_engine', 'gemini');
    form.append('file', new Blob([TINY_PNG]), 'scan.png');
    const response = await fetch(`${svc.url}/upload`, { method: 'POST', body: form });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error_code: 'ENGINE_NOT_OFFERED',
      error_message: 'ocr_engine: gemini is not offered here; this server offers tesseract.',
      path: '/upload',
    });
    expect(await jobCount(svc)).toBe(jobsBefore);
  });
});
