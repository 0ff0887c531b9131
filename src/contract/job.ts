import { z } from 'zod';
import { ERROR_CODES } from './error-catalog.js';
import { CONTENT_SUBTYPES, JOB_TYPES, OUTPUT_FORMATS } from './job-kinds.js';
import { JOB_STATUSES } from './job-status.js';
import { ocrOptionsSchema, ocrSubmitFieldsShape, pagesBySourceSchema } from './ocr-options.js';
import { transcriptionOptionsSchema, transcriptionSubmitFieldsShape } from './transcription-options.js';

/** Bumped only by a rename or a removal; additions are optional fields. */
export const CONTRACT_VERSION = '1';

export const isoTimestamp = z.iso.datetime({ offset: false }).describe('ISO-8601 UTC timestamp ending in Z');

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
          .describe(
            'engine_confidence, repetition, speech_rate, script_mismatch, empty_output, noise_or_music',
          ),
      }),
    )
    .optional()
    .describe('Transcription: passages to listen to again, with why they may be wrong'),
  hints: z.array(z.string()).optional(),
});

/**
 * Stable codes of what a job carries as warnings: it was accepted and goes on, but something is
 * worth knowing (a name that does not match the content, a price above the warning threshold).
 */
export const JOB_WARNING_CODES = ['COST_HIGH', 'FILE_EXTENSION_DIFFERS'] as const;
export type JobWarningCode = (typeof JOB_WARNING_CODES)[number];

export const jobWarningSchema = z.object({
  code: z.enum(JOB_WARNING_CODES),
  message: z
    .string()
    .describe('In words, naming the figures (the extension and the content, the price and the threshold)'),
});
export type JobWarning = z.infer<typeof jobWarningSchema>;

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
  queue_position: z
    .number()
    .int()
    .positive()
    .nullable()
    .optional()
    .describe('While QUEUED: 1 means the next job its queue will start'),
  eta_sec: z
    .number()
    .nonnegative()
    .nullable()
    .optional()
    .describe('While PROCESSING: estimated seconds left, from the speed so far'),
  next_attempt_at: isoTimestamp
    .nullable()
    .optional()
    .describe('While QUEUED after a failed attempt: when the next attempt may start (retry backoff)'),
  ocr_options: ocrOptionsSchema.optional().describe('OCR: the options this job was submitted with'),
  transcription_options: transcriptionOptionsSchema
    .optional()
    .describe('Transcription: the options this job was submitted with'),
  pages_by_source: pagesBySourceSchema
    .optional()
    .describe('OCR: how many pages came from the PDF text layer, from OCR, or have no text'),
  callback_url: z
    .string()
    .optional()
    .describe('Where job.completed / job.failed / job.cancelled is POSTed for this job (docs/webhooks.md)'),
  warnings: z
    .array(jobWarningSchema)
    .optional()
    .describe('Found at upload or once the worker measured the input; the job went on regardless'),
});
export type Job = z.infer<typeof jobSchema>;
export type JobQuality = z.infer<typeof jobQualitySchema>;

export const historyCountsSchema = z.object({
  by_type: z.record(z.enum(JOB_TYPES), z.number().int().nonnegative()).describe('Jobs of each type'),
  by_status: z
    .record(z.enum(JOB_STATUSES), z.number().int().nonnegative())
    .describe('Jobs in each status, within the job_type filter when one is given'),
});

export const jobListSchema = z.object({
  items: z.array(jobSchema),
  next_cursor: z.string().nullable().describe('Opaque; pass as `cursor` for the next page'),
  total: z
    .number()
    .int()
    .nonnegative()
    .describe('Jobs matching job_type and status (the filename search is not counted)'),
  counts: historyCountsSchema,
});

export const listJobsQuerySchema = z.object({
  job_type: z.enum(JOB_TYPES).optional(),
  status: z
    .string()
    .optional()
    .transform((value) => (value ? value.split(',').map((s) => s.trim()) : []))
    .pipe(z.array(z.enum(JOB_STATUSES)))
    .describe('One status or several separated by commas, e.g. QUEUED,PROCESSING'),
  q: z.string().trim().max(200).optional().describe('Case-insensitive part of the file name'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListJobsQuery = z.infer<typeof listJobsQuerySchema>;

/** `GET /v1/admin/jobs`: every owner's jobs, for administrators. */
export const adminListJobsQuerySchema = z
  .object({
    job_type: listJobsQuerySchema.shape.job_type,
    status: listJobsQuerySchema.shape.status,
    owner: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe("Only this user's jobs: their user id (`owner_id`, `user_id` of GET /v1/session)"),
    cursor: listJobsQuerySchema.shape.cursor,
    limit: listJobsQuerySchema.shape.limit,
  })
  .strict();
export type AdminListJobsQuery = z.infer<typeof adminListJobsQuerySchema>;

export const adminJobSchema = jobSchema.extend({
  owner_id: z.string().describe('The user id of whoever submitted the job'),
});
export type AdminJob = z.infer<typeof adminJobSchema>;

export const adminJobListSchema = jobListSchema.extend({
  items: z.array(adminJobSchema),
  total: z.number().int().nonnegative().describe('Jobs matching job_type, status and owner'),
  counts: historyCountsSchema.describe('Over every owner, or the one `owner` names'),
});
export type AdminJobList = z.infer<typeof adminJobListSchema>;

/** `POST /v1/jobs` answers with the job; `reused` says an Idempotency-Key replayed an earlier submit. */
export const submittedJobSchema = jobSchema.extend({
  reused: z.boolean().describe('true when the same Idempotency-Key and payload returned an existing job'),
});
export type JobList = z.infer<typeof jobListSchema>;

/** Fields a client may send with `POST /v1/jobs` (multipart fields next to `file`). */
export const submitJobFieldsSchema = z.object({
  // Case-insensitive: the earlier API's scripts send `ocr` / `transcription`.
  job_type: z
    .preprocess((value) => (typeof value === 'string' ? value.toUpperCase() : value), z.enum(JOB_TYPES))
    .optional(),
  content_subtype: z.enum(CONTENT_SUBTYPES).default('general'),
  language: z
    .string()
    .regex(
      /^[a-z]{3}(\+[a-z]{3})*$|^[a-z]{2}$/,
      'a tesseract language list like hin+eng, or an ISO 639-1 code',
    )
    .optional(),
  ...ocrSubmitFieldsShape,
  ...transcriptionSubmitFieldsShape,
  callback_url: z
    .string()
    .max(2048)
    .optional()
    .describe('A webhook for this job only, signed with your webhook secret (PUT /v1/webhook)'),
});
export type SubmitJobFields = z.infer<typeof submitJobFieldsSchema>;

/** The submit options that only a document (OCR) or only a recording (transcription) takes. */
export const OCR_ONLY_FIELDS = ['ocr_policy', 'ocr_engine', 'ocr_dpi', 'ocr_psm', 'ocr_batch_pages'] as const;
export const TRANSCRIPTION_ONLY_FIELDS = [
  'transcription_engine',
  'chunk_sec',
  'chunk_overlap_sec',
  'chunks_in_flight',
  'txt_timestamps',
] as const;

/**
 * `POST /v1/jobs/:id/retry` (JSON): what the new job may change; an absent field keeps the
 * original's value. Validated as submit validates the same fields, and refused with
 * VALIDATION_FAILED when it does not apply to the job's type.
 */
export const retryJobBodySchema = z.object({
  content_subtype: z.enum(CONTENT_SUBTYPES).optional(),
  language: submitJobFieldsSchema.shape.language,
  ...ocrSubmitFieldsShape,
  ocr_engine: ocrSubmitFieldsShape.ocr_engine
    .unwrap()
    .nullable()
    .optional()
    .describe('null: back to the configured engine'),
  ...transcriptionSubmitFieldsShape,
  transcription_engine: transcriptionSubmitFieldsShape.transcription_engine
    .unwrap()
    .nullable()
    .optional()
    .describe('null: back to the configured engine'),
  txt_timestamps: z.boolean().optional(),
});
export type RetryJobBody = z.infer<typeof retryJobBodySchema>;

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

export const queueOverviewSchema = z.object({
  name: z.string(),
  job_type: z.enum(JOB_TYPES),
  waiting: z.number().int().nonnegative(),
  active: z.number().int().nonnegative(),
  delayed: z.number().int().nonnegative().describe('Waiting for a retry after a failed attempt'),
  failed: z.number().int().nonnegative(),
  oldest_waiting_age_sec: z.number().nonnegative().nullable(),
});
export type QueueOverview = z.infer<typeof queueOverviewSchema>;
export const queuesOverviewSchema = z.object({ queues: z.array(queueOverviewSchema) });
