import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { makeSpokenWav, RIVER_TALK_SCRIPT } from '../helpers/make-media-fixtures.js';
import { submitFile, waitForJob } from '../helpers/test-service.js';
import { wordErrorRate } from '../helpers/text-metrics.js';
import { startWorkerFleet, type WorkerFleet, waitUntil } from '../helpers/worker-process.js';

// An API in this process and a real worker process (`serve --role worker`, pocketsphinx) sharing
// Redis and the data directory; the worker is killed with SIGKILL once a chunk of a transcription
// is checkpointed, and a fresh one finishes the job from the checkpoints.
let fleet: WorkerFleet;
/** The first dozen sentences of the river talk: about a minute of speech. */
const SCRIPT = RIVER_TALK_SCRIPT.split('\n').slice(0, 12).join('\n');

type LogLine = Record<string, unknown>;
const chunksOf = (logs: LogLine[], jobId: string, event: string) =>
  logs.filter((l) => l.job_id === jobId && l.event === event).map((l) => l.chunk as number);

beforeAll(async () => {
  fleet = await startWorkerFleet('tr-crash', {
    WORKER_TRANSCRIPTION_CONCURRENCY: '1',
    TRANSCRIPTION_CHUNKS_IN_FLIGHT: '1',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
  });
});
afterAll(async () => {
  await fleet?.close();
});

describe('a transcription worker killed with SIGKILL mid-job', () => {
  it('is resumed by a fresh worker at the next chunk: checkpointed chunks are not transcribed again', async () => {
    const wav = await makeSpokenWav(fleet.dir, SCRIPT);
    const first = fleet.startWorker();
    // Short chunks by per-job option: several chunks in a minute of speech.
    const response = await submitFile(
      fleet.svc.url,
      { name: 'river.wav', bytes: await readFile(wav) },
      { chunk_sec: '10', language: 'en' },
    );
    expect(response.status).toBe(201);
    const { job_id: jobId } = (await response.json()) as Job;

    await waitUntil(
      () => chunksOf(first.logs(), jobId, 'transcription.chunk.done').length >= 1,
      `a first checkpointed chunk of ${jobId}`,
      120_000,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const doneBefore = chunksOf(first.logs(), jobId, 'transcription.chunk.done');
    const decoded = first.logs().find((l) => l.job_id === jobId && l.event === 'transcription.decoded');
    const chunkCount = decoded?.chunks as number;
    expect(chunkCount).toBeGreaterThanOrEqual(4);
    // Killed mid-way: chunks were left to do.
    expect(doneBefore.length).toBeLessThan(chunkCount);
    expect((await fleet.svc.service.store.get(jobId))?.status).toBe('PROCESSING');

    const second = fleet.startWorker();
    const job = await waitForJob(fleet.svc.url, jobId, undefined, 120_000);
    expect(job).toMatchObject({ status: 'COMPLETED', error_code: null });
    expect(job.attempts).toBeGreaterThanOrEqual(2);

    const logs = second.logs();
    expect(logs.some((l) => l.job_id === jobId && l.event === 'job.recovered')).toBe(true);
    expect(logs.find((l) => l.job_id === jobId && l.event === 'transcription.resumed')).toMatchObject({
      chunks: chunkCount,
    });
    const skipped = chunksOf(logs, jobId, 'transcription.chunk.skipped');
    const doneAfter = chunksOf(logs, jobId, 'transcription.chunk.done');
    // Every chunk finished before the kill is skipped, none of them is transcribed again, and
    // between them the two workers transcribed each chunk exactly once.
    expect(skipped).toEqual(expect.arrayContaining(doneBefore));
    expect(doneAfter.filter((chunk) => skipped.includes(chunk))).toEqual([]);
    expect([...skipped, ...doneAfter].sort((a, b) => a - b)).toEqual(
      Array.from({ length: chunkCount }, (_, i) => i),
    );
    expect(doneAfter.length).toBeGreaterThan(0);

    const text = await (await fetch(`${fleet.svc.url}/v1/jobs/${jobId}/result?format=txt`)).text();
    const wer = wordErrorRate(SCRIPT, text);
    console.info(`WER after a SIGKILL and resume: ${(wer * 100).toFixed(1)} %`);
    expect(wer).toBeLessThanOrEqual(0.25);
    second.child.kill('SIGTERM');
    await second.exited;
  }, 240_000);
});
