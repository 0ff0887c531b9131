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

/** The parts of `@fugood/whisper.node` 1.1.x used here (its own types ship as .ts sources). */
interface WhisperResult {
  language?: string;
  result: string;
  /** Times in milliseconds. */
  segments: Array<{ text: string; t0: number; t1: number }>;
  isAborted: boolean;
}
interface WhisperContext {
  transcribeFile(
    filePath: string,
    options: Record<string, unknown>,
  ): { stop: () => Promise<void>; promise: Promise<WhisperResult> };
  release(): Promise<void>;
}
interface WhisperBinding {
  initWhisper(options: { filePath: string; useGpu?: boolean }): Promise<WhisperContext>;
}

const GGML_FILE_MAGIC = 0x67676d6c;
/** Smallest vocabulary whisper.cpp knows (English-only models); multilingual ones have 51865+. */
const MIN_VOCAB = 51_864;
/** magic + 11 int32 hyper-parameters. */
const HEADER_BYTES = 48;
/** 16 kHz mono 16-bit PCM. */
const WAV_BYTES_PER_SEC = 32_000;
/**
 * Longest a chunk may take without an explicit timeout: the binding leaves its promise pending
 * forever when whisper.cpp throws inside its worker thread, so every call is bounded.
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
 * whisper.cpp in this process through `@fugood/whisper.node` (prebuilt binaries). The model is
 * loaded once and kept; transcription runs on a libuv worker thread, so the event loop (and
 * BullMQ's lock renewal) keeps running. Multilingual: the job language, or `auto`-detection.
 */
export class WhisperEngine implements SpeechEngine {
  readonly name = 'whisper';
  readonly languages: readonly string[] = ['*'];
  private context: Promise<WhisperContext> | undefined;

  constructor(private readonly settings: WhisperEngineSettings) {}

  async version(): Promise<string> {
    const model = this.settings.modelPath ? path.basename(this.settings.modelPath) : 'no model';
    return `whisper.cpp (@fugood/whisper.node ${bindingVersion()}) ${model}`;
  }

  /** The model file is a ggml whisper model and the binding loads it. */
  async checkReady(): Promise<void> {
    await this.load();
  }

  private load(): Promise<WhisperContext> {
    this.context ??= (async () => {
      await checkWhisperModelFile(this.settings.modelPath);
      const modelPath = this.settings.modelPath as string;
      let binding: WhisperBinding;
      try {
        // require, not import: the package's types are .ts sources TypeScript would compile as ours.
        binding = require('@fugood/whisper.node') as WhisperBinding;
      } catch (error) {
        throw new AppError('ENGINE_UNAVAILABLE', 'The whisper.cpp binding cannot be loaded.', {
          cause: error,
        });
      }
      try {
        return await binding.initWhisper({ filePath: modelPath, useGpu: this.settings.useGpu });
      } catch (error) {
        throw invalidModel(
          `whisper.cpp could not load WHISPER_MODEL (${modelPath}): ${(error as Error).message}`,
          error,
        );
      }
    })();
    // A failed load is tried again next time (the operator may fix the file without a restart).
    this.context.catch(() => {
      this.context = undefined;
    });
    return this.context;
  }

  async transcribe(wavPath: string, options: TranscribeOptions): Promise<Segment[]> {
    if (options.signal.aborted) throw new AppError('JOB_CANCELLED');
    const durationSec = await wavDurationSec(wavPath);
    const context = await this.load();
    const language = twoLetterLanguage(options.language) ?? 'auto';
    const run = context.transcribeFile(wavPath, {
      language,
      maxThreads: this.settings.threads,
      // Deterministic first pass; whisper.cpp raises the temperature itself when a window fails.
      temperature: 0,
      // Strict re-run after runaway repetition: no text carried over from the previous window.
      ...(options.strict ? { maxContext: 0 } : {}),
    });
    const guardMs = options.timeoutMs ?? Math.max(MIN_GUARD_MS, durationSec * GUARD_MS_PER_AUDIO_SEC);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      onAbort = () => {
        void run.stop().catch(() => undefined);
        reject(new AppError('JOB_CANCELLED'));
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => {
        void run.stop().catch(() => undefined);
        reject(
          new AppError('TRANSCRIPTION_ENGINE_FAILED', `whisper.cpp did not finish within ${guardMs} ms.`),
        );
      }, guardMs);
    });
    let result: WhisperResult;
    try {
      result = await Promise.race([run.promise, stopped]);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('TRANSCRIPTION_ENGINE_FAILED', `whisper.cpp failed: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal.removeEventListener('abort', onAbort);
    }
    if (result.isAborted) throw new AppError('JOB_CANCELLED');
    const segments = toSegments(result.segments, durationSec);
    for (const segment of segments) options.onSegment?.(segment);
    return segments;
  }

  /** Frees the model (tests, shutdown). */
  async close(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    if (context === undefined) return;
    const loaded = await context.catch(() => undefined);
    await loaded?.release();
  }
}
