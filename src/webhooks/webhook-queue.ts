import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { WEBHOOK_EVENT_OF_STATUS, WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../contract/index.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { RedisKeys } from '../jobs/redis-keys.js';
import { errorFields, type Logger } from '../observability/logger.js';
import type { WebhookStore } from './webhook-store.js';

export const WEBHOOK_QUEUE_NAME = 'webhooks';

/** One delivery: ids only; the URL and secret are read when it is sent. */
export const webhookDeliveryPayloadSchema = z.object({
  delivery_id: z.string(),
  owner_id: z.string(),
  job_id: z.string(),
  event_type: z.enum(WEBHOOK_EVENT_TYPES),
  occurred_at: z.string(),
  error_code: z.string().nullable(),
  /** `job`: the job's own callback_url; `user`: the owner's webhook. */
  target: z.enum(['job', 'user']),
  /** Attempts made so far (the worker counts them itself: it schedules retries as delays). */
  attempts: z.number().int().nonnegative().default(0),
});
export type WebhookDeliveryPayload = z.infer<typeof webhookDeliveryPayloadSchema>;

/**
 * The BullMQ queue `webhooks`: a job that reaches a final status gets a delivery per target
 * (its own callback_url, the owner's webhook). Queued in Redis, deliveries survive restarts.
 */
export class WebhookQueue {
  readonly queue: Queue;

  constructor(
    connection: Redis,
    keys: RedisKeys,
    private readonly webhooks: WebhookStore,
    private readonly logger: Logger,
  ) {
    this.queue = new Queue(WEBHOOK_QUEUE_NAME, { connection, prefix: keys.queuePrefix() });
  }

  /**
   * Called where final transitions are written. The delivery id is derived from the job and the
   * time it finished, so announcing the same transition twice makes one delivery, while a job
   * that finishes again after a replay gets a new one.
   */
  async jobFinished(record: JobRecord): Promise<void> {
    const eventType = (WEBHOOK_EVENT_OF_STATUS as Partial<Record<string, WebhookEventType>>)[record.status];
    if (!eventType) return;
    const targets: Array<'job' | 'user'> = [];
    if (record.callback_url) targets.push('job');
    const user = await this.webhooks.signingTarget(record.owner_id);
    if (user?.url) targets.push('user');
    const occurredAt = record.finished_at ?? record.updated_at;
    const stamp = Date.parse(occurredAt);
    for (const target of targets) {
      const payload: WebhookDeliveryPayload = {
        delivery_id: `msg_${record.job_id}_${stamp}_${target}`,
        owner_id: record.owner_id,
        job_id: record.job_id,
        event_type: eventType,
        occurred_at: occurredAt,
        error_code: record.error_code,
        target,
        attempts: 0,
      };
      await this.queue.add('deliver', payload, {
        jobId: payload.delivery_id,
        attempts: 1,
        removeOnComplete: { age: 24 * 3600, count: 1000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      this.logger.info(
        {
          event: 'webhook.enqueued',
          job_id: record.job_id,
          delivery_id: payload.delivery_id,
          event_type: eventType,
          target,
        },
        'webhook delivery queued',
      );
    }
  }

  /**
   * For the store's hook: a failure to queue is logged, never thrown into the transition's caller;
   * it answers false so the job stays in the announcements outbox and the reconciler tries again.
   */
  listener(): (record: JobRecord) => Promise<boolean> {
    return async (record) => {
      try {
        await this.jobFinished(record);
        return true;
      } catch (error) {
        this.logger.error(
          { event: 'webhook.enqueue_failed', job_id: record.job_id, ...errorFields(error) },
          'webhook delivery could not be queued; the reconciler will try again',
        );
        return false;
      }
    };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
