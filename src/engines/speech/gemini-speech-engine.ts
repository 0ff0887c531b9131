import { readFile, stat } from 'node:fs/promises';
import { FinishReason, type GoogleGenAI, Type } from '@google/genai';
import { z } from 'zod';
import { AppError } from '../../contract/index.js';
import { PCM_BYTES_PER_SAMPLE, PCM_SAMPLE_RATE } from '../../media/ffmpeg/measure-wav-energy.js';
import { readWavDataOffset } from '../../media/ffmpeg/read-wav-data-offset.js';
import {
  classifyGeminiError,
  createGeminiClient,
  defaultPromptDir,
  type GeminiClientSettings,
  type GeminiErrorCodes,
  PromptFiles,
} from '../gemini-client.js';
import type { Segment, SpeechEngine, TranscribeOptions } from './speech-engine.js';

export interface GeminiSpeechEngineSettings extends GeminiClientSettings {
  model: string;
  maxOutputTokens: number;
  /** Directory of `<content_subtype>.md` prompts; default: the repository's `prompts/transcription`. */
  promptDir?: string;
}

/**
 * Inline data is limited to 20 MB a request; 16 kHz mono 16-bit WAV is 32 kB/s, 42.7 kB/s in
 * base64: 420 s is ~18 MB with the prompt.
 */
const MAX_CHUNK_SEC = 420;

/** How far a timestamp may run past the clip's end (or back over the previous segment) and still be repaired. */
export const TIMESTAMP_TOLERANCE_SEC = 1;

const SPEECH_ERROR_CODES: GeminiErrorCodes = {
  refusedKey: 'ENGINE_NOT_CONFIGURED',
  serverError: 'ENGINE_UPSTREAM_ERROR',
  unreachable: 'ENGINE_UPSTREAM_ERROR',
};

/** The structured answer asked for (`responseSchema`): segments with times relative to the clip. */
const RESPONSE_SCHEMA = {
  type: Type.OBJECT,
  properties: {
    segments: {
      type: Type.ARRAY,
      items: {
        type: Type.OBJECT,
        properties: {
          start: { type: Type.NUMBER, description: 'seconds from the start of this clip' },
          end: { type: Type.NUMBER, description: 'seconds from the start of this clip' },
          text: { type: Type.STRING },
        },
        required: ['start', 'end', 'text'],
        propertyOrdering: ['start', 'end', 'text'],
      },
    },
  },
  required: ['segments'],
};

const answerSchema = z.object({
  segments: z.array(
    z.object({
      start: z.number().finite(),
      end: z.number().finite(),
      text: z.string(),
    }),
  ),
});

const STRICT_INSTRUCTIONS = [
  '',
  '',
  'A previous transcription of this clip repeated the same words over and over. Transcribe each',
  'utterance once: never repeat a word or phrase more often than the speaker does, and if a passage is',
  'unclear, leave it out instead of guessing.',
].join('\n');

/** Names the job's language in the prompt; `auto` leaves it to the model. */
const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  en: 'English',
  eng: 'English',
  hi: 'Hindi',
  hin: 'Hindi',
  sa: 'Sanskrit',
  san: 'Sanskrit',
  gu: 'Gujarati',
  guj: 'Gujarati',
  mr: 'Marathi',
  mar: 'Marathi',
};

/**
 * Google Gemini through `@google/genai`: each chunk's WAV inline with the prompt of the job's
 * content subtype (`prompts/transcription/<subtype>.md`), temperature 0, and a JSON answer
 * (`responseSchema`) of segments with start/end seconds relative to the chunk, which are checked
 * (see `validateGeminiSegments`). An answer cut at the output token limit (MAX_TOKENS, usually a
 * repetition loop) is asked once more with the strict prompt, then refused with
 * ENGINE_RESPONSE_TRUNCATED. 429 → ENGINE_RATE_LIMITED with Gemini's retry delay, for the job's
 * retry policy (no waiting inside the job).
 */
export class GeminiSpeechEngine implements SpeechEngine {
  readonly name = 'gemini';
  readonly languages: readonly string[] = ['*'];
  readonly maxChunkSec = MAX_CHUNK_SEC;
  private readonly client: GoogleGenAI;
  private readonly prompts: PromptFiles;

  constructor(private readonly settings: GeminiSpeechEngineSettings) {
    this.client = createGeminiClient(settings);
    this.prompts = new PromptFiles(settings.promptDir ?? defaultPromptDir('transcription'));
  }

  async version(): Promise<string> {
    return this.settings.model;
  }

  async transcribe(wavPath: string, options: TranscribeOptions): Promise<Segment[]> {
    if (options.signal.aborted) throw new AppError('JOB_CANCELLED');
    const [bytes, durationSec] = await Promise.all([readFile(wavPath), wavDurationSec(wavPath)]);
    const audio = { inlineData: { mimeType: 'audio/wav', data: bytes.toString('base64') } };
    let strict = options.strict === true;
    let answer = await this.ask(await this.prompt(options, strict, durationSec), audio, options);
    if (answer.truncated && !strict) {
      strict = true;
      answer = await this.ask(await this.prompt(options, strict, durationSec), audio, options);
    }
    if (answer.truncated) {
      throw new AppError(
        'ENGINE_RESPONSE_TRUNCATED',
        `Gemini stopped at its output limit (GEMINI_MAX_OUTPUT_TOKENS=${this.settings.maxOutputTokens}) before the end of a ${durationSec.toFixed(0)} s chunk, twice.`,
        {
          details: {
            engine: 'gemini',
            chunk_sec: Math.round(durationSec),
            max_output_tokens: this.settings.maxOutputTokens,
          },
        },
      );
    }
    if (answer.text.trim() === '' && answer.finishReason && answer.finishReason !== FinishReason.STOP) {
      // SAFETY, RECITATION, PROHIBITED_CONTENT…: the model withheld its answer; saying so beats "not JSON".
      throw new AppError(
        'ENGINE_RESPONSE_INVALID',
        `Gemini gave no answer (finish reason ${answer.finishReason}).`,
        {
          details: { engine: 'gemini', finish_reason: answer.finishReason },
        },
      );
    }
    const segments = validateGeminiSegments(parseAnswer(answer.text), durationSec);
    for (const segment of segments) options.onSegment?.(segment);
    return segments;
  }

  private async prompt(options: TranscribeOptions, strict: boolean, durationSec: number): Promise<string> {
    const prompt = await this.prompts.get(options.contentSubtype ?? 'general');
    const language = LANGUAGE_NAMES[options.language];
    return [
      prompt.trim(),
      '',
      `This clip is ${durationSec.toFixed(2)} seconds long.`,
      language ? `The recording is mostly in ${language}.` : '',
      strict ? STRICT_INSTRUCTIONS : '',
    ]
      .filter((line, i) => i < 2 || line !== '')
      .join('\n');
  }

  private async ask(
    prompt: string,
    audio: { inlineData: { mimeType: string; data: string } },
    options: TranscribeOptions,
  ): Promise<{ text: string; truncated: boolean; finishReason?: string }> {
    try {
      const response = await this.client.models.generateContent({
        model: this.settings.model,
        contents: [{ role: 'user', parts: [{ text: prompt }, audio] }],
        config: {
          temperature: 0,
          maxOutputTokens: this.settings.maxOutputTokens,
          responseMimeType: 'application/json',
          responseSchema: RESPONSE_SCHEMA,
          abortSignal: options.signal,
          ...(options.timeoutMs ? { httpOptions: { timeout: options.timeoutMs } } : {}),
        },
      });
      const finishReason = response.candidates?.[0]?.finishReason;
      return {
        text: response.text ?? '',
        truncated: finishReason === FinishReason.MAX_TOKENS,
        ...(finishReason ? { finishReason } : {}),
      };
    } catch (error) {
      throw classifyGeminiError(error, options.signal, SPEECH_ERROR_CODES);
    }
  }
}

/** Seconds of 16 kHz mono 16-bit samples in a WAV file. */
async function wavDurationSec(wavPath: string): Promise<number> {
  const [offset, info] = await Promise.all([readWavDataOffset(wavPath), stat(wavPath)]);
  if (offset === null)
    throw new AppError('TRANSCRIPTION_ENGINE_FAILED', 'The audio chunk is not a WAV file.');
  return Math.max(0, info.size - offset) / (PCM_SAMPLE_RATE * PCM_BYTES_PER_SAMPLE);
}

function invalid(message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('ENGINE_RESPONSE_INVALID', message, { details: { engine: 'gemini', ...details } });
}

/** The answer's segments; anything but `{ segments: [{ start, end, text }] }` is ENGINE_RESPONSE_INVALID. */
export function parseAnswer(text: string): z.infer<typeof answerSchema>['segments'] {
  let json: unknown;
  try {
    // Models sometimes wrap JSON in a Markdown fence despite the JSON MIME type.
    json = JSON.parse(text.replace(/^\s*```(?:json)?\s*|\s*```\s*$/g, ''));
  } catch (error) {
    throw new AppError('ENGINE_RESPONSE_INVALID', 'Gemini answered with text that is not JSON.', {
      cause: error,
      details: { engine: 'gemini', answer_start: text.slice(0, 80) },
    });
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) {
    throw new AppError('ENGINE_RESPONSE_INVALID', 'Gemini answered JSON without usable segments.', {
      cause: parsed.error,
      details: { engine: 'gemini' },
    });
  }
  return parsed.data.segments;
}

/**
 * Timestamps checked against the clip: small slips are repaired (an end up to
 * TIMESTAMP_TOLERANCE_SEC past the clip is clamped to it; a start up to that much before the
 * previous segment's end moves to that end), anything else (a negative time, an end before its
 * start, a start past the clip, a jump backwards) is ENGINE_RESPONSE_INVALID: times like that come
 * from minutes read as seconds or a clock that restarted, and no repair would be true.
 */
export function validateGeminiSegments(
  raw: ReadonlyArray<{ start: number; end: number; text: string }>,
  durationSec: number,
): Segment[] {
  const segments: Segment[] = [];
  let previousEnd = 0;
  for (const [index, s] of raw.entries()) {
    const text = s.text.trim();
    if (text === '') continue;
    const at = { segment: index, start: s.start, end: s.end, chunk_sec: Number(durationSec.toFixed(3)) };
    if (s.start < 0 || s.end < s.start) throw invalid('Gemini gave a segment with impossible times.', at);
    if (s.start > durationSec + TIMESTAMP_TOLERANCE_SEC || s.end > durationSec + TIMESTAMP_TOLERANCE_SEC) {
      throw invalid('Gemini gave times beyond the end of the audio chunk.', at);
    }
    if (s.start < previousEnd - TIMESTAMP_TOLERANCE_SEC) {
      throw invalid('Gemini gave segment times out of order.', at);
    }
    const start = Math.min(Math.max(s.start, previousEnd), durationSec);
    const end = Math.max(start, Math.min(s.end, durationSec));
    segments.push({ start, end, text });
    previousEnd = end;
  }
  return segments;
}
