import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepeatedSpeechWav } from '../../../test/helpers/make-media-fixtures.js';
import { AppError } from '../../contract/index.js';
import type { Segment, SpeechEngine, TranscribeOptions } from '../../engines/speech/speech-engine.js';
import { createLogger } from '../../observability/logger.js';
import { LocalDiskStorage } from '../../storage/local-disk-storage.js';
import { createTranscriptionPipeline } from './run-transcription-pipeline.js';

/** Hears one word per chunk file it is given; fails on its `failOnCall`-th call when told to. */
class CountingEngine implements SpeechEngine {
  readonly name = 'counting';
  readonly languages = ['en'];
  heard: string[] = [];
  constructor(private readonly failOnCall: number | null) {}
  async version(): Promise<string> {
    return '1';
  }
  async transcribe(wavPath: string, _options: TranscribeOptions): Promise<Segment[]> {
    this.heard.push(path.basename(wavPath));
    if (this.failOnCall !== null && this.heard.length === this.failOnCall) {
      throw new AppError('TRANSCRIPTION_ENGINE_FAILED');
    }
    const index = Number(/chunk-(\d+)/.exec(wavPath)?.[1]);
    // Times relative to the chunk's audio; the overlap of 1 s puts the chunk's own start at 1 s.
    return [
      { start: index === 0 ? 0.2 : 1.2, end: index === 0 ? 0.6 : 1.6, text: `word${index}`, confidence: 0.9 },
    ];
  }
}

let dir: string;
let wav: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-resume-'));
  wav = await makeRepeatedSpeechWav(dir, 'the quick brown fox jumps over the lazy dog', {
    times: 4,
    pauseSec: 1.5,
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function attempt(engine: SpeechEngine, checkpointStorage: LocalDiskStorage) {
  const pipeline = createTranscriptionPipeline({
    engine,
    maxDurationSec: 600,
    chunking: { targetSec: 4, overlapSec: 1, inFlight: 1 },
    checkpointStorage,
  });
  return pipeline(
    {
      jobId: 'job-resume',
      inputPath: wav,
      inputMime: 'audio/wav',
      language: 'en',
      contentSubtype: 'general',
      workDir: await mkdtemp(path.join(dir, 'work-')),
    },
    {
      signal: new AbortController().signal,
      logger: createLogger({ level: 'silent', role: 'test' }),
      reportProgress: async () => {},
    },
  );
}

describe('resuming a transcription from checkpointed chunks', () => {
  it('skips the chunks a failed attempt finished, then removes the checkpoints', async () => {
    const storageRoot = path.join(dir, 'storage');
    const storage = new LocalDiskStorage(storageRoot);
    const checkpoints = path.join(storageRoot, 'jobs', 'job-resume', 'checkpoints', 'transcription');
    const first = new CountingEngine(3);
    const error = await attempt(first, storage).catch((e: unknown) => e);
    expect((error as AppError).code).toBe('TRANSCRIPTION_ENGINE_FAILED');
    expect(first.heard).toEqual(['chunk-00000.wav', 'chunk-00001.wav', 'chunk-00002.wav']);
    expect((await readdir(checkpoints)).sort()).toEqual([
      'chunk-00000.json',
      'chunk-00001.json',
      'plan.json',
    ]);

    const second = new CountingEngine(null);
    const result = await attempt(second, storage);
    expect(second.heard[0]).toBe('chunk-00002.wav');
    expect(second.heard).not.toContain('chunk-00000.wav');
    expect(second.heard).not.toContain('chunk-00001.wav');
    const words = String(result.outputs.txt).split(/\s+/).filter(Boolean);
    expect(words.slice(0, 3)).toEqual(['word0', 'word1', 'word2']);
    expect(words.length).toBe(first.heard.length - 1 + second.heard.length);
    await expect(readdir(checkpoints)).rejects.toThrow();
  });
});
