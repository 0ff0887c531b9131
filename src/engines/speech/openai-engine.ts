import { createReadStream } from 'node:fs';
import OpenAI from 'openai';
import { z } from 'zod';
import { AppError } from '../../contract/index.js';
import { twoLetterLanguage } from './language-codes.js';
import type { Segment, SpeechEngine, TranscribeOptions } from './speech-engine.js';

export interface OpenAiEngineSettings {
  /** `https://api.openai.com/v1`, or any server speaking the same API (Groq, speaches, whisper.cpp). */
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
}

/** The parts of a `verbose_json` transcription we rely on; anything else is ignored. */
const verboseTranscriptionSchema = z.object({
  text: z.string(),
  language: z.string().optional(),
  segments: z
    .array(
      z.object({
        start: z.number().nonnegative(),
        end: z.number().nonnegative(),
        text: z.string(),
        avg_logprob: z.number().optional(),
        no_speech_prob: z.number().optional(),
      }),
    )
    .optional(),
});

/**
 * Sent only on a strict re-run. `max_context=0` is whisper.cpp server's own field (its
 * `--max-context`): whisper no longer conditions each 30-s window on the text of the previous one,
 * which is how one invented phrase turns into a loop (the whisper engine's `maxContext: 0`).
 * OpenAI's API has no such setting; servers that ignore unknown fields ignore it, one that refuses
 * it with 400 is asked again without it.
 */
const STRICT_FIELDS: Record<string, string> = { max_context: '0' };

/** 16 kHz mono 16-bit WAV is 32 kB/s: 600 s is ~19 MB, under the API's 25 MB request limit. */
const MAX_CHUNK_SEC = 600;

/**
 * Any OpenAI-compatible `/v1/audio/transcriptions` endpoint through the official SDK, with
 * `verbose_json` segments. The SDK's own retries are off: a 429 or 5xx becomes a typed, retryable
 * catalog error and the job's retry policy decides when to try again.
 */
export class OpenAiSpeechEngine implements SpeechEngine {
  readonly name = 'openai';
  readonly languages: readonly string[] = ['*'];
  readonly maxChunkSec = MAX_CHUNK_SEC;
  private readonly client: OpenAI;

  constructor(private readonly settings: OpenAiEngineSettings) {
    this.client = new OpenAI({
      apiKey: settings.apiKey,
      baseURL: settings.baseUrl,
      maxRetries: 0,
      timeout: settings.timeoutMs,
    });
  }

  async version(): Promise<string> {
    return `${this.settings.model} via ${new URL(this.settings.baseUrl).host}`;
  }

  async transcribe(wavPath: string, options: TranscribeOptions): Promise<Segment[]> {
    if (options.signal.aborted) throw new AppError('JOB_CANCELLED');
    const language = twoLetterLanguage(options.language);
    const request = (extra: Record<string, string>) =>
      this.client.audio.transcriptions.create(
        {
          file: createReadStream(wavPath),
          model: this.settings.model,
          response_format: 'verbose_json',
          timestamp_granularities: ['segment'],
          // Deterministic decoding: the same audio gives the same text on a retry.
          temperature: 0,
          ...(language ? { language } : {}),
          ...extra,
        },
        { signal: options.signal, ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}) },
      );
    let raw: unknown;
    try {
      if (!options.strict) {
        raw = await request({});
      } else {
        // The repetition guard's re-run: no text carried over from one 30-s window to the next.
        raw = await request(STRICT_FIELDS).catch((error: unknown) => {
          // A server that refuses fields it does not know (400) is asked once more without them.
          if (error instanceof OpenAI.BadRequestError && !options.signal.aborted) return request({});
          throw error;
        });
      }
    } catch (error) {
      throw toEngineError(error, options.signal);
    }
    const parsed = verboseTranscriptionSchema.safeParse(raw);
    if (!parsed.success) {
      throw new AppError(
        'ENGINE_RESPONSE_INVALID',
        'The transcription service answered without usable segments.',
        {
          cause: parsed.error,
        },
      );
    }
    const segments: Segment[] = (parsed.data.segments ?? []).map((s) => ({
      start: s.start,
      end: Math.max(s.start, s.end),
      text: s.text.trim(),
      // Mean token log-probability → 0–1; whisper servers report it per segment.
      ...(s.avg_logprob === undefined
        ? {}
        : { confidence: Math.min(1, Math.max(0, Math.exp(s.avg_logprob))) }),
    }));
    if (segments.length === 0 && parsed.data.text.trim()) {
      throw new AppError(
        'ENGINE_RESPONSE_INVALID',
        'The transcription service gave text without timestamps.',
      );
    }
    for (const segment of segments) options.onSegment?.(segment);
    return segments.filter((s) => s.text.length > 0);
  }
}

/** SDK errors by type (never by message) → catalog codes; 429 keeps the server's Retry-After. */
function toEngineError(error: unknown, signal: AbortSignal): AppError {
  if (signal.aborted || error instanceof OpenAI.APIUserAbortError) return new AppError('JOB_CANCELLED');
  if (error instanceof OpenAI.RateLimitError) {
    const retryAfter = Number(error.headers?.get('retry-after'));
    return new AppError('ENGINE_RATE_LIMITED', undefined, {
      cause: error,
      details: Number.isFinite(retryAfter) ? { retry_after_sec: retryAfter } : {},
    });
  }
  if (error instanceof OpenAI.AuthenticationError || error instanceof OpenAI.PermissionDeniedError) {
    return new AppError('ENGINE_NOT_CONFIGURED', 'The transcription service refused the API key.', {
      cause: error,
    });
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError)
    return new AppError('PROCESSING_TIMEOUT', undefined, { cause: error });
  if (error instanceof OpenAI.APIConnectionError || error instanceof OpenAI.InternalServerError) {
    return new AppError('ENGINE_UPSTREAM_ERROR', undefined, { cause: error });
  }
  if (error instanceof OpenAI.APIError) {
    return new AppError(
      'TRANSCRIPTION_ENGINE_FAILED',
      `The transcription service refused the audio (HTTP ${error.status}).`,
      {
        cause: error,
      },
    );
  }
  // The SDK parses JSON itself: a malformed body surfaces as a SyntaxError.
  if (error instanceof SyntaxError)
    return new AppError('ENGINE_RESPONSE_INVALID', undefined, { cause: error });
  return new AppError('ENGINE_UPSTREAM_ERROR', undefined, { cause: error });
}
