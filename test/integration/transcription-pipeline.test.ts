import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../src/contract/index.js';
import { PocketsphinxEngine } from '../../src/engines/speech/pocketsphinx-engine.js';
import { probeMedia } from '../../src/media/ffmpeg/probe-media.js';
import { findDataOffset } from '../../src/media/ffmpeg/read-wav-data-offset.js';
import { createLogger } from '../../src/observability/logger.js';
import type { PipelineResult, ProgressUpdate } from '../../src/pipelines/pipeline.js';
import {
  type ChunkingSettings,
  createTranscriptionPipeline,
} from '../../src/pipelines/transcription/run-transcription-pipeline.js';
import { runChildProcess } from '../../src/process/run-child-process.js';
import {
  encodeSpeech,
  makeCorruptAudio,
  makeMp3HidingItsLength,
  makeRandomBytes,
  makeRepeatedSpeechWav,
  makeRiverTalkWav,
  makeSilentVideoWithoutAudio,
  makeSpokenM4a,
  makeSpokenMp4Video,
  makeSpokenWav,
  makeTruncatedMp3,
} from '../helpers/make-media-fixtures.js';
import { wordRecall } from '../helpers/text-metrics.js';

const SENTENCE = 'the quick brown fox jumps over the lazy dog near the river bank';
const engine = new PocketsphinxEngine();

let dir: string;
let spokenWav: string;
let spokenWavSec: number;

interface Run {
  workDir: string;
  updates: ProgressUpdate[];
  logs: Array<Record<string, unknown>>;
  done: Promise<PipelineResult>;
}

async function startRun(
  inputPath: string,
  options: {
    maxDurationSec?: number;
    onTruncated?: 'fail' | 'warn';
    language?: string;
    chunking?: ChunkingSettings;
    controller?: AbortController;
    onProgress?: (update: ProgressUpdate, run: Run) => Promise<void>;
  } = {},
): Promise<Run> {
  const workDir = await mkdtemp(path.join(dir, 'work-'));
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    role: 'test',
    destination: { write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const pipeline = createTranscriptionPipeline({
    engine,
    maxDurationSec: options.maxDurationSec ?? 600,
    onTruncated: options.onTruncated ?? 'fail',
    ...(options.chunking ? { chunking: options.chunking } : {}),
  });
  const run: Run = { workDir, updates: [], logs, done: Promise.resolve({} as PipelineResult) };
  run.done = pipeline(
    {
      jobId: 'job-test',
      inputPath,
      inputMime: 'audio/wav',
      language: options.language ?? 'en',
      contentSubtype: 'general',
      workDir,
    },
    {
      signal: (options.controller ?? new AbortController()).signal,
      logger,
      reportProgress: async (update) => {
        run.updates.push(update);
        await options.onProgress?.(update, run);
      },
    },
  );
  return run;
}

async function expectAppError(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await promise.then(
    () => new Error('expected the pipeline to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
}

/** Length of a WAV from its own header, independently of ffprobe. */
async function wavSeconds(file: string): Promise<number> {
  const bytes = await readFile(file);
  const offset = findDataOffset(bytes) ?? 44;
  const sampleRate = bytes.readUInt32LE(24);
  const blockAlign = bytes.readUInt16LE(32);
  return (bytes.length - offset) / (sampleRate * blockAlign);
}

async function processesUsing(program: string, workDir: string): Promise<string[]> {
  const { stdout } = await runChildProcess('ps', ['-eo', 'pid=,args=']);
  return stdout
    .toString('utf8')
    .split('\n')
    .filter((line) => line.includes(program) && line.includes(workDir));
}

const pocketsphinxProcessesUsing = (workDir: string) => processesUsing('pocketsphinx_continuous', workDir);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-transcription-'));
  spokenWav = await makeSpokenWav(dir, SENTENCE);
  spokenWavSec = await wavSeconds(spokenWav);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('transcription pipeline with pocketsphinx', () => {
  it('transcribes spoken English into text, SRT, WebVTT and JSON with rising progress', async () => {
    const run = await startRun(spokenWav);
    const result = await run.done;

    const text = String(result.outputs.txt);
    const recall = wordRecall(SENTENCE, text);
    console.info(`pocketsphinx word recall on flite WAV: ${recall.toFixed(3)} (${JSON.stringify(text)})`);
    expect(recall).toBeGreaterThanOrEqual(0.6);

    expect(result.engine).toMatch(/^pocketsphinx \d+\.\d+/);
    expect(result.media_duration_sec).toBeGreaterThan(0);
    expect(Math.abs((result.media_duration_sec ?? 0) - spokenWavSec)).toBeLessThanOrEqual(0.2);
    expect(result.quality?.score).toBeGreaterThan(0);
    expect(result.quality?.score).toBeLessThanOrEqual(1);
    expect(result.quality?.hints).toEqual([]);

    const srt = String(result.outputs.srt);
    expect(srt).toMatch(/^1\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\n\S.*\n/);
    const vtt = String(result.outputs.vtt);
    expect(vtt).toMatch(/^WEBVTT\n\n\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}\n\S.*\n/);

    const json = JSON.parse(String(result.outputs.json)) as {
      segments: Array<{ start: number; end: number; text: string }>;
      media_duration_sec: number;
    };
    expect(json.media_duration_sec).toBe(result.media_duration_sec);
    expect(json.segments.length).toBeGreaterThan(0);
    for (const segment of json.segments) {
      expect(segment.end).toBeGreaterThan(segment.start);
      expect(segment.end).toBeLessThanOrEqual(json.media_duration_sec + 0.05);
      expect(segment.text).not.toMatch(/<s>|<\/s>|<sil>|\[|\(\d\)/);
    }
    expect(json.segments.map((segment) => segment.text).join(' ')).toBe(text.trim().replace(/\s+/g, ' '));

    const figures = run.updates.map((update) => update.progress);
    expect(figures).toEqual([...figures].sort((a, b) => a - b));
    expect(run.updates[0]).toMatchObject({ stage: 'decoding audio', progress: 2 });
    expect(run.updates[0]?.facts?.media_duration_sec).toBe(result.media_duration_sec);
    expect(run.updates.some((update) => /^transcribing \d\d:\d\d of \d\d:\d\d$/.test(update.stage))).toBe(
      true,
    );
    expect(Math.max(...figures)).toBeGreaterThan(90);

    const events = run.logs.map((entry) => entry.event);
    expect(events).toEqual(
      expect.arrayContaining([
        'transcription.decoded',
        'transcription.segment',
        'transcription.chunk.done',
        'transcription.done',
      ]),
    );
    expect(run.logs.find((entry) => entry.event === 'transcription.done')).toMatchObject({
      segments: json.segments.length,
    });
  });

  it('transcribes the sound track of an MP4 video', async () => {
    const video = await makeSpokenMp4Video(dir, SENTENCE);
    const result = await (await startRun(video)).done;
    const recall = wordRecall(SENTENCE, String(result.outputs.txt));
    console.info(`pocketsphinx word recall on MP4 video: ${recall.toFixed(3)}`);
    expect(recall).toBeGreaterThanOrEqual(0.6);
    expect(Math.abs((result.media_duration_sec ?? 0) - spokenWavSec)).toBeLessThanOrEqual(0.2);
  });

  it('transcribes AAC audio in M4A for a job whose language is written "eng"', async () => {
    const m4a = await makeSpokenM4a(dir, SENTENCE);
    const result = await (await startRun(m4a, { language: 'eng' })).done;
    const recall = wordRecall(SENTENCE, String(result.outputs.txt));
    console.info(`pocketsphinx word recall on M4A: ${recall.toFixed(3)}`);
    expect(recall).toBeGreaterThanOrEqual(0.6);
    expect(result.quality?.hints).toEqual([]);
  });

  it('refuses a video without an audio track with MEDIA_NO_AUDIO', async () => {
    const video = await makeSilentVideoWithoutAudio(dir);
    await expectAppError((await startRun(video)).done, 'MEDIA_NO_AUDIO');
  });

  it('refuses a corrupt file with MEDIA_DECODE_FAILED', async () => {
    const corrupt = await makeCorruptAudio(dir);
    await expectAppError((await startRun(corrupt)).done, 'MEDIA_DECODE_FAILED');
  });

  it('refuses random bytes with MEDIA_DECODE_FAILED', async () => {
    await expectAppError((await startRun(await makeRandomBytes(dir))).done, 'MEDIA_DECODE_FAILED');
  });

  it('refuses a truncated MP3 with MEDIA_TRUNCATED by default', async () => {
    const truncated = await makeTruncatedMp3(dir, SENTENCE, 0.4);
    await expectAppError((await startRun(truncated)).done, 'MEDIA_TRUNCATED');
  });

  it('completes a truncated MP3 with a clear warning and the measured duration when told to', async () => {
    const truncated = await makeTruncatedMp3(dir, SENTENCE, 0.4);
    const result = await (await startRun(truncated, { onTruncated: 'warn' })).done;
    expect(result.quality?.hints?.[0]).toMatch(/decodes to 00:0\d of audio although its header says 00:0\d/);
    expect(result.media_duration_sec).toBeLessThan(0.6 * spokenWavSec);
  });

  it('refuses a recording longer than allowed, measured before any decoding, with MEDIA_TOO_LONG', async () => {
    const run = await startRun(spokenWav, { maxDurationSec: Math.floor(spokenWavSec / 2) });
    await expectAppError(run.done, 'MEDIA_TOO_LONG');
    expect(run.updates).toEqual([]);
  });

  it('refuses with MEDIA_TOO_LONG, once decoded, an MP3 whose header claims a quarter of its length', async () => {
    const hiding = await makeMp3HidingItsLength(dir, SENTENCE, 0.25);
    const probed = await probeMedia(hiding);
    // Between what the header says (~1 s) and what the file holds (~4 s).
    const maxDurationSec = 2;
    expect(probed.durationSec).toBeLessThan(maxDurationSec);
    const run = await startRun(hiding, { maxDurationSec });
    const error = await run.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'MEDIA_TOO_LONG', details: { max_duration_sec: maxDurationSec } });
    // The probe let it through; the samples decoded (stopped a second past the limit) did not.
    expect(run.updates[0]?.stage).toBe('decoding audio');
    expect((error as AppError).details?.media_duration_sec).toBeGreaterThan(maxDurationSec + 0.5);
    expect(run.logs.some((entry) => entry.event === 'transcription.decoded')).toBe(false);
    expect(await readdir(run.workDir)).toEqual([]);
  });

  it('tells the time left, from the measured speed, once the first chunk of several is done', async () => {
    const long = await makeRepeatedSpeechWav(dir, SENTENCE, { times: 4, pauseSec: 1.5 });
    const seen: Array<{ update: ProgressUpdate; chunksDone: number }> = [];
    const run = await startRun(long, {
      chunking: { targetSec: 6, overlapSec: 0.5, inFlight: 1 },
      onProgress: async (update, current) => {
        const chunksDone = current.logs.filter((entry) => entry.event === 'transcription.chunk.done').length;
        seen.push({ update, chunksDone });
      },
    });
    await run.done;
    expect(run.logs.find((entry) => entry.event === 'transcription.decoded')?.chunks).toBeGreaterThanOrEqual(
      3,
    );

    const transcribing = seen.filter(({ update }) => update.stage.startsWith('transcribing'));
    // Nothing measured yet: no guess.
    for (const { update } of transcribing.filter(({ chunksDone }) => chunksDone === 0)) {
      expect(update).not.toHaveProperty('eta_sec');
      expect(update.stage).toMatch(/^transcribing \d\d:\d\d of \d\d:\d\d$/);
    }
    const measured = transcribing.filter(({ chunksDone }) => chunksDone > 0).map(({ update }) => update);
    expect(measured.length).toBeGreaterThanOrEqual(3);
    for (const update of measured) {
      expect(typeof update.eta_sec).toBe('number');
      expect(update.eta_sec).toBeGreaterThanOrEqual(0);
      const left = /^transcribing \d\d:\d\d of \d\d:\d\d, about (\d\d):(\d\d) left$/.exec(update.stage);
      expect(left, update.stage).not.toBeNull();
      // The stage and the field tell the same time (the clock floors, the field rounds).
      expect(
        Math.abs(Number(left?.[1]) * 60 + Number(left?.[2]) - (update.eta_sec ?? 0)),
      ).toBeLessThanOrEqual(1);
    }
    // Everything heard: nothing left.
    expect(measured.at(-1)).toMatchObject({ eta_sec: 0 });
    expect(measured.at(-1)?.stage).toMatch(/, about 00:00 left$/);
  });

  it('stops pocketsphinx at once when the job is cancelled mid-transcription', async () => {
    const long = await makeRepeatedSpeechWav(dir, SENTENCE, { times: 4, pauseSec: 1.5 });
    const controller = new AbortController();
    let runningWhenCancelled: string[] = [];
    const run = await startRun(long, {
      controller,
      onProgress: async (update, current) => {
        if (controller.signal.aborted || update.progress <= 6) return;
        runningWhenCancelled = await pocketsphinxProcessesUsing(current.workDir);
        controller.abort();
      },
    });
    await expectAppError(run.done, 'JOB_CANCELLED');
    expect(runningWhenCancelled).toHaveLength(1);
    expect(await pocketsphinxProcessesUsing(run.workDir)).toEqual([]);
    expect(run.logs.some((entry) => entry.event === 'transcription.done')).toBe(false);
    // The decoded audio and the chunk files are gone too.
    expect(await readdir(run.workDir)).toEqual([]);
  });

  it('kills ffmpeg at once when the job is cancelled while the recording is being decoded', async () => {
    // Half an hour of MP3 (the talk's frames copied ten times, no re-encoding): seconds of decoding.
    const talkMp3 = await encodeSpeech(await makeRiverTalkWav(), 'mp3');
    const long = path.join(dir, 'half-hour.mp3');
    await runChildProcess(
      'ffmpeg',
      ['-nostdin', '-v', 'error', '-y', '-stream_loop', '9', '-i', talkMp3, '-c', 'copy', long],
      { timeoutMs: 60_000 },
    );
    const controller = new AbortController();
    let decodingWhenCancelled: string[] = [];
    let watching = false;
    const run = await startRun(long, {
      controller,
      maxDurationSec: 7200,
      onProgress: async (update, current) => {
        if (watching || update.stage !== 'decoding audio') return;
        watching = true;
        // Not awaited: the pipeline starts ffmpeg once this first update is saved.
        void (async () => {
          while (!controller.signal.aborted) {
            decodingWhenCancelled = await processesUsing('ffmpeg', current.workDir);
            if (decodingWhenCancelled.length > 0) controller.abort();
            else await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();
      },
    });
    await expectAppError(run.done, 'JOB_CANCELLED');
    expect(decodingWhenCancelled).toHaveLength(1);
    expect(decodingWhenCancelled[0]).toContain(path.join(run.workDir, 'audio.wav'));
    // Gone by the time the pipeline gave up, before decoding could finish, and its output removed.
    expect(await processesUsing('ffmpeg', run.workDir)).toEqual([]);
    expect(run.logs.some((entry) => entry.event === 'transcription.decoded')).toBe(false);
    expect(await readdir(run.workDir)).toEqual([]);
  });

  it.each([
    ['pink noise', 'anoisesrc=d=12:c=pink:a=0.3:seed=7'],
    [
      'a melody of tones',
      "aevalsrc='0.3*sin(2*PI*(220+110*floor(mod(t*2,4)))*t)+0.2*sin(2*PI*330*t)':d=12:s=16000",
    ],
  ])('hints at noise or music for 12 s of %s, which has sound but no speech', async (_label, source) => {
    const file = path.join(dir, `sound-${_label.replaceAll(' ', '-')}.wav`);
    await runChildProcess(
      'ffmpeg',
      ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-ar', '16000', '-ac', '1', file],
      { timeoutMs: 30_000 },
    );
    const run = await startRun(file);
    const result = await run.done;
    expect(result.quality?.hints).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Noise or music suspected at 00:00–00:12/)]),
    );
    expect(result.quality?.low_confidence_segments).toEqual(
      expect.arrayContaining([{ start_sec: 0, end_sec: 12, score: 0.2, reasons: ['noise_or_music'] }]),
    );
    expect(run.logs.find((entry) => entry.event === 'transcription.noise_suspected')).toMatchObject({
      chunks: [0],
    });
  });
});
