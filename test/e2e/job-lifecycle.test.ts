import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import {
  makeCorruptPdf,
  makeManyPagePdf,
  makeScannedPng,
  makeTwoPagePdf,
} from '../helpers/make-document-fixtures.js';
import { makeLongQuietWav, makeRepeatedSpeechWav, makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';
import { characterErrorRate, wordRecall } from '../helpers/text-metrics.js';

// The whole service in one process (role all): API, queues in real Redis, worker, real engines.
let svc: TestService;
let dir: string;

async function submitPath(
  filePath: string,
  name: string,
  headers: Record<string, string> = {},
  fields: Record<string, string> = {},
): Promise<Job> {
  const response = await submitFile(svc.url, { name, bytes: await readFile(filePath) }, fields, headers);
  expect(response.status).toBe(201);
  return (await response.json()) as Job;
}

async function downloadText(jobId: string, format = 'txt'): Promise<{ text: string; response: Response }> {
  const response = await fetch(`${svc.url}/v1/jobs/${jobId}/result?format=${format}`);
  expect(response.status).toBe(200);
  return { text: await response.text(), response };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-lifecycle-'));
  svc = await startTestService('lifecycle', { WORKER_OCR_CONCURRENCY: '2' });
});
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a job from upload to download', () => {
  it('turns a two-page English and Hindi PDF into text within 2 % CER, with correlated logs', async () => {
    const pdf = await makeTwoPagePdf(dir);
    const submitted = await submitPath(pdf.path, 'ग्रंथ भाग १.pdf', { 'x-request-id': 'e2e-pdf-1' });
    expect(submitted).toMatchObject({ job_type: 'OCR', input_mime: 'application/pdf', status: 'QUEUED' });

    const job = await waitForJob(svc.url, submitted.job_id);
    expect(job).toMatchObject({
      status: 'COMPLETED',
      progress: 100,
      page_count: 2,
      attempts: 1,
      error_code: null,
    });
    expect(job.engine).toMatch(/^tesseract /);
    // Page 1's English text layer is taken as is; page 2 is Devanagari, so it is OCRed.
    expect(job.pages_by_source).toEqual({ text_layer: 1, ocr: 1, none: 0 });
    expect(job.processing_duration_sec).toBeGreaterThan(0);
    expect(job.started_at && job.finished_at && job.started_at <= job.finished_at).toBe(true);

    const { text, response } = await downloadText(job.job_id);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('content-disposition')).toContain(
      `filename*=UTF-8''${encodeURIComponent('ग्रंथ भाग १.txt')}`,
    );
    const [, page1 = '', page2 = ''] = text.split(/^--- page \d+ ---$/m);
    expect(characterErrorRate(pdf.pages[0], page1)).toBeLessThanOrEqual(0.02);
    expect(characterErrorRate(pdf.pages[1], page2)).toBeLessThanOrEqual(0.02);
    expect(JSON.parse((await downloadText(job.job_id, 'json')).text).pages).toHaveLength(2);

    const jobLines = svc.logs.filter((line) => line.job_id === job.job_id);
    const workerLines = jobLines.filter((line) => line.worker_id !== undefined);
    expect(workerLines.map((l) => l.event)).toEqual(
      expect.arrayContaining(['job.transition', 'job.started', 'ocr.page.done']),
    );
    expect(
      jobLines.every((line) => line.request_id === 'e2e-pdf-1' && line.service === 'doc-transcribe'),
    ).toBe(true);
  });

  it('reads a scanned-looking PNG within 2 % CER', async () => {
    const scan = await makeScannedPng(dir);
    const job = await waitForJob(svc.url, (await submitPath(scan.path, 'scan.png')).job_id);
    expect(job).toMatchObject({
      status: 'COMPLETED',
      job_type: 'OCR',
      input_mime: 'image/png',
      page_count: 1,
    });
    const [, page1 = ''] = (await downloadText(job.job_id)).text.split(/^--- page \d+ ---$/m);
    expect(characterErrorRate(scan.text, page1)).toBeLessThanOrEqual(0.02);
  });

  it('transcribes a spoken WAV, measuring its duration on the server', async () => {
    const sentence = 'the quick brown fox jumps over the lazy dog near the river bank';
    const wav = await makeSpokenWav(dir, sentence);
    const job = await waitForJob(svc.url, (await submitPath(wav, 'talk.wav')).job_id);
    expect(job).toMatchObject({ status: 'COMPLETED', job_type: 'TRANSCRIPTION', input_mime: 'audio/wav' });
    expect(job.media_duration_sec).toBeGreaterThan(2);
    expect(job.media_duration_sec).toBeLessThan(8);
    expect(job.engine).toMatch(/^pocketsphinx /);
    expect(Object.keys(job.outputs).sort()).toEqual(['json', 'srt', 'txt', 'vtt']);
    expect(wordRecall(sentence, (await downloadText(job.job_id)).text)).toBeGreaterThanOrEqual(0.6);
    expect((await downloadText(job.job_id, 'srt')).text).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> /);
  });

  it('applies the transcription options sent with the job and keeps them on it', async () => {
    const wav = await makeSpokenWav(dir, 'the quick brown fox jumps over the lazy dog');
    const response = await submitFile(
      svc.url,
      { name: 'options.wav', bytes: await readFile(wav) },
      { chunk_sec: '30', chunks_in_flight: '1', txt_timestamps: 'true' },
    );
    expect(response.status).toBe(201);
    const submitted = (await response.json()) as Job;
    expect(submitted.transcription_options).toEqual({
      chunk_sec: 30,
      chunks_in_flight: 1,
      txt_timestamps: true,
    });
    const job = await waitForJob(svc.url, submitted.job_id);
    expect(job.status).toBe('COMPLETED');
    expect((await downloadText(job.job_id)).text).toMatch(/^\[\d\d:\d\d(:\d\d)?\] /m);

    const refused = await submitFile(
      svc.url,
      { name: 'bad.wav', bytes: await readFile(wav) },
      { chunk_sec: '1' },
    );
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error_code: string }).error_code).toBe('VALIDATION_FAILED');
  });

  it('records the measured media duration and the wall time of processing as two separate fields', async () => {
    // 30 s of audio, mostly silence: transcribed in much less than it lasts.
    const wav = await makeLongQuietWav(dir, 'the quick brown fox jumps over the lazy dog', 30);
    const job = await waitForJob(svc.url, (await submitPath(wav, 'quiet.wav')).job_id);
    expect(job.status).toBe('COMPLETED');
    expect(job.media_duration_sec).toBeCloseTo(30, 1);
    const processing = job.processing_duration_sec ?? 0;
    expect(processing).toBeGreaterThan(0);
    // Wall time of the attempt: inside the job's own started → finished window (0.01 s rounding).
    const window = (Date.parse(job.finished_at ?? '') - Date.parse(job.started_at ?? '')) / 1000;
    expect(processing).toBeLessThanOrEqual(window + 0.01);
    expect(processing).not.toBe(job.media_duration_sec);
  });

  it('cuts chunks with the overlap the job asked for (chunk_overlap_sec)', async () => {
    // Three utterances with pauses between: chunks of ~5 s cut in the pauses.
    const wav = await makeRepeatedSpeechWav(dir, 'the quick brown fox jumps over the lazy dog', {
      times: 3,
      pauseSec: 1.5,
    });
    const overlap = 2.5;
    const response = await submitFile(
      svc.url,
      { name: 'overlap.wav', bytes: await readFile(wav) },
      { chunk_sec: '5', chunk_overlap_sec: String(overlap), chunks_in_flight: '1' },
    );
    expect(response.status).toBe(201);
    const submitted = (await response.json()) as Job;
    expect(submitted.transcription_options).toMatchObject({ chunk_sec: 5, chunk_overlap_sec: overlap });
    const job = await waitForJob(svc.url, submitted.job_id);
    expect(job.status).toBe('COMPLETED');

    const chunks = svc.logs
      .filter((line) => line.job_id === job.job_id && line.event === 'transcription.chunk.done')
      .map((line) => ({
        chunk: line.chunk as number,
        start: line.audio_start_sec as number,
        end: line.audio_end_sec as number,
      }))
      .sort((a, b) => a.chunk - b.chunk);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks[0]?.start).toBe(0);
    // Each seam is heard by both chunks for `overlap` seconds on each side of the cut (default: 1 s).
    for (const [i, next] of chunks.slice(1).entries()) {
      expect((chunks[i]?.end ?? 0) - next.start).toBeCloseTo(2 * overlap, 2);
    }
    // What was heard twice is said once: each chunk also heard ~1.75 s (about "the quick brown fox")
    // of the next utterance, which the seam de-duplication removes.
    const words = (await downloadText(job.job_id)).text.split(/\s+/).filter(Boolean);
    expect(words.filter((word) => word.toLowerCase() === 'fox').length).toBeLessThanOrEqual(3);
  });

  it('fails a damaged PDF with a catalog code, without retrying, and keeps serving', async () => {
    const job = await waitForJob(svc.url, (await submitPath(await makeCorruptPdf(dir), 'broken.pdf')).job_id);
    expect(job).toMatchObject({
      status: 'FAILED',
      error_code: 'INPUT_UNREADABLE',
      attempts: 1,
      stage: 'failed',
    });
    expect(job.error_message).toBeTruthy();
    const failedResult = await fetch(`${svc.url}/v1/jobs/${job.job_id}/result`);
    expect(failedResult.status).toBe(409);
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
  });

  it('stops a running job on cancel: the worker kills the engine and only then reports CANCELLED', async () => {
    const pdf = await makeManyPagePdf(dir, 12);
    // Born-digital pages come from the text layer in milliseconds: force OCR to keep the job busy.
    const submitted = await submitPath(pdf, 'long.pdf', {}, { ocr_policy: 'force_ocr' });
    expect(submitted.ocr_options).toEqual({ policy: 'force_ocr' });
    await waitForJob(svc.url, submitted.job_id, (job) => job.status === 'PROCESSING' && job.progress > 0);
    const cancel = await fetch(`${svc.url}/v1/jobs/${submitted.job_id}/cancel`, { method: 'POST' });
    expect([200, 202]).toContain(cancel.status);
    const job = await waitForJob(svc.url, submitted.job_id);
    expect(job).toMatchObject({ status: 'CANCELLED', error_code: 'JOB_CANCELLED', cancel_requested: true });
    expect(job.outputs).toEqual({});
    // The attempt's scratch directory is gone.
    expect((await readdir(path.join(svc.dataDir, 'tmp'))).filter((d) => d.startsWith(job.job_id))).toEqual(
      [],
    );
  });

  it('lists finished jobs in the history, newest first', async () => {
    const history = (await (await fetch(`${svc.url}/v1/jobs?limit=100`)).json()) as {
      items: Job[];
      total: number;
    };
    // Every job the tests above submitted, and nothing else.
    expect(history.total).toBe(history.items.length);
    expect(history.total).toBeGreaterThanOrEqual(5);
    const created = history.items.map((j) => j.created_at);
    expect(created).toEqual([...created].sort().reverse());
  });
});
