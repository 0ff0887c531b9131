import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrecheckResult, Problem } from '../../src/contract/index.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

// The API role: the precheck reads the caller's active jobs and the queues, and uploads nothing.
let svc: TestService;

async function precheck(
  body: unknown,
  service: TestService = svc,
): Promise<{ status: number; result: PrecheckResult & Problem }> {
  const response = await fetch(`${service.url}/v1/intake/precheck`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, result: (await response.json()) as PrecheckResult & Problem };
}

beforeAll(async () => {
  svc = await startTestService('precheck', {
    SERVICE_ROLE: 'api',
    UPLOAD_MAX_BYTES: '1000000',
    UPLOAD_MAX_BYTES_TRANSCRIPTION: '500000',
    OCR_MAX_PAGES: '2000',
    TRANSCRIPTION_MAX_DURATION_SEC: '7200',
    QUOTA_ACTIVE_JOBS: '3',
  });
});
afterAll(async () => {
  await svc?.close();
});

describe('POST /v1/intake/precheck', () => {
  it('allows a document it can read, with its type, a processing estimate and the queue it joins', async () => {
    await submitFile(svc.url, { name: 'queued.png', bytes: TINY_PNG });
    const { status, result } = await precheck({ filename: 'ग्रंथ.pdf', size_bytes: 50_000, page_count: 40 });
    expect(status).toBe(200);
    expect(result).toMatchObject({
      decision: 'allow',
      detected: { job_type: 'OCR', mime: 'application/pdf' },
      blocks: [],
      estimate: { effort: 'light', cost_band: 'none', engine: 'tesseract', queue_waiting: 1 },
    });
    expect(result.estimate.processing_sec).toBeGreaterThan(0);
  });

  it('refuses with the codes the upload would get: type, size, pages, duration', async () => {
    const codes = async (body: unknown) => (await precheck(body)).result.blocks.map((b) => b.code);
    expect(await codes({ filename: 'setup.exe', size_bytes: 10 })).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    expect(await codes({ filename: 'big.pdf', size_bytes: 2_000_000 })).toEqual(['FILE_TOO_LARGE']);
    expect(await codes({ filename: 'huge.pdf', size_bytes: 10, page_count: 5000 })).toEqual([
      'INPUT_TOO_COMPLEX',
    ]);
    expect(await codes({ filename: 'talk.mp3', size_bytes: 10, duration_sec: 9000 })).toEqual([
      'MEDIA_TOO_LONG',
    ]);
    expect(await codes({ filename: 'talk.mp3', size_bytes: 10, job_type: 'OCR' })).toEqual([
      'JOB_TYPE_MISMATCH',
    ]);
    expect((await precheck({ filename: 'talk.mp3', size_bytes: 10 })).result.decision).toBe('allow');
    // The per-type limit: a recording of 600 kB is too large, a document of that size is not.
    const recording = await precheck({ filename: 'talk.mp3', size_bytes: 600_000 });
    expect(recording.result.blocks).toEqual([
      {
        code: 'FILE_TOO_LARGE',
        message: 'The file is larger than the limit of 500000 bytes for TRANSCRIPTION.',
      },
    ]);
    expect((await precheck({ filename: 'scan.pdf', size_bytes: 600_000 })).result.decision).toBe('allow');
  });

  it('warns about a long recording and estimates it as heavy work', async () => {
    const { result } = await precheck({
      filename: 'pravachan.m4a',
      size_bytes: 100,
      duration_sec: 7000,
      mime: 'audio/x-m4a',
    });
    expect(result.decision).toBe('allow');
    expect(result.estimate.effort).toBe('heavy');
    expect(result.detected).toEqual({ job_type: 'TRANSCRIPTION', mime: 'audio/x-m4a' });
  });

  it('blocks when the caller already has as many active jobs as the quota allows', async () => {
    await submitFile(svc.url, { name: 'q2.png', bytes: TINY_PNG });
    await submitFile(svc.url, { name: 'q3.png', bytes: TINY_PNG });
    const { result } = await precheck({ filename: 'next.pdf', size_bytes: 10 });
    expect(result.decision).toBe('block');
    expect(result.blocks.map((b) => b.code)).toEqual(['QUOTA_ACTIVE_JOBS']);
  });

  it('blocks a document naming an OCR engine not offered here, as its upload would be refused', async () => {
    // No Gemini key in this deployment: gemini is not offered.
    const { status, result } = await precheck({
      filename: 'a.pdf',
      size_bytes: 10,
      page_count: 100,
      engine: 'gemini',
    });
    expect(status).toBe(200);
    expect(result.decision).toBe('block');
    // (The caller is also at its active-jobs quota by now: that block is there too.)
    expect(result.blocks).toContainEqual({
      code: 'ENGINE_NOT_OFFERED',
      message: 'gemini is not offered here; this server offers tesseract.',
    });
    // It would not run: not announced as a paid engine.
    expect(result.warnings).toEqual([]);
    const named = await precheck({ filename: 'a.pdf', size_bytes: 10, engine: 'tesseract' });
    expect(named.result.estimate.engine).toBe('tesseract');
    expect(named.result.blocks.map((b) => b.code)).not.toContain('ENGINE_NOT_OFFERED');
  });

  it('refuses an engine the file type does not take with VALIDATION_FAILED', async () => {
    const unknown = await precheck({ filename: 'a.pdf', size_bytes: 10, engine: 'abbyy' });
    expect(unknown.status).toBe(400);
    expect(unknown.result.error_code).toBe('VALIDATION_FAILED');
    const speechForDocument = await precheck({ filename: 'a.pdf', size_bytes: 10, engine: 'whisper' });
    expect(speechForDocument.status).toBe(400);
    expect(speechForDocument.result.error_code).toBe('VALIDATION_FAILED');
  });

  it('judges a recording by the speech engine it would name, blocking one not offered here', async () => {
    const named = await precheck({ filename: 'talk.mp3', size_bytes: 10, engine: 'pocketsphinx' });
    expect(named.result.estimate.engine).toBe('pocketsphinx');
    // No Gemini key in this deployment: gemini is not offered.
    const recording = await precheck({ filename: 'talk.mp3', size_bytes: 10, engine: 'gemini' });
    expect(recording.status).toBe(200);
    expect(recording.result.decision).toBe('block');
    expect(recording.result.blocks).toContainEqual({
      code: 'ENGINE_NOT_OFFERED',
      message: 'gemini is not offered here; this server offers pocketsphinx.',
    });
    // An OCR engine for a recording is a malformed question, as a speech engine for a document is.
    const ocrForRecording = await precheck({ filename: 'talk.mp3', size_bytes: 10, engine: 'tesseract' });
    expect(ocrForRecording.status).toBe(400);
    expect(ocrForRecording.result.error_code).toBe('VALIDATION_FAILED');
  });

  it('refuses a malformed request with VALIDATION_FAILED', async () => {
    const { status, result } = await precheck({ size_bytes: -1 });
    expect(status).toBe(400);
    expect(result.error_code).toBe('VALIDATION_FAILED');
  });
});

describe('cost estimate of paid engines', () => {
  let paid: TestService;
  beforeAll(async () => {
    paid = await startTestService('precheck-cost', {
      SERVICE_ROLE: 'api',
      OCR_ENGINE: 'gemini',
      GEMINI_API_KEY: 'test-key-not-used',
      TRANSCRIPTION_ENGINE: 'openai',
      OPENAI_API_KEY: 'test-key-not-used',
      COST_PER_PAGE_GEMINI: '0.002',
      COST_PER_MINUTE_OPENAI: '0.006',
      COST_WARN_PER_JOB: '1',
      COST_BLOCK_PER_JOB: '5',
      TRANSCRIPTION_MAX_DURATION_SEC: '86400',
      OCR_ENGINE_BY_SUBTYPE: 'pravachan=tesseract',
    });
  });
  afterAll(async () => {
    await paid?.close();
  });

  const check = async (body: unknown) => (await precheck(body, paid)).result;

  it('prices pages and minutes, warns above one threshold and blocks above the other', async () => {
    const small = await check({ filename: 'a.pdf', size_bytes: 10, page_count: 100 });
    expect(small.estimate).toMatchObject({ engine: 'gemini', cost: 0.2, cost_band: 'paid' });
    expect(small.blocks).toEqual([]);
    const warned = await check({ filename: 'a.pdf', size_bytes: 10, page_count: 1000 });
    expect(warned.estimate.cost).toBe(2);
    expect(warned.warnings.map((w) => w.code)).toContain('COST_HIGH');
    const blocked = await check({ filename: 'talk.mp3', size_bytes: 10, duration_sec: 3600 * 15 });
    expect(blocked.estimate).toMatchObject({ engine: 'openai', cost: 5.4 });
    expect(blocked.decision).toBe('block');
    expect(blocked.blocks).toEqual([
      {
        code: 'COST_LIMIT_EXCEEDED',
        message: 'The job would cost about 5.40 on openai; the limit per job is 5.',
      },
    ]);
    // Without a size there is nothing to price.
    expect((await check({ filename: 'a.pdf', size_bytes: 10 })).estimate.cost).toBeNull();
  });

  it('judges a document by the engine the upload would ask for: its own speed and paid warning', async () => {
    const tesseract = await check({
      filename: 'a.pdf',
      size_bytes: 10,
      page_count: 100,
      engine: 'tesseract',
    });
    const gemini = await check({ filename: 'a.pdf', size_bytes: 10, page_count: 100, engine: 'gemini' });
    expect(gemini.estimate).toMatchObject({ engine: 'gemini', cost_band: 'paid' });
    expect(gemini.warnings.map((w) => w.code)).toEqual(['PAID_ENGINE']);
    expect(tesseract.estimate).toMatchObject({ engine: 'tesseract', cost_band: 'none' });
    expect(gemini.estimate.processing_sec).not.toBe(tesseract.estimate.processing_sec);
  });

  it('prices the engine the upload names, or the one of its subtype, not the configured one', async () => {
    const local = await check({ filename: 'a.pdf', size_bytes: 10, page_count: 400, engine: 'tesseract' });
    expect(local.estimate).toMatchObject({ engine: 'tesseract', cost: null, cost_band: 'none' });
    expect(local.warnings).toEqual([]);
    expect(local.decision).toBe('allow');
    const bySubtype = await check({
      filename: 'a.pdf',
      size_bytes: 10,
      page_count: 400,
      content_subtype: 'pravachan',
    });
    expect(bySubtype.estimate).toMatchObject({ engine: 'tesseract', cost: null });
    // The upload's own engine wins over the subtype's.
    const named = await check({
      filename: 'a.pdf',
      size_bytes: 10,
      page_count: 400,
      content_subtype: 'pravachan',
      engine: 'gemini',
    });
    expect(named.estimate).toMatchObject({ engine: 'gemini', cost: 0.8, cost_band: 'paid' });
    expect(named.warnings.map((w) => w.code)).toEqual(['PAID_ENGINE']);
  });
});
