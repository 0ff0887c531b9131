/** One stretch of recognised speech; times in seconds from the start of the audio. */
export interface Segment {
  start: number;
  end: number;
  text: string;
  /** 0–1, when the engine gives one. */
  confidence?: number;
}

export interface TranscribeOptions {
  /** Job language (ISO 639-1 such as `en`, or 639-2 such as `eng`). */
  language: string;
  /** Aborting stops the engine's process at once. */
  signal: AbortSignal;
  /** Called as each segment is finished, in time order, before `transcribe` resolves. */
  onSegment?: (segment: Segment) => void;
  timeoutMs?: number;
}

/** A speech-to-text engine that reads a 16 kHz mono 16-bit PCM WAV file. */
export interface SpeechEngine {
  readonly name: string;
  /** Languages the engine's model knows (ISO 639-1). */
  readonly languages: readonly string[];
  version(): Promise<string>;
  transcribe(wavPath: string, options: TranscribeOptions): Promise<Segment[]>;
}
