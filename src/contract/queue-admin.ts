import { z } from 'zod';
import { ERROR_CODES } from './error-catalog.js';
import { isoTimestamp, queueOverviewSchema } from './job.js';

/** Jobs per minute that ended one way, averaged over a window. */
const perMinute = z.number().nonnegative();

/** One worker process, from its heartbeats. */
export const workerOnlineSchema = z.object({
  worker_id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  concurrency: z.record(z.string(), z.number().int()).describe('Queue name → jobs it runs at once there'),
  last_heartbeat_at: isoTimestamp,
});
export type WorkerOnline = z.infer<typeof workerOnlineSchema>;

/** A queue as operators see it: depths, pause state, caps, recent throughput and its workers. */
export const adminQueueSchema = queueOverviewSchema.extend({
  paused: z.boolean(),
  global_concurrency: z.number().int().positive().nullable().describe('Cap across all workers, or none'),
  per_worker_concurrency: z
    .number()
    .int()
    .positive()
    .nullable()
    .describe('Set at runtime through the admin API; null: each worker uses its configuration'),
  completed_per_minute: z.object({ last_5m: perMinute, last_60m: perMinute }),
  failed_per_minute: z.object({ last_5m: perMinute, last_60m: perMinute }),
  workers: z.array(workerOnlineSchema),
});
export type AdminQueue = z.infer<typeof adminQueueSchema>;
export const adminQueuesSchema = z.object({ queues: z.array(adminQueueSchema) });

export const setConcurrencyBodySchema = z
  .object({
    per_worker: z.number().int().min(1).max(64).optional(),
    global: z.number().int().min(0).max(1000).optional().describe('0 removes the cap'),
  })
  .refine((body) => body.per_worker !== undefined || body.global !== undefined, {
    message: 'give per_worker, global or both',
  });
export type SetConcurrencyBody = z.infer<typeof setConcurrencyBodySchema>;

/** What the operations page shows: everything in one read. */
export const adminOverviewSchema = z.object({
  generated_at: isoTimestamp,
  window_minutes: z.number().int().positive(),
  queues: z.array(adminQueueSchema),
  throughput: z.array(
    z.object({
      minute: isoTimestamp.describe('Start of the UTC minute'),
      queue: z.string(),
      completed: z.number().int().nonnegative(),
      failed: z.number().int().nonnegative(),
    }),
  ),
  failures_by_code: z.array(
    z.object({
      error_code: z.enum(ERROR_CODES as [string, ...string[]]),
      count: z.number().int().positive(),
    }),
  ),
  workers: z.array(workerOnlineSchema),
  dependencies: z.object({
    status: z.enum(['ready', 'not_ready', 'starting']),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
  }),
});
export type AdminOverview = z.infer<typeof adminOverviewSchema>;
