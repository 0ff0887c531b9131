import { z } from 'zod';

/** Model names OpenAI clients send; all run on this service's configured speech engine. */
export const OPENAI_TRANSCRIPTION_MODELS = [
  'whisper-1',
  'gpt-4o-transcribe',
  'gpt-4o-mini-transcribe',
] as const;

export const OPENAI_RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const;
export type OpenAiResponseFormat = (typeof OPENAI_RESPONSE_FORMATS)[number];

/**
 * Only `segment`: the stored transcript keeps segment times, not word times, so `word` is refused
 * (400 VALIDATION_FAILED naming the field) rather than answered without `words`.
 */
const WORD_TIMESTAMPS_REFUSED = 'only segment timestamps are offered; word timestamps are not';
const segmentGranularity = z.enum(['segment', 'word']).refine((value) => value === 'segment', {
  message: WORD_TIMESTAMPS_REFUSED,
});
const segmentGranularities = z
  .array(z.enum(['segment', 'word']))
  .refine((values) => !values.includes('word'), { message: WORD_TIMESTAMPS_REFUSED });

/** Multipart fields of `POST /v1/audio/transcriptions`, as OpenAI's API names them. */
export const openAiTranscriptionFieldsSchema = z.object({
  model: z.string().min(1),
  language: z
    .string()
    .regex(/^[a-z]{2}$/, 'an ISO 639-1 code such as en or hi')
    .optional(),
  prompt: z
    .string()
    .max(4096)
    .optional()
    .describe('Accepted for compatibility; the offline engine ignores it'),
  response_format: z.enum(OPENAI_RESPONSE_FORMATS).default('json'),
  temperature: z.coerce.number().min(0).max(1).optional(),
  'timestamp_granularities[]': segmentGranularities.optional(),
  timestamp_granularities: segmentGranularity.optional(),
});
export type OpenAiTranscriptionFields = z.infer<typeof openAiTranscriptionFieldsSchema>;

/** OpenAI's error envelope, used by this route instead of problem+json so its clients understand it. */
export const openAiErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAiError = z.infer<typeof openAiErrorSchema>;

/** Answer when the job outlives OPENAI_COMPAT_WAIT_MS: fetch the result later from the job routes. */
export const openAiPendingSchema = z.object({
  job_id: z.string(),
  status: z.string(),
  status_url: z.string(),
  result_url: z.string(),
});

export const openAiTranscriptionSchema = z.object({ text: z.string() });

export const openAiVerboseTranscriptionSchema = z.object({
  task: z.literal('transcribe'),
  language: z.string(),
  duration: z.number(),
  text: z.string(),
  segments: z.array(
    z.object({
      id: z.number().int(),
      seek: z.number().int(),
      start: z.number(),
      end: z.number(),
      text: z.string(),
      tokens: z.array(z.number().int()),
      temperature: z.number(),
      avg_logprob: z.number(),
      compression_ratio: z.number(),
      no_speech_prob: z.number(),
    }),
  ),
});
