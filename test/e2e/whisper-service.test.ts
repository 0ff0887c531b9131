import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { makeTinyWhisperModel } from '../helpers/make-tiny-whisper-model.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// The whole service (role all) with TRANSCRIPTION_ENGINE=whisper on a generated tiny model.
let dir: string;
let svc: TestService;
let broken: TestService;
let svcClosed = false;

/** Live child processes of this process that run the whisper binding (the engine's children). */
async function whisperChildren(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid || /^State:\s+Z/m.test(status))
        continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('whisper.node')) pids.push(Number(entry));
    } catch {
      // Ended while listed.
    }
  }
  return pids;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-whisper-e2e-'));
  const model = await makeTinyWhisperModel(path.join(dir, 'ggml-tiny-random.bin'));
  const notAModel = path.join(dir, 'not-a-model.bin');
  await writeFile(notAModel, Buffer.alloc(4096, 1));
  const env = { TRANSCRIPTION_ENGINE: 'whisper', WORKER_QUEUES: 'transcription', WHISPER_THREADS: '1' };
  svc = await startTestService('whisper-e2e', { ...env, WHISPER_MODEL: model });
  broken = await startTestService('whisper-e2e-broken', { ...env, WHISPER_MODEL: notAModel });
});

afterAll(async () => {
  if (!svcClosed) await svc?.close();
  await broken?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the service with the whisper engine', () => {
  it('completes a transcription job with valid json and srt outputs, recording the engine', async () => {
    const wav = await makeSpokenWav(dir, 'the quick brown fox jumps over the lazy dog near the river bank');
    const response = await submitFile(svc.url, { name: 'talk.wav', bytes: await readFile(wav) });
    expect(response.status).toBe(201);
    const job = await waitForJob(svc.url, ((await response.json()) as Job).job_id);
    expect(job).toMatchObject({ status: 'COMPLETED', job_type: 'TRANSCRIPTION' });
    expect(job.engine).toMatch(
      /^whisper whisper\.cpp \(@fugood\/whisper\.node [\d.]+\) ggml-tiny-random\.bin$/,
    );
    const duration = job.media_duration_sec ?? 0;
    expect(duration).toBeGreaterThan(2);

    const json = (await (await fetch(`${svc.url}/v1/jobs/${job.job_id}/result?format=json`)).json()) as {
      segments: Array<{ start: number; end: number; text: string }>;
    };
    expect(Array.isArray(json.segments)).toBe(true);
    let previousStart = 0;
    for (const s of json.segments) {
      expect(typeof s.text).toBe('string');
      expect(s.start).toBeGreaterThanOrEqual(previousStart);
      expect(s.end).toBeGreaterThanOrEqual(s.start);
      expect(s.end).toBeLessThanOrEqual(duration + 0.01);
      previousStart = s.start;
    }

    const srt = await (await fetch(`${svc.url}/v1/jobs/${job.job_id}/result?format=srt`)).text();
    const cues = srt.split(/\n\n+/).filter((cue) => cue.trim());
    // Subtitle cues may merge or split segments, but text in the json means cues in the srt.
    if (json.segments.some((s) => s.text.trim())) expect(cues.length).toBeGreaterThan(0);
    const seconds = (t: string) => {
      const [h = '0', m = '0', rest = '0'] = t.split(':');
      return Number(h) * 3600 + Number(m) * 60 + Number(rest.replace(',', '.'));
    };
    let previousEnd = 0;
    cues.forEach((cue, i) => {
      const [index, timing] = cue.split('\n');
      expect(index).toBe(String(i + 1));
      const match = /^(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})$/.exec(timing ?? '');
      expect(match).not.toBeNull();
      const [start, end] = [seconds(match?.[1] ?? ''), seconds(match?.[2] ?? '')];
      expect(start).toBeGreaterThanOrEqual(previousEnd);
      expect(end).toBeGreaterThan(start);
      previousEnd = end;
    });

    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
  });

  it('is not ready with an invalid model, naming WHISPER_MODEL_INVALID', async () => {
    const response = await fetch(`${broken.url}/readyz`);
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(body).toMatch(/speech_engine/);
    expect(body).toMatch(/WHISPER_MODEL/);
    // The worker takes no job until the check passes, and logs the catalog code of why not.
    const failure = broken.logs.find(
      (l) => l.event === 'readiness.check_failed' && l.check === 'speech_engine',
    );
    expect((failure?.err as { code?: string } | undefined)?.code).toBe('WHISPER_MODEL_INVALID');
  });

  it('keeps one whisper child with its model across jobs, and ends it when the service stops', async () => {
    const wav = await makeSpokenWav(dir, 'one more short recording for the same worker');
    const pidsAfter: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const response = await submitFile(svc.url, { name: `again-${i}.wav`, bytes: await readFile(wav) });
      const job = await waitForJob(svc.url, ((await response.json()) as Job).job_id);
      expect(job.status).toBe('COMPLETED');
      pidsAfter.push(await whisperChildren());
    }
    expect(pidsAfter[0]).toHaveLength(1);
    expect(pidsAfter[1]).toEqual(pidsAfter[0]);
    svcClosed = true;
    await svc.close();
    expect(await whisperChildren()).toEqual([]);
  });
});
