import { z } from 'zod';
import { ERROR_CODES } from './error-catalog.js';
import { CONTENT_SUBTYPES, JOB_TYPES, OUTPUT_FORMATS } from './job-kinds.js';
import { JOB_STATUSES } from './job-status.js';

/** Bumped only by a rename or a removal; additions are optional fields. */
export const CONTRACT_VERSION = '1';

const isoTimestamp = z.iso.datetime({ offset: false }).describe('ISO-8601 UTC timestamp ending in Z');

export const jobQualitySchema = z.object({
  score: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .describe('Mean engine confidence, 0–1, when the engine gives one'),
  low_confidence_pages: z.array(z.number().int().positive()).optional(),
  low_confidence_segments: z
    .array(
      z.object({
        start_sec: z.number().nonnegative(),
        end_sec: z.number().nonnegative(),
        score: z.number().min(0).max(1),
        reasons: z
          .array(z.string())
          .describe('engine_confidence, repetition, speech_rate, script_mismatch, empty_output'),
      }),
    )
    .optional()
    .describe('Transcription: passages to listen to again, with why they may be wrong'),
  hints: z.array(z.string()).optional(),
});

export const jobSchema = z.object({
  contract_version: z.literal(CONTRACT_VERSION),
  job_id: z.string(),
  job_type: z.enum(JOB_TYPES),
  content_subtype: z.enum(CONTENT_SUBTYPES),
  status: z.enum(JOB_STATUSES),
  stage: z.string().describe('What the job is doing now, in words'),
  progress: z.number().int().min(0).max(100),
  request_id: z.string(),
  input_filename: z.string(),
  input_size_bytes: z.number().int().nonnegative(),
  input_mime: z.string(),
  language: z.string(),
  page_count: z.number().int().nonnegative().nullable().describe('OCR: pages in the document'),
  media_duration_sec: z
    .number()
    .nonnegative()
    .nullable()
    .describe('Transcription: duration of the recording as measured by the server'),
  processing_duration_sec: z.number().nonnegative().nullable().describe('Wall time spent processing'),
  engine: z.string().nullable().describe('Engine and version that produced the result'),
  outputs: z
    .partialRecord(z.enum(OUTPUT_FORMATS), z.number().int().nonnegative())
    .describe('format → size in bytes'),
  quality: jobQualitySchema.nullable(),
  error_code: z.enum(ERROR_CODES as [string, ...string[]]).nullable(),
  error_message: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  retry_of_job_id: z.string().nullable(),
  cancel_requested: z.boolean(),
  created_at: isoTimestamp,
  started_at: isoTimestamp.nullable(),
  finished_at: isoTimestamp.nullable(),
  updated_at: isoTimestamp,
});
export type Job = z.infer<typeof jobSchema>;
export type JobQuality = z.infer<typeof jobQualitySchema>;

export const jobListSchema = z.object({
  items: z.array(jobSchema),
  next_cursor: z.string().nullable(),
  total: z.number().int().nonnegative(),
});
export type JobList = z.infer<typeof jobListSchema>;

/** Fields a client may send with `POST /v1/jobs` (multipart fields next to `file`). */
export const submitJobFieldsSchema = z.object({
  job_type: z.enum(JOB_TYPES).optional(),
  content_subtype: z.enum(CONTENT_SUBTYPES).default('general'),
  language: z
    .string()
    .regex(
      /^[a-z]{3}(\+[a-z]{3})*$|^[a-z]{2}$/,
      'a tesseract language list like hin+eng, or an ISO 639-1 code',
    )
    .optional(),
});
export type SubmitJobFields = z.infer<typeof submitJobFieldsSchema>;

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  error_code: z.enum(ERROR_CODES as [string, ...string[]]),
  request_id: z.string(),
  retryable: z.boolean(),
  message_hi: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;
