import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { makeCorruptAudio, makeRepeatedSpeechWav } from '../helpers/make-media-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';
import { waitUntil } from '../helpers/worker-process.js';

// The whole service (API and worker in this process, pocketsphinx) on real files: after a
// transcription job ends, however it ends, its attempt's scratch directory (input copy, decoded
// audio, chunk files) and its checkpoints are gone.
let svc: TestService;
let dir: string;
const SENTENCE = 'the river carries the old songs to the sea';

const scratchDir = () => path.join(svc.dataDir, 'tmp');
async function scratchOf(jobId: string): Promise<string[]> {
  return (await readdir(scratchDir())).filter((name) => name.startsWith(jobId));
}
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
const checkpointsOf = async (jobId: string) =>
  (await filesUnder(path.join(svc.dataDir, 'storage', 'jobs', jobId))).filter((f) =>
    f.includes('checkpoints'),
  );

/** Submits a recording; answers its job id. */
async function submit(file: string, name: string, fields: Record<string, string> = {}) {
  const response = await submitFile(svc.url, { name, bytes: await readFile(file) }, fields);
  expect(response.status).toBe(201);
  const { job_id: jobId } = (await response.json()) as Job;
  return jobId;
}

beforeAll(async () => {
  svc = await startTestService('tr-scratch', { TRANSCRIPTION_CHUNKS_IN_FLIGHT: '1' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-tr-scratch-'));
});
afterAll(async () => {
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scratch files of a transcription job', () => {
  it('are removed after success, with the checkpoints', async () => {
    const wav = await makeRepeatedSpeechWav(dir, SENTENCE, { times: 3, pauseSec: 1 });
    const jobId = await submit(wav, 'ok.wav', { chunk_sec: '5' });
    // Seen while it runs: the test looks where the worker writes.
    let seen: string[] = [];
    await waitUntil(async () => {
      const [attempt] = await scratchOf(jobId);
      if (attempt) seen = await filesUnder(path.join(scratchDir(), attempt)).catch(() => seen);
      return seen.some((f) => f.endsWith('audio.wav'));
    }, 'the decoded audio in the scratch directory');
    const job = await waitForJob(svc.url, jobId);
    expect(job.status).toBe('COMPLETED');
    expect(await scratchOf(jobId)).toEqual([]);
    expect(await checkpointsOf(jobId)).toEqual([]);
  });

  it('are removed after a permanent failure', async () => {
    const jobId = await submit(await makeCorruptAudio(dir), 'corrupt.wav');
    const job = await waitForJob(svc.url, jobId);
    expect(job).toMatchObject({ status: 'FAILED', error_code: 'MEDIA_DECODE_FAILED' });
    const failed = svc.logs.filter(
      (l) => l.job_id === jobId && l.event === 'job.transition' && l.to === 'FAILED',
    );
    expect(failed).toHaveLength(1);
    expect(await scratchOf(jobId)).toEqual([]);
  });

  it('are removed after a cancel mid-transcription, with the checkpoints already written', async () => {
    const wav = await makeRepeatedSpeechWav(dir, SENTENCE, { times: 8, pauseSec: 1.5 });
    const jobId = await submit(wav, 'long.wav', { chunk_sec: '5' });
    // A chunk checkpointed and another one being transcribed when the cancel comes.
    await waitUntil(
      async () => (await checkpointsOf(jobId)).some((f) => /chunk-\d+\.json$/.test(f)),
      'a checkpoint',
    );
    const [attempt] = await scratchOf(jobId);
    expect(await filesUnder(path.join(scratchDir(), attempt as string))).toEqual(
      expect.arrayContaining([expect.stringMatching(/audio\.wav$/)]),
    );
    const cancel = await fetch(`${svc.url}/v1/jobs/${jobId}/cancel`, { method: 'POST' });
    expect([200, 202]).toContain(cancel.status);
    const job = await waitForJob(svc.url, jobId);
    expect(job.status).toBe('CANCELLED');
    expect(await scratchOf(jobId)).toEqual([]);
    expect(await checkpointsOf(jobId)).toEqual([]);
  });
});
