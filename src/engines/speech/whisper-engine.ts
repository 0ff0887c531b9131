import { type ChildProcess, spawn } from 'node:child_process';
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
  /** An idle child (model loaded) exits after this long; 60 s when absent. */
  idleExitMs?: number;
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
 * Longest a chunk may take without an explicit timeout (a new child loads the model first).
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
 * The long-lived child: loads the binding, then the model on its first chunk, and transcribes one
 * chunk at a time as requests come over IPC, answering each with the result and its own counters.
 * Plain CommonJS given to `node -e`, so it runs the same from src and dist.
 * - It exits when the IPC channel closes (the worker ended, even by SIGKILL): never an orphan.
 * - While a chunk decodes the channel does not keep it alive: when whisper.cpp throws inside the
 *   binding's worker thread, the binding never settles its promise and nothing else is pending,
 *   so the event loop empties and the child exits without an answer instead of hanging.
 * - After a failed chunk it answers and exits: a context that failed is not trusted again.
 */
const CHILD_SOURCE = `
const [bindingPath, settings] = process.argv.slice(1);
const { modelPath, useGpu } = JSON.parse(settings);
const binding = require(bindingPath);
let context;
let modelLoads = 0;
let chunks = 0;
let busy = false;
process.on('disconnect', () => process.exit(0));
process.on('beforeExit', () => { if (busy) process.exit(70); });
process.on('message', async ({ id, wavPath, options }) => {
  busy = true;
  process.channel.unref();
  try {
    if (!context) {
      context = await binding.initWhisper({ filePath: modelPath, useGpu });
      modelLoads += 1;
    }
    const result = await context.transcribeFile(wavPath, options).promise;
    chunks += 1;
    busy = false;
    process.channel.ref();
    process.send({ id, ok: true, result, modelLoads, chunks });
  } catch (error) {
    busy = false;
    process.channel.ref();
    const message = String((error && error.message) || error);
    process.send({ id, ok: false, message, modelLoads, chunks }, () => process.exit(1));
  }
});
`;
/** Last bytes of the child's stderr (whisper.cpp's log) kept for the error message. */
const STDERR_TAIL_BYTES = 2048;
/** An idle child exits after this long unless the settings say otherwise. */
const DEFAULT_IDLE_EXIT_MS = 60_000;

type ChildAnswer = { id: number; modelLoads: number; chunks: number } & (
  | { ok: true; result: WhisperResult }
  | { ok: false; message: string }
);

/** What the engine tells about one of its children (tests and diagnostics). */
export interface WhisperChildInfo {
  pid: number;
  /** Times this child loaded the model: 1 once it has run a chunk. */
  modelLoads: number;
  /** Chunks it finished. */
  chunks: number;
  busy: boolean;
}

/** One long-lived `node -e` child holding a loaded model; runs one chunk at a time. */
class WhisperChild {
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  busy = false;
  private retired = false;
  modelLoads = 0;
  chunks = 0;
  private stderr = '';
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private current: { id: number; settle: (answer: ChildAnswer | Error) => void } | undefined;

  constructor(
    binding: string,
    settings: { modelPath: string | undefined; useGpu: boolean },
    private readonly idleExitMs: number,
    private readonly onGone: (child: WhisperChild) => void,
  ) {
    this.process = spawn(process.execPath, ['-e', CHILD_SOURCE, binding, JSON.stringify(settings)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    // The worker may exit while a child idles; the child then sees its channel close and exits too.
    this.process.unref();
    this.process.channel?.unref();
    this.process.stderr?.setEncoding('utf8');
    this.process.stderr?.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_TAIL_BYTES);
    });
    (this.process.stderr as { unref?: () => void } | null)?.unref?.();
    this.process.on('message', (answer: ChildAnswer) => {
      this.modelLoads = answer.modelLoads;
      this.chunks = answer.chunks;
      if (this.current?.id === answer.id) this.current.settle(answer);
    });
    this.exited = new Promise((resolve) => {
      this.process.on('error', (error) => {
        this.current?.settle(
          new AppError('ENGINE_UNAVAILABLE', `whisper.cpp could not start: ${error.message}`, {
            cause: error,
          }),
        );
        this.gone();
        resolve();
      });
      this.process.on('exit', (code, signal) => {
        const log = this.stderr.trim().split('\n').slice(-3).join(' | ');
        this.current?.settle(
          new AppError(
            'TRANSCRIPTION_ENGINE_FAILED',
            `whisper.cpp failed: exited (${signal ?? code}) without an answer${log ? ` (${log})` : ''}`,
          ),
        );
        this.gone();
        resolve();
      });
    });
  }

  /** Running and not being killed. */
  get alive(): boolean {
    return !this.retired && this.process.exitCode === null && this.process.signalCode === null;
  }

  info(): WhisperChildInfo {
    return { pid: this.process.pid ?? 0, modelLoads: this.modelLoads, chunks: this.chunks, busy: this.busy };
  }

  /**
   * Runs one chunk. Abort and the guard kill the child at once (the binding cannot interrupt a
   * decode); the engine starts a new one for the next chunk.
   */
  run(wavPath: string, options: object, signal: AbortSignal, guardMs: number): Promise<WhisperResult> {
    clearTimeout(this.idleTimer);
    this.busy = true;
    const id = this.nextId++;
    return new Promise<WhisperResult>((resolve, reject) => {
      const settle = (answer: ChildAnswer | Error) => {
        if (this.current?.id !== id) return;
        this.current = undefined;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (answer instanceof Error) {
          this.kill();
          return reject(answer);
        }
        if (!answer.ok) {
          // The child exits by itself after a failure; make sure of it.
          this.kill();
          const log = this.stderr.trim().split('\n').slice(-3).join(' | ');
          return reject(
            new AppError(
              'TRANSCRIPTION_ENGINE_FAILED',
              `whisper.cpp failed: ${answer.message}${log ? ` (${log})` : ''}`,
            ),
          );
        }
        this.busy = false;
        this.idleTimer = setTimeout(() => this.kill(), this.idleExitMs);
        this.idleTimer.unref();
        resolve(answer.result);
      };
      const onAbort = () => settle(new AppError('JOB_CANCELLED'));
      const timer = setTimeout(
        () =>
          settle(
            new AppError('TRANSCRIPTION_ENGINE_FAILED', `whisper.cpp did not finish within ${guardMs} ms.`),
          ),
        guardMs,
      );
      this.current = { id, settle };
      signal.addEventListener('abort', onAbort, { once: true });
      this.process.send({ id, wavPath, options }, (error) => {
        if (error) {
          settle(
            new AppError('TRANSCRIPTION_ENGINE_FAILED', `whisper.cpp is unreachable: ${error.message}`, {
              cause: error,
            }),
          );
        }
      });
    });
  }

  /** SIGKILL, at once: it holds nothing that needs a graceful end. */
  kill(): void {
    clearTimeout(this.idleTimer);
    const running = this.process.exitCode === null && this.process.signalCode === null;
    this.gone();
    if (running) this.process.kill('SIGKILL');
  }

  private gone(): void {
    this.retired = true;
    this.onGone(this);
  }
}

/**
 * whisper.cpp through `@fugood/whisper.node` (prebuilt binaries) in long-lived child processes:
 * each child loads the model once and transcribes chunk after chunk (of any job) sent over IPC,
 * one at a time; chunks in flight at once get a child each (a small pool, at most as many as
 * chunks ever run together), and an idle child exits after `idleExitMs`. The event loop (and
 * BullMQ's lock renewal) never waits on a decode; cancel and timeout kill the chunk's child at
 * once (the binding itself cannot interrupt a decode) and the next chunk starts a new one; a crash
 * or hang in native code fails the chunk instead of the worker. Multilingual: the job language, or
 * `auto`-detection.
 */
export class WhisperEngine implements SpeechEngine {
  readonly name = 'whisper';
  readonly languages: readonly string[] = ['*'];
  private readonly children = new Set<WhisperChild>();
  private readonly idle: WhisperChild[] = [];

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

  /** The children running now, idle or busy. */
  processes(): WhisperChildInfo[] {
    return [...this.children].map((child) => child.info());
  }

  /** Ends every child (the worker is shutting down); a later chunk would start a new one. */
  async close(): Promise<void> {
    const all = [...this.children];
    for (const child of all) child.kill();
    await Promise.all(all.map((child) => child.exited));
  }

  async transcribe(wavPath: string, options: TranscribeOptions): Promise<Segment[]> {
    if (options.signal.aborted) throw new AppError('JOB_CANCELLED');
    const durationSec = await wavDurationSec(wavPath);
    await checkWhisperModelFile(this.settings.modelPath);
    const request = {
      language: twoLetterLanguage(options.language) ?? 'auto',
      maxThreads: this.settings.threads,
      // Deterministic first pass; whisper.cpp raises the temperature itself when a window fails.
      temperature: 0,
      // Strict re-run after runaway repetition: no text carried over from the previous window.
      ...(options.strict ? { maxContext: 0 } : {}),
    };
    const guardMs = options.timeoutMs ?? Math.max(MIN_GUARD_MS, durationSec * GUARD_MS_PER_AUDIO_SEC);
    // Cancelled while the file was being checked: an abort listener added now would never fire.
    if (options.signal.aborted) throw new AppError('JOB_CANCELLED');
    const child = this.acquire();
    const result = await child.run(wavPath, request, options.signal, guardMs);
    this.release(child);
    if (result.isAborted) throw new AppError('JOB_CANCELLED');
    const segments = toSegments(result.segments, durationSec);
    for (const segment of segments) options.onSegment?.(segment);
    return segments;
  }

  /** An idle child with the model loaded, else a new one. */
  private acquire(): WhisperChild {
    for (let child = this.idle.pop(); child; child = this.idle.pop()) {
      if (child.alive && !child.busy) return child;
    }
    const child = new WhisperChild(
      bindingPath(),
      { modelPath: this.settings.modelPath, useGpu: this.settings.useGpu },
      this.settings.idleExitMs ?? DEFAULT_IDLE_EXIT_MS,
      (gone) => this.forget(gone),
    );
    this.children.add(child);
    return child;
  }

  private release(child: WhisperChild): void {
    if (child.alive && !child.busy && this.children.has(child)) this.idle.push(child);
  }

  private forget(child: WhisperChild): void {
    this.children.delete(child);
    const at = this.idle.indexOf(child);
    if (at >= 0) this.idle.splice(at, 1);
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
