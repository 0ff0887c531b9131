import { z } from 'zod';
import { ERROR_CODES } from './error-catalog.js';
import { CONTENT_SUBTYPES, JOB_TYPES } from './job-kinds.js';
import { OCR_ENGINES } from './ocr-options.js';
import { SPEECH_ENGINES } from './transcription-options.js';

/** `POST /v1/intake/precheck`: what a client knows about a file before uploading it. */
export const precheckRequestSchema = z.object({
  filename: z.string().min(1).max(255),
  size_bytes: z.number().int().nonnegative(),
  mime: z.string().max(200).optional().describe('What the browser or client believes the type is'),
  job_type: z.enum(JOB_TYPES).optional(),
  page_count: z.number().int().positive().optional().describe('Documents: pages, when known'),
  duration_sec: z.number().positive().optional().describe('Recordings: length, when known'),
  content_subtype: z
    .enum(CONTENT_SUBTYPES)
    .optional()
    .describe(
      'The subtype it would be submitted with (picks the engine when OCR_ENGINE_BY_SUBTYPE names one)',
    ),
  engine: z
    .enum([...new Set([...OCR_ENGINES, ...SPEECH_ENGINES])] as [string, ...string[]])
    .optional()
    .describe(
      'The engine the upload would ask for: documents `ocr_engine`, recordings `transcription_engine`; one the server does not offer (GET /v1/config) is a block ENGINE_NOT_OFFERED; absent: the configured one',
    ),
});
export type PrecheckRequest = z.infer<typeof precheckRequestSchema>;

const precheckFindingSchema = z.object({
  code: z.enum(ERROR_CODES as [string, ...string[]]).or(z.string()),
  message: z.string(),
});

export const PRECHECK_DECISIONS = ['allow', 'warn', 'block'] as const;
export const PRECHECK_EFFORTS = ['light', 'medium', 'heavy'] as const;

export const precheckResultSchema = z.object({
  decision: z.enum(PRECHECK_DECISIONS),
  detected: z
    .object({ job_type: z.enum(JOB_TYPES), mime: z.string() })
    .nullable()
    .describe('From the name and the claimed type; the upload itself is judged by its content'),
  blocks: z.array(precheckFindingSchema).describe('Reasons the upload would be refused, with catalog codes'),
  warnings: z.array(precheckFindingSchema),
  estimate: z.object({
    processing_sec: z
      .number()
      .nonnegative()
      .nullable()
      .describe('Processing time once started, when it can be told'),
    queue_waiting: z.number().int().nonnegative().describe('Jobs waiting in the queue it would join'),
    effort: z.enum(PRECHECK_EFFORTS).nullable(),
    cost_band: z
      .enum(['none', 'paid'])
      .describe('none: local engines; paid: a cloud engine is configured for it'),
    engine: z.string(),
    cost: z
      .number()
      .nonnegative()
      .nullable()
      .describe(
        'Estimated price of the job on a paid engine (COST_PER_* × pages or minutes), when it can be told',
      ),
  }),
});
export type PrecheckResult = z.infer<typeof precheckResultSchema>;
