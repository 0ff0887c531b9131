import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWhisperModelFile, WhisperEngine } from '../../src/engines/speech/whisper-engine.js';
import { runChildProcess } from '../../src/process/run-child-process.js';
import { codeOf } from '../helpers/error-code-of.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { makeTinyWhisperModel } from '../helpers/make-tiny-whisper-model.js';

/** The real binding and whisper.cpp on a generated model: structure is asserted, never accuracy. */

let dir: string;
let modelPath: string;
let speechWav: string;
let speechSec: number;

/** An engine on the generated model, or on `model` when given (undefined: WHISPER_MODEL unset). */
function engine(...model: [string | undefined] | []): WhisperEngine {
  return new WhisperEngine({ modelPath: model.length ? model[0] : modelPath, threads: 1, useGpu: false });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-whisper-'));
  modelPath = await makeTinyWhisperModel(path.join(dir, 'ggml-tiny-random.bin'));
  const spoken = await makeSpokenWav(
    dir,
    'The river runs past the old mill, and the children watch the boats.',
  );
  // The pipeline hands engines 16 kHz mono 16-bit WAV; so does this test.
  speechWav = path.join(dir, 'speech-16k.wav');
  await runChildProcess(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-i', spoken, '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', speechWav],
    { timeoutMs: 30_000 },
  );
  const { stdout } = await runChildProcess(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', speechWav],
    { timeoutMs: 30_000 },
  );
  speechSec = Number(stdout.toString('utf8').trim());
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('WhisperEngine with a generated tiny ggml model', () => {
  it('is ready, and names whisper.cpp, the binding version and the model', async () => {
    const whisper = engine();
    await whisper.checkReady();
    expect(whisper.name).toBe('whisper');
    expect(await whisper.version()).toMatch(
      /^whisper\.cpp \(@fugood\/whisper\.node \d+\.\d+\.\d+\) ggml-tiny-random\.bin$/,
    );
  });

  it('decodes real speech into ordered segments within the audio', async () => {
    const whisper = engine();
    const seen: unknown[] = [];
    const segments = await whisper.transcribe(speechWav, {
      language: 'eng',
      signal: new AbortController().signal,
      onSegment: (s) => seen.push(s),
    });
    expect(speechSec).toBeGreaterThan(2);
    expect(segments.length).toBeGreaterThan(0);
    expect(seen).toEqual(segments);
    let previousStart = 0;
    for (const s of segments) {
      expect(typeof s.text).toBe('string');
      expect(s.text.length).toBeGreaterThan(0);
      expect(s.start).toBeGreaterThanOrEqual(previousStart);
      expect(s.end).toBeGreaterThanOrEqual(s.start);
      expect(s.end).toBeLessThanOrEqual(speechSec + 0.01);
      previousStart = s.start;
    }
  });

  it('detects the language itself when the job says auto, and decodes a strict re-run', async () => {
    const whisper = engine();
    const auto = await whisper.transcribe(speechWav, {
      language: 'auto',
      signal: new AbortController().signal,
    });
    const strict = await whisper.transcribe(speechWav, {
      language: 'hin',
      strict: true,
      signal: new AbortController().signal,
    });
    for (const s of [...auto, ...strict]) expect(s.end).toBeLessThanOrEqual(speechSec + 0.01);
  });

  it('kills the decoding child when the job is cancelled mid-way, and when the chunk times out', async () => {
    const controller = new AbortController();
    const running = engine().transcribe(speechWav, { language: 'en', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await codeOf(running)).toBe('JOB_CANCELLED');
    const slow = engine().transcribe(speechWav, {
      language: 'en',
      signal: new AbortController().signal,
      timeoutMs: 1,
    });
    expect(await codeOf(slow)).toBe('TRANSCRIPTION_ENGINE_FAILED');
  });

  it('refuses at once when the job is already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(engine().transcribe(speechWav, { language: 'en', signal: controller.signal }))).toBe(
      'JOB_CANCELLED',
    );
  });
});

describe('WhisperEngine readiness with a bad model', () => {
  it('fails with WHISPER_MODEL_INVALID for an unset, missing, foreign or truncated file', async () => {
    const foreign = path.join(dir, 'not-a-model.bin');
    await writeFile(foreign, Buffer.alloc(4096, 7));
    const truncated = path.join(dir, 'truncated.bin');
    const { tinyWhisperModel } = await import('../helpers/make-tiny-whisper-model.js');
    await writeFile(truncated, tinyWhisperModel().subarray(0, 200_000));
    for (const bad of [undefined, path.join(dir, 'missing.bin'), foreign, truncated]) {
      expect([bad, await codeOf(engine(bad).checkReady())]).toEqual([bad, 'WHISPER_MODEL_INVALID']);
    }
    await expect(checkWhisperModelFile(foreign)).rejects.toThrow(/not a ggml whisper model/);
    await expect(checkWhisperModelFile(undefined)).rejects.toThrow(/WHISPER_MODEL is not set/);
  });

  it('fails a transcription of a job with the same code, not a hang', async () => {
    const whisper = engine(path.join(dir, 'missing.bin'));
    expect(
      await codeOf(whisper.transcribe(speechWav, { language: 'en', signal: new AbortController().signal })),
    ).toBe('WHISPER_MODEL_INVALID');
  });
});
