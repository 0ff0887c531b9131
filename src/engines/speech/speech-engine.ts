/** One recognised word; times in seconds from the start of the audio the engine was given. */
export interface Word {
  start: number;
  end: number;
  text: string;
  /** 0–1, when the engine gives one. */
  confidence?: number;
}

/** One stretch of recognised speech; times in seconds from the start of the audio. */
export interface Segment {
  start: number;
  end: number;
  text: string;
  /** 0–1, when the engine gives one. */
  confidence?: number;
  /** Word timings, when the engine gives them (pocketsphinx `-time yes`, OpenAI word granularity). */
  words?: Word[];
}

export interface TranscribeOptions {
  /** Job language (ISO 639-1 such as `en`, or 639-2 such as `eng`); `auto` lets the engine detect it. */
  language: string;
  /** Aborting stops the engine's process or request at once. */
  signal: AbortSignal;
  /** Called as each segment is finished, in time order, before `transcribe` resolves. */
  onSegment?: (segment: Segment) => void;
  timeoutMs?: number;
  /** `general`, `pravachan`, `shanka_samadhan`, …: selects the prompt of engines that take one. */
  contentSubtype?: string;
  /**
   * Second attempt after runaway repetition: engines decode more conservatively (no carried-over
   * context, a stricter prompt, a higher repetition penalty) where they have such settings.
   */
  strict?: boolean;
}

/** A speech-to-text engine that reads a 16 kHz mono 16-bit PCM WAV file. */
export interface SpeechEngine {
  readonly name: string;
  /** Languages the engine's model knows (ISO 639-1); `['*']` for a multilingual engine. */
  readonly languages: readonly string[];
  /** Longest audio one call accepts (request size limits of cloud APIs); chunks are cut shorter. */
  readonly maxChunkSec?: number;
  version(): Promise<string>;
  /** Resolves when the engine can work (model loadable, key configured); throws a catalog error otherwise. */
  checkReady?(): Promise<void>;
  transcribe(wavPath: string, options: TranscribeOptions): Promise<Segment[]>;
  /** Ends the processes the engine keeps between calls (whisper's children); called at worker shutdown. */
  close?(): Promise<void>;
}
