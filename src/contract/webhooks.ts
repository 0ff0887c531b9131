import { z } from 'zod';
import { ERROR_CODES } from './error-catalog.js';
import { isoTimestamp } from './job.js';
import type { JOB_STATUSES } from './job-status.js';

/** The events a webhook receives: one per job that reaches a final status. */
export const WEBHOOK_EVENT_TYPES = ['job.completed', 'job.failed', 'job.cancelled'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The final status each event announces. */
export const WEBHOOK_EVENT_OF_STATUS = {
  COMPLETED: 'job.completed',
  FAILED: 'job.failed',
  CANCELLED: 'job.cancelled',
} as const satisfies Partial<Record<(typeof JOB_STATUSES)[number], WebhookEventType>>;

/**
 * The body of every delivery (Standard Webhooks shape: `type`, `timestamp`, `data`). It carries
 * no result: receivers fetch that with their own credentials.
 */
export const webhookPayloadSchema = z.object({
  type: z.enum(WEBHOOK_EVENT_TYPES),
  timestamp: isoTimestamp.describe('When the job reached its final status'),
  data: z.object({
    job_id: z.string(),
    status: z.enum(['COMPLETED', 'FAILED', 'CANCELLED']),
    error_code: z.enum(ERROR_CODES as [string, ...string[]]).nullable(),
  }),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

export const putWebhookBodySchema = z.object({
  url: z
    .string()
    .max(2048)
    .nullable()
    .default(null)
    .describe('Where every job.* event of your jobs is POSTed; null keeps only a signing secret'),
  rotate_secret: z
    .boolean()
    .default(false)
    .describe('Replace the signing secret (shown once, in this answer)'),
});

export const webhookSchema = z.object({
  url: z.string().nullable().describe('Null when only a signing secret exists (for per-job callbacks)'),
  created_at: isoTimestamp,
  updated_at: isoTimestamp,
  secret_prefix: z.string().describe('The first characters of the signing secret, to tell secrets apart'),
});
export type Webhook = z.infer<typeof webhookSchema>;

export const savedWebhookSchema = webhookSchema.extend({
  secret: z
    .string()
    .nullable()
    .describe('`whsec_…`: shown only when created or rotated; null when the secret was kept'),
});
export type SavedWebhook = z.infer<typeof savedWebhookSchema>;

export const WEBHOOK_DELIVERY_OUTCOMES = ['delivered', 'failed'] as const;

/** The end of one delivery: every attempt's answer is summed up in the last one. */
export const webhookDeliverySchema = z.object({
  delivery_id: z.string().describe('The `webhook-id` header: the same on every attempt of one delivery'),
  event_type: z.enum(WEBHOOK_EVENT_TYPES),
  job_id: z.string(),
  url: z.string(),
  outcome: z.enum(WEBHOOK_DELIVERY_OUTCOMES),
  attempts: z.number().int().positive(),
  last_status: z
    .number()
    .int()
    .nullable()
    .describe('HTTP status of the last answer; null for a network error'),
  last_error: z.string().nullable(),
  finished_at: isoTimestamp,
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;

export const webhookDeliveryListSchema = z.object({ items: z.array(webhookDeliverySchema) });
