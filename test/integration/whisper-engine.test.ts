import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWhisperModelFile, WhisperEngine } from '../../src/engines/speech/whisper-engine.js';
import { runChildProcess } from '../../src/process/run-child-process.js';
import { codeOf } from '../helpers/error-code-of.js';
import { loopWav, makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { makeTinyWhisperModel } from '../helpers/make-tiny-whisper-model.js';

/** The real binding and whisper.cpp on a generated model: structure is asserted, never accuracy. */

let dir: string;
let modelPath: string;
let speechWav: string;
let speechSec: number;
/** About a minute of speech: two whisper windows, long enough to be cancelled mid-way. */
let longWav: string;
const engines: WhisperEngine[] = [];

/** An engine on the generated model, or on `model` when given (undefined: WHISPER_MODEL unset). */
function engine(...model: [string | undefined] | []): WhisperEngine {
  const made = new WhisperEngine({
    modelPath: model.length ? model[0] : modelPath,
    threads: 1,
    useGpu: false,
  });
  engines.push(made);
  return made;
}

/** Alive and not a zombie waiting for its parent. */
async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** Polls until `check` holds (a process ends, a flag flips); fails naming `what` after a generous bound. */
async function waitUntil(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}

function run(whisper: WhisperEngine, wav = speechWav, signal = new AbortController().signal) {
  return whisper.transcribe(wav, { language: 'en', signal });
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
  longWav = await loopWav(dir, speechWav, 15);
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
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
    // Cancelled while the engine is still checking the files, before any child is asked.
    const late = new AbortController();
    const whisper = engine();
    const running = whisper.transcribe(speechWav, { language: 'en', signal: late.signal });
    late.abort();
    expect(await codeOf(running)).toBe('JOB_CANCELLED');
    expect(whisper.processes()).toEqual([]);
  });
});

describe('WhisperEngine child processes', () => {
  it('loads the model once in one child and transcribes chunk after chunk in it', async () => {
    const whisper = engine();
    expect(whisper.processes()).toEqual([]);
    const pids = new Set<number>();
    for (let chunk = 1; chunk <= 4; chunk++) {
      expect((await run(whisper)).length).toBeGreaterThan(0);
      const [child, ...others] = whisper.processes();
      expect(others).toEqual([]);
      expect(child).toMatchObject({ modelLoads: 1, chunks: chunk, busy: false });
      pids.add(child?.pid ?? 0);
    }
    expect(pids.size).toBe(1);
    const [pid = 0] = pids;
    expect(await isRunning(pid)).toBe(true);
    await whisper.close();
    expect(whisper.processes()).toEqual([]);
    await waitUntil('the child ends on close', async () => !(await isRunning(pid)));
  });

  it('gives chunks in flight a child each, then reuses that small pool', async () => {
    const whisper = engine();
    await Promise.all([run(whisper), run(whisper)]);
    const pool = whisper.processes();
    expect(pool).toHaveLength(2);
    expect(new Set(pool.map((c) => c.pid)).size).toBe(2);
    await run(whisper);
    await Promise.all([run(whisper), run(whisper)]);
    const after = whisper.processes();
    expect(after.map((c) => c.pid).sort()).toEqual(pool.map((c) => c.pid).sort());
    expect(after.map((c) => c.modelLoads)).toEqual([1, 1]);
    expect(after.reduce((sum, c) => sum + c.chunks, 0)).toBe(5);
  });

  it('kills the child of a chunk cancelled mid-way at once, and the next chunk gets a new one', async () => {
    const whisper = engine();
    await run(whisper);
    const [warm] = whisper.processes();
    const controller = new AbortController();
    const running = run(whisper, longWav, controller.signal);
    await waitUntil('the chunk is sent to the child', () => whisper.processes()[0]?.busy === true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    expect(await codeOf(running)).toBe('JOB_CANCELLED');
    expect(whisper.processes()).toEqual([]);
    await waitUntil('the cancelled child ends', async () => !(await isRunning(warm?.pid ?? 0)));

    expect((await run(whisper)).length).toBeGreaterThan(0);
    const [fresh, ...others] = whisper.processes();
    expect(others).toEqual([]);
    expect(fresh?.pid).not.toBe(warm?.pid);
    expect(fresh).toMatchObject({ modelLoads: 1, chunks: 1 });

    // A chunk over its time limit is killed the same way.
    const slow = whisper.transcribe(longWav, {
      language: 'en',
      signal: new AbortController().signal,
      timeoutMs: 1,
    });
    expect(await codeOf(slow)).toBe('TRANSCRIPTION_ENGINE_FAILED');
    await waitUntil('the timed-out child ends', async () => !(await isRunning(fresh?.pid ?? 0)));
    expect((await run(whisper)).length).toBeGreaterThan(0);
    expect(whisper.processes()).toHaveLength(1);
  });

  it('replaces a child that died between chunks, and lets an idle child exit by itself', async () => {
    const whisper = new WhisperEngine({ modelPath, threads: 1, useGpu: false, idleExitMs: 300 });
    engines.push(whisper);
    await run(whisper);
    const [first] = whisper.processes();
    process.kill(first?.pid ?? 0, 'SIGKILL');
    await waitUntil('the dead child is forgotten', () => whisper.processes().length === 0);
    expect((await run(whisper)).length).toBeGreaterThan(0);
    const [second] = whisper.processes();
    expect(second?.pid).not.toBe(first?.pid);
    await waitUntil('the idle child exits', async () => !(await isRunning(second?.pid ?? 0)));
    expect(whisper.processes()).toEqual([]);
    expect((await run(whisper)).length).toBeGreaterThan(0);
  });

  it('leaves no orphan: the child ends with its worker, whether it exits or is killed', async () => {
    const host = (mode: 'exit' | 'wait') => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/helpers/whisper-engine-host.ts', modelPath, speechWav, mode],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const pids = new Promise<number[]>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          const line = out.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve((JSON.parse(line) as { childPids: number[] }).childPids);
        });
        child.on('exit', (code) => reject(new Error(`host exited (${code}) before transcribing`)));
      });
      return { child, exited, pids };
    };

    // A worker with nothing left to do exits although its idle child holds the model…
    const done = host('exit');
    const [idlePid = 0] = await done.pids;
    expect(await done.exited).toBe(0);
    await waitUntil('the idle child ends with its worker', async () => !(await isRunning(idlePid)));

    // …and a worker killed outright takes its child with it.
    const killed = host('wait');
    const [pid = 0] = await killed.pids;
    expect(await isRunning(pid)).toBe(true);
    killed.child.kill('SIGKILL');
    await killed.exited;
    await waitUntil('the child of a killed worker ends', async () => !(await isRunning(pid)));
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
