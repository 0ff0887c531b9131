import { spawn } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { AppError } from '../../contract/index.js';
import { readWavDataOffset } from '../../media/ffmpeg/read-wav-data-offset.js';
import { twoLetterLanguage } from './language-codes.js';
import type { Segment, SpeechEngine, TranscribeOptions } from './speech-engine.js';

export interface WhisperEngineSettings {
  /** A ggml whisper model file (`ggml-base.bin`, …); absent fails readiness. */
  modelPath: string | undefined;
  threads: number;
  useGpu: boolean;
}

/** What `@fugood/whisper.node` 1.1.x answers (its own types ship as .ts sources TypeScript would compile). */
interface WhisperResult {
  language?: string;
  result: string;
  /** Times in milliseconds. */
  segments: Array<{ text: string; t0: number; t1: number }>;
  isAborted: boolean;
}
const GGML_FILE_MAGIC = 0x67676d6c;
/** Smallest vocabulary whisper.cpp knows (English-only models); multilingual ones have 51865+. */
const MIN_VOCAB = 51_864;
/** magic + 11 int32 hyper-parameters. */
const HEADER_BYTES = 48;
/** 16 kHz mono 16-bit PCM. */
const WAV_BYTES_PER_SEC = 32_000;
/**
 * Longest a chunk may take without an explicit timeout (the model is loaded for each chunk).
 */
const MIN_GUARD_MS = 120_000;
const GUARD_MS_PER_AUDIO_SEC = 20_000;

const require = createRequire(import.meta.url);

function bindingVersion(): string {
  try {
    return (require('@fugood/whisper.node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function invalidModel(message: string, cause?: unknown): AppError {
  return new AppError('WHISPER_MODEL_INVALID', message, cause === undefined ? undefined : { cause });
}

/** Bytes per block and elements per block of the ggml tensor types whisper models use. */
const GGML_TYPE_BLOCKS: Readonly<Record<number, [bytes: number, elements: number]>> = {
  0: [4, 1], // f32
  1: [2, 1], // f16
  2: [18, 32], // q4_0
  3: [20, 32], // q4_1
  6: [22, 32], // q5_0
  7: [24, 32], // q5_1
  8: [34, 32], // q8_0
};
/** The vocabulary and mel filters of every real model fit in this; tensors are walked by seeking. */
const PREFIX_BYTES = 4 * 1024 * 1024;

/**
 * Walks the model file as whisper.cpp's loader does (magic, hyper-parameters, mel filters,
 * vocabulary, then each tensor's header, skipping its data) and requires it to end exactly after
 * the last tensor. whisper.cpp itself accepts a file cut short inside the vocabulary as an
 * "empty model for testing", so a half-downloaded model must be caught here.
 */
export async function checkWhisperModelFile(modelPath: string | undefined): Promise<void> {
  if (!modelPath) throw invalidModel('WHISPER_MODEL is not set: name a ggml whisper model file.');
  let size: number;
  try {
    const info = await stat(modelPath);
    if (!info.isFile()) throw invalidModel(`WHISPER_MODEL (${modelPath}) is not a file.`);
    size = info.size;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw invalidModel(`WHISPER_MODEL (${modelPath}) cannot be read: ${(error as Error).message}`, error);
  }
  const fail = (why: string) => invalidModel(`WHISPER_MODEL (${modelPath}) ${why}.`);
  const file = await open(modelPath, 'r');
  try {
    const prefix = Buffer.alloc(Math.min(size, PREFIX_BYTES));
    await file.read(prefix, 0, prefix.length, 0);
    if (prefix.length < HEADER_BYTES) throw fail('is too short to be a model');
    if (prefix.readUInt32LE(0) !== GGML_FILE_MAGIC) {
      throw fail('is not a ggml whisper model (wrong magic; GGUF and PyTorch files are not accepted)');
    }
    const nVocab = prefix.readInt32LE(4);
    const audioState = prefix.readInt32LE(12);
    const textState = prefix.readInt32LE(28);
    const nMels = prefix.readInt32LE(40);
    if (
      nVocab < MIN_VOCAB ||
      audioState <= 0 ||
      audioState !== textState ||
      (nMels !== 80 && nMels !== 128)
    ) {
      throw fail('has hyper-parameters whisper.cpp does not accept');
    }
    let at = HEADER_BYTES;
    const int = () => {
      if (at + 4 > prefix.length) throw fail('ends inside its mel filters or vocabulary (incomplete file)');
      const value = prefix.readInt32LE(at);
      at += 4;
      return value;
    };
    const filterMel = int();
    const filterFft = int();
    at += 4 * filterMel * filterFft;
    const tokens = int();
    for (let i = 0; i < tokens; i++) {
      const length = int();
      at += length;
    }
    if (at > prefix.length) throw fail('ends inside its vocabulary (incomplete file)');
    let tensors = 0;
    const head = Buffer.alloc(12 + 16);
    while (at < size) {
      const { bytesRead } = await file.read(head, 0, head.length, at);
      if (bytesRead < 12) throw fail('ends inside a tensor header (incomplete file)');
      const dims = head.readInt32LE(0);
      const nameLength = head.readInt32LE(4);
      const block = GGML_TYPE_BLOCKS[head.readInt32LE(8)];
      if (dims < 1 || dims > 4 || nameLength <= 0 || nameLength > 256 || !block) {
        throw fail('has a malformed tensor header');
      }
      let elements = 1;
      for (let d = 0; d < dims; d++) elements *= head.readInt32LE(12 + 4 * d);
      at += 12 + 4 * dims + nameLength + (elements / block[1]) * block[0];
      tensors += 1;
    }
    if (tensors === 0 || at !== size) throw fail('ends inside its weights (incomplete file)');
  } finally {
    await file.close();
  }
}

/** Seconds of audio in a 16 kHz mono 16-bit WAV, from its size. */
async function wavDurationSec(wavPath: string): Promise<number> {
  const offset = await readWavDataOffset(wavPath).catch((error: unknown) => {
    throw new AppError('TRANSCRIPTION_ENGINE_FAILED', 'The audio file is missing.', { cause: error });
  });
  if (offset === null) {
    throw new AppError('TRANSCRIPTION_ENGINE_FAILED', 'The audio given to whisper is not a WAV file.');
  }
  const { size } = await stat(wavPath);
  return Math.max(0, size - offset) / WAV_BYTES_PER_SEC;
}

/**
 * whisper.cpp's segments in seconds, clamped to the audio (a weak or random model may place a
 * timestamp past the end) and kept in time order; empty segments are dropped.
 */
export function toSegments(raw: WhisperResult['segments'], durationSec: number): Segment[] {
  const segments: Segment[] = [];
  let floor = 0;
  for (const s of raw) {
    const text = s.text.trim();
    if (!text) continue;
    const clamp = (ms: number) => Math.min(durationSec, Math.max(floor, Math.round(ms) / 1000));
    const start = clamp(s.t0);
    const end = Math.max(start, clamp(s.t1));
    segments.push({ start, end, text });
    floor = start;
  }
  return segments;
}

/**
 * The child that runs one chunk: loads the binding and the model, transcribes, sends the result
 * over IPC and exits. Plain CommonJS given to `node -e`, so it runs the same from src and dist.
 * When whisper.cpp throws inside the binding's worker thread the binding never settles its
 * promise; the child's event loop then empties and it exits without an answer.
 */
const CHILD_SOURCE = `
const [bindingPath, request] = process.argv.slice(1);
const { modelPath, wavPath, useGpu, options } = JSON.parse(request);
const reply = (message, code) => process.send(message, () => process.exit(code));
(async () => {
  const binding = require(bindingPath);
  const context = await binding.initWhisper({ filePath: modelPath, useGpu });
  const result = await context.transcribeFile(wavPath, options).promise;
  reply({ ok: true, result }, 0);
})().catch((error) => reply({ ok: false, message: String((error && error.message) || error) }, 1));
`;
/** Last bytes of the child's stderr (whisper.cpp's log) kept for the error message. */
const STDERR_TAIL_BYTES = 2048;

type ChildAnswer = { ok: true; result: WhisperResult } | { ok: false; message: string };

/**
 * whisper.cpp through `@fugood/whisper.node` (prebuilt binaries), one child process per chunk:
 * the event loop (and BullMQ's lock renewal) never waits on it, cancel and timeout kill it at once
 * (the binding itself cannot interrupt a running decode), and a crash or hang in native code
 * fails the chunk instead of the worker. Multilingual: the job language, or `auto`-detection.
 */
export class WhisperEngine implements SpeechEngine {
  readonly name = 'whisper';
  readonly languages: readonly string[] = ['*'];

  constructor(private readonly settings: WhisperEngineSettings) {}

  async version(): Promise<string> {
    const model = this.settings.modelPath ? path.basename(this.settings.modelPath) : 'no model';
    return `whisper.cpp (@fugood/whisper.node ${bindingVersion()}) ${model}`;
  }

  /** The model file is a complete ggml whisper model and the binding is installed. */
  async checkReady(): Promise<void> {
    await checkWhisperModelFile(this.settings.modelPath);
    bindingPath();
  }

  async transcribe(wavPath: string, options: TranscribeOptions): Promise<Segment[]> {
    if (options.signal.aborted) throw new AppError('JOB_CANCELLED');
    const durationSec = await wavDurationSec(wavPath);
    await checkWhisperModelFile(this.settings.modelPath);
    const request = {
      modelPath: this.settings.modelPath,
      wavPath,
      useGpu: this.settings.useGpu,
      options: {
        language: twoLetterLanguage(options.language) ?? 'auto',
        maxThreads: this.settings.threads,
        // Deterministic first pass; whisper.cpp raises the temperature itself when a window fails.
        temperature: 0,
        // Strict re-run after runaway repetition: no text carried over from the previous window.
        ...(options.strict ? { maxContext: 0 } : {}),
      },
    };
    const guardMs = options.timeoutMs ?? Math.max(MIN_GUARD_MS, durationSec * GUARD_MS_PER_AUDIO_SEC);
    const result = await runChild(bindingPath(), JSON.stringify(request), options.signal, guardMs);
    if (result.isAborted) throw new AppError('JOB_CANCELLED');
    const segments = toSegments(result.segments, durationSec);
    for (const segment of segments) options.onSegment?.(segment);
    return segments;
  }
}

function bindingPath(): string {
  try {
    return require.resolve('@fugood/whisper.node');
  } catch (error) {
    throw new AppError(
      'ENGINE_UNAVAILABLE',
      'The whisper.cpp binding (@fugood/whisper.node) is not installed.',
      {
        cause: error,
      },
    );
  }
}

function runChild(
  binding: string,
  request: string,
  signal: AbortSignal,
  guardMs: number,
): Promise<WhisperResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD_SOURCE, binding, request], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let answer: ChildAnswer | undefined;
    let settled = false;
    const finish = (error: AppError | null, result?: WhisperResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (error) reject(error);
      else resolve(result as WhisperResult);
    };
    const onAbort = () => finish(new AppError('JOB_CANCELLED'));
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () =>
        finish(
          new AppError('TRANSCRIPTION_ENGINE_FAILED', `whisper.cpp did not finish within ${guardMs} ms.`),
        ),
      guardMs,
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL_BYTES);
    });
    child.on('message', (message: ChildAnswer) => {
      answer = message;
    });
    child.on('error', (error) =>
      finish(
        new AppError('ENGINE_UNAVAILABLE', `whisper.cpp could not start: ${error.message}`, { cause: error }),
      ),
    );
    child.on('exit', (code, exitSignal) => {
      if (answer?.ok) return finish(null, answer.result);
      const why = answer ? answer.message : `exited (${exitSignal ?? code}) without an answer`;
      const log = stderr.trim().split('\n').slice(-3).join(' | ');
      finish(
        new AppError('TRANSCRIPTION_ENGINE_FAILED', `whisper.cpp failed: ${why}${log ? ` (${log})` : ''}`),
      );
    });
  });
}
