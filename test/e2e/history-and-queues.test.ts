import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, JobList, Problem } from '../../src/contract/index.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { TINY_PNG, tinyWav } from '../helpers/tiny-files.js';

// The API role alone, so submitted jobs stay QUEUED in a known order.
let svc: TestService;

async function submit(name: string, bytes: Uint8Array = TINY_PNG): Promise<Job> {
  const response = await submitFile(svc.url, { name, bytes });
  expect(response.status).toBe(201);
  return (await response.json()) as Job;
}

async function list(query: string): Promise<JobList> {
  const response = await fetch(`${svc.url}/v1/jobs?${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as JobList;
}

async function problem(url: string): Promise<Problem> {
  const response = await fetch(url);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Problem;
}

const ocr: Job[] = [];
const speech: Job[] = [];

beforeAll(async () => {
  svc = await startTestService('history', { SERVICE_ROLE: 'api' });
  for (let i = 0; i < 4; i++) ocr.push(await submit(`scan-${i}.png`));
  speech.push(await submit('प्रवचन 1.wav', tinyWav()));
  speech.push(await submit('pravachan-2.wav', tinyWav()));
});
afterAll(async () => {
  await svc?.close();
});

describe('queue visibility', () => {
  it('gives each queued job its place in line, and closes the gap when one leaves', async () => {
    const positions = async (jobs: Job[]) =>
      Promise.all(
        jobs.map(
          async (job) =>
            ((await (await fetch(`${svc.url}/v1/jobs/${job.job_id}`)).json()) as Job).queue_position,
        ),
      );
    expect(await positions(ocr)).toEqual([1, 2, 3, 4]);
    expect(await positions(speech)).toEqual([1, 2]);
    await fetch(`${svc.url}/v1/jobs/${ocr[1]?.job_id}/cancel`, { method: 'POST' });
    expect(await positions(ocr)).toEqual([1, null, 2, 3]);
  });

  it('reports every queue with its counts and the age of its oldest waiting job', async () => {
    const response = await fetch(`${svc.url}/v1/queues`);
    const body = (await response.json()) as { queues: Array<Record<string, unknown>> };
    expect(body.queues).toEqual([
      expect.objectContaining({ name: 'ocr', job_type: 'OCR', waiting: 3, active: 0, delayed: 0, failed: 0 }),
      expect.objectContaining({ name: 'transcription', job_type: 'TRANSCRIPTION', waiting: 2, active: 0 }),
    ]);
    expect(body.queues[0]?.oldest_waiting_age_sec).toEqual(expect.any(Number));
  });
});

describe('history', () => {
  it('filters by type and status and counts by both in the same answer', async () => {
    const all = await list('limit=50');
    expect(all.total).toBe(6);
    expect(all.counts).toEqual({
      by_type: { OCR: 4, TRANSCRIPTION: 2 },
      by_status: { QUEUED: 5, PROCESSING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 1 },
    });
    const ocrOnly = await list('job_type=OCR');
    expect(ocrOnly.items.map((j) => j.job_id)).toEqual(ocr.map((j) => j.job_id).reverse());
    expect(ocrOnly.counts.by_status).toMatchObject({ QUEUED: 3, CANCELLED: 1 });
    const inProgress = await list('status=QUEUED,PROCESSING&job_type=OCR');
    expect(inProgress.total).toBe(3);
    expect(inProgress.items.every((j) => j.status === 'QUEUED')).toBe(true);
    const cancelled = await list('status=CANCELLED');
    expect(cancelled.items.map((j) => j.job_id)).toEqual([ocr[1]?.job_id]);
  });

  it('searches file names in any case and script', async () => {
    expect((await list('q=PRAVACHAN')).items.map((j) => j.input_filename)).toEqual(['pravachan-2.wav']);
    expect((await list(`q=${encodeURIComponent('प्रवचन')}`)).items.map((j) => j.input_filename)).toEqual([
      'प्रवचन 1.wav',
    ]);
    expect((await list('q=scan&status=QUEUED&limit=2')).items.map((j) => j.input_filename)).toEqual([
      'scan-3.png',
      'scan-2.png',
    ]);
  });

  it('pages with opaque cursors that never repeat or skip while new jobs arrive', async () => {
    const before = (await list('limit=100')).items.map((j) => j.job_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: JobList = await list(`limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      seen.push(...page.items.map((j) => j.job_id));
      cursor = page.next_cursor;
      if (cursor) expect(cursor).not.toMatch(/^[0-9a-f-]{36}$/);
      await submit('arrived-meanwhile.png');
    } while (cursor);
    expect(seen).toEqual(before);
  });

  it('refuses a forged cursor, a cursor from another filter, and unknown statuses', async () => {
    expect((await problem(`${svc.url}/v1/jobs?cursor=not-a-cursor`)).error_code).toBe('CURSOR_INVALID');
    const page = await list('limit=1&job_type=OCR');
    expect(page.next_cursor).not.toBeNull();
    const other = await problem(`${svc.url}/v1/jobs?job_type=TRANSCRIPTION&cursor=${page.next_cursor}`);
    expect(other.error_code).toBe('CURSOR_INVALID');
    expect((await problem(`${svc.url}/v1/jobs?status=DONE`)).error_code).toBe('VALIDATION_FAILED');
  });
});
