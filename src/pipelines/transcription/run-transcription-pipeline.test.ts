import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSpokenWav } from '../../../test/helpers/make-media-fixtures.js';
import { AppError } from '../../contract/index.js';
import type { Segment, SpeechEngine, TranscribeOptions } from '../../engines/speech/speech-engine.js';
import { createLogger } from '../../observability/logger.js';
import type { ProgressUpdate } from '../pipeline.js';
import { createTranscriptionPipeline } from './run-transcription-pipeline.js';

/** A speech engine that "hears" fixed segments, so the pipeline's own rules can be checked exactly. */
class ScriptedEngine implements SpeechEngine {
  readonly name: string = 'scripted';
  readonly languages = ['en'];
  calls: TranscribeOptions[] = [];

  constructor(private readonly segments: Segment[]) {}

  async version(): Promise<string> {
    return '1.2.3';
  }

  async transcribe(_wavPath: string, options: TranscribeOptions): Promise<Segment[]> {
    this.calls.push(options);
    for (const segment of this.segments) options.onSegment?.(segment);
    return this.segments;
  }
}

let dir: string;
let wav: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-transcription-unit-'));
  wav = await makeSpokenWav(dir, 'one two three four five');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(engine: SpeechEngine, options: { language?: string; signal?: AbortSignal } = {}) {
  const updates: ProgressUpdate[] = [];
  const pipeline = createTranscriptionPipeline({ engine, maxDurationSec: 600 });
  const result = await pipeline(
    {
      jobId: 'job-1',
      inputPath: wav,
      inputMime: 'audio/wav',
      language: options.language ?? 'en',
      contentSubtype: 'general',
      workDir: await mkdtemp(path.join(dir, 'work-')),
    },
    {
      signal: options.signal ?? new AbortController().signal,
      logger: createLogger({ level: 'silent', role: 'test' }),
      reportProgress: async (update) => {
        updates.push(update);
      },
    },
  );
  return { result, updates };
}

describe('transcription pipeline rules (scripted engine, real ffmpeg)', () => {
  it('keeps progress rising and below 100 even when segment times go back or past the end', async () => {
    const engine = new ScriptedEngine([
      { start: 0, end: 1, text: 'one', confidence: 1 },
      { start: 0.2, end: 0.5, text: 'two', confidence: 1 },
      { start: 1, end: 500, text: 'three', confidence: 1 },
    ]);
    const { updates } = await run(engine);
    const figures = updates.map((update) => update.progress);
    expect(figures).toEqual([...figures].sort((a, b) => a - b));
    expect(Math.max(...figures)).toBeLessThanOrEqual(99);
    expect(updates.at(-1)?.progress).toBe(99);
    expect(updates.every((update) => Number.isInteger(update.progress))).toBe(true);
  });

  it('names the engine with its version and joins close segments into one paragraph', async () => {
    const engine = new ScriptedEngine([
      { start: 0.1, end: 0.9, text: 'one two', confidence: 0.8 },
      { start: 1, end: 1.9, text: 'three', confidence: 0.6 },
    ]);
    const { result } = await run(engine);
    expect(result.engine).toBe('scripted 1.2.3');
    expect(result.outputs.txt).toBe('one two three\n');
    expect(result.quality?.score).toBeCloseTo(0.69, 1);
  });

  it('still transcribes a Hindi job but says the engine only knows English', async () => {
    const engine = new ScriptedEngine([{ start: 0, end: 1, text: 'one', confidence: 0.9 }]);
    const { result } = await run(engine, { language: 'hi' });
    expect(engine.calls[0]?.language).toBe('hi');
    expect(result.quality?.hints?.join(' ')).toContain('only knows English');
  });

  it('says so when no speech was recognised although the recording has sound, with no score', async () => {
    const { result } = await run(new ScriptedEngine([]));
    expect(result.quality?.score).toBe(null);
    expect(result.quality?.hints?.[0]).toBe('No speech was recognised in the recording.');
    expect(result.quality?.low_confidence_segments).toEqual([
      expect.objectContaining({ start_sec: 0, score: 0, reasons: ['empty_output'] }),
    ]);
    expect(result.outputs.vtt).toBe('WEBVTT\n');
  });

  it('does not start when the job was cancelled before it began', async () => {
    const engine = new ScriptedEngine([]);
    const controller = new AbortController();
    controller.abort();
    const error = await run(engine, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('JOB_CANCELLED');
    expect(engine.calls).toHaveLength(0);
  });
});

describe('the engine a job names (transcription_engine)', () => {
  /** Answers one segment per chunk; a 1.5-second request limit like a cloud API's. */
  class ShortChunkEngine extends ScriptedEngine {
    override readonly name = 'short';
    readonly maxChunkSec = 1.5;
  }

  it('runs the named engine with its own chunk limit and records it; the default engine is not called', async () => {
    const fallback = new ScriptedEngine([{ start: 0, end: 0.5, text: 'default' }]);
    const named = new ShortChunkEngine([{ start: 0, end: 0.5, text: 'named' }]);
    const asked: string[] = [];
    const pipeline = createTranscriptionPipeline({
      engine: fallback,
      engineFor: (name) => {
        asked.push(name);
        return named;
      },
      maxDurationSec: 600,
    });
    const result = await pipeline(
      {
        jobId: 'job-named',
        inputPath: wav,
        inputMime: 'audio/wav',
        language: 'en',
        contentSubtype: 'general',
        workDir: await mkdtemp(path.join(dir, 'work-')),
        transcription: { engine: 'short', chunkSec: 60, chunkOverlapSec: 0 },
      },
      {
        signal: new AbortController().signal,
        logger: createLogger({ level: 'silent', role: 'test' }),
        reportProgress: async () => {},
      },
    );
    expect(asked).toEqual(['short']);
    expect(result.engine).toBe('short 1.2.3');
    expect(fallback.calls).toHaveLength(0);
    // The recording lasts more than 1.5 s: the named engine's limit cut it, not the 60 s asked for.
    expect(named.calls.length).toBeGreaterThan(1);
  });

  it('fails with ENGINE_NOT_CONFIGURED when the worker has no such engine', async () => {
    const pipeline = createTranscriptionPipeline({ engine: new ScriptedEngine([]), maxDurationSec: 600 });
    const outcome = pipeline(
      {
        jobId: 'job-missing',
        inputPath: wav,
        inputMime: 'audio/wav',
        language: 'en',
        contentSubtype: 'general',
        workDir: await mkdtemp(path.join(dir, 'work-')),
        transcription: { engine: 'whisper' },
      },
      {
        signal: new AbortController().signal,
        logger: createLogger({ level: 'silent', role: 'test' }),
        reportProgress: async () => {},
      },
    );
    await expect(outcome).rejects.toMatchObject({ code: 'ENGINE_NOT_CONFIGURED' });
  });
});
