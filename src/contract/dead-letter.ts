import { z } from 'zod';
import { ERROR_CLASSES, ERROR_CODES } from './error-catalog.js';
import { isoTimestamp } from './job.js';
import { CONTENT_SUBTYPES, JOB_TYPES } from './job-kinds.js';

const errorCode = z.enum(ERROR_CODES as [string, ...string[]]);

/** One entry of a job's attempt history: a failed attempt, or an operator's replay. */
export const attemptEntrySchema = z.object({
  kind: z.enum(['failed', 'replayed']),
  attempt: z.number().int().nonnegative().describe('The attempt that failed, or attempts so far at a replay'),
  at: isoTimestamp,
  next_attempt_at: isoTimestamp
    .nullable()
    .optional()
    .describe('For a failed attempt that is retried: when the retry was scheduled to start'),
  error_code: errorCode.nullable(),
  error_class: z.enum(ERROR_CLASSES).nullable(),
  error_message: z.string().nullable(),
  stage: z.string().nullable().describe('What the job was doing when the attempt failed'),
  worker_id: z.string().nullable(),
  request_id: z.string().nullable().describe('For a replay: the request that asked for it'),
});
export type AttemptEntry = z.infer<typeof attemptEntrySchema>;

/** A job that ended FAILED, with everything needed to understand and replay it. */
export const deadLetterSchema = z.object({
  job_id: z.string(),
  queue: z.string(),
  error_code: errorCode,
  error_class: z.enum(ERROR_CLASSES),
  error_message: z.string(),
  attempts: z.number().int().nonnegative(),
  failed_stage: z.string().nullable(),
  engine: z.string().nullable(),
  worker_id: z.string().nullable(),
  failed_at: isoTimestamp,
  attempt_history: z.array(attemptEntrySchema),
  request: z.object({
    job_type: z.enum(JOB_TYPES),
    content_subtype: z.enum(CONTENT_SUBTYPES),
    language: z.string(),
    input_filename: z.string(),
    request_id: z.string(),
  }),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

export const deadLetterListSchema = z.object({
  items: z.array(deadLetterSchema),
  next_cursor: z.string().nullable().describe('Opaque; pass as `cursor` for the next page'),
});
export type DeadLetterList = z.infer<typeof deadLetterListSchema>;

export const listDeadLettersQuerySchema = z.object({
  error_code: errorCode.optional(),
  queue: z.string().max(64).optional(),
  since: isoTimestamp.optional().describe('Only dead letters written at or after this time'),
  until: isoTimestamp.optional().describe('Only dead letters written before this time'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListDeadLettersQuery = z.infer<typeof listDeadLettersQuerySchema>;

export const replayDeadLettersBodySchema = z.object({
  job_ids: z.array(z.string().min(1).max(100)).min(1).max(100),
});

export const REPLAY_OUTCOMES = ['replayed', 'already_queued', 'not_found', 'not_failed', 'busy'] as const;
export type ReplayOutcome = (typeof REPLAY_OUTCOMES)[number];

export const replayResultSchema = z.object({
  results: z.array(z.object({ job_id: z.string(), outcome: z.enum(REPLAY_OUTCOMES) })),
});
export type ReplayResult = z.infer<typeof replayResultSchema>;

export const purgeDeadLettersQuerySchema = z.object({
  until: isoTimestamp
    .optional()
    .describe('Purge only dead letters written before this time; all when absent'),
});
export const purgeResultSchema = z.object({ purged: z.number().int().nonnegative() });
