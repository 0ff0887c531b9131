import { type Job as BullJob, DelayedError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WebhookConfig } from '../config/index.js';
import type { WebhookDelivery, WebhookPayload } from '../contract/index.js';
import type { JobStore } from '../jobs/job-store.js';
import { errorFields, type Logger } from '../observability/logger.js';
import { watchRedisConnection } from '../observability/watch-redis-connection.js';
import { type SendOutcome, sendWebhook } from '../webhooks/send-webhook.js';
import {
  WEBHOOK_QUEUE_NAME,
  type WebhookDeliveryPayload,
  webhookDeliveryPayloadSchema,
} from '../webhooks/webhook-queue.js';
import { webhookRetryDelay } from '../webhooks/webhook-retry-delay.js';
import type { WebhookStore } from '../webhooks/webhook-store.js';

export interface WebhookWorkerDeps {
  connection: Redis;
  store: JobStore;
  webhooks: WebhookStore;
  config: WebhookConfig;
  logger: Logger;
}

const STATUS_OF_EVENT = {
  'job.completed': 'COMPLETED',
  'job.failed': 'FAILED',
  'job.cancelled': 'CANCELLED',
} as const;

/** The exact bytes signed and sent: the same on every attempt of a delivery. */
export function webhookBody(payload: WebhookDeliveryPayload): string {
  const body: WebhookPayload = {
    type: payload.event_type,
    timestamp: payload.occurred_at,
    data: {
      job_id: payload.job_id,
      status: STATUS_OF_EVENT[payload.event_type],
      error_code: payload.error_code as WebhookPayload['data']['error_code'],
    },
  };
  return JSON.stringify(body);
}

/**
 * Consumes the `webhooks` queue: one signed POST per attempt, retried with backoff (the delivery
 * is moved to delayed, so a restart loses nothing), its end recorded for the owner to see.
 */
export class WebhookWorker {
  private readonly worker: Worker;

  constructor(
    private readonly deps: WebhookWorkerDeps,
    prefix: string,
  ) {
    this.worker = new Worker(WEBHOOK_QUEUE_NAME, (job, token) => this.deliver(job, token), {
      connection: watchRedisConnection(
        deps.connection.duplicate({ maxRetriesPerRequest: null }),
        deps.logger,
        'worker-webhooks',
      ),
      prefix,
      concurrency: deps.config.concurrency,
      autorun: true,
    });
    this.worker.on('error', (error) =>
      deps.logger.error({ event: 'worker.error', queue: WEBHOOK_QUEUE_NAME, ...errorFields(error) }),
    );
  }

  private async deliver(bullJob: BullJob, token?: string): Promise<void> {
    const payload = webhookDeliveryPayloadSchema.parse(bullJob.data);
    const attempt = payload.attempts + 1;
    const log = this.deps.logger.child({
      job_id: payload.job_id,
      delivery_id: payload.delivery_id,
      queue: WEBHOOK_QUEUE_NAME,
      attempt,
    });
    const target = await this.targetOf(payload);
    if (!target) {
      log.info({ event: 'webhook.dropped', target: payload.target }, 'webhook target no longer exists');
      return;
    }
    const outcome: SendOutcome = await sendWebhook({
      url: target.url,
      secret: target.secret,
      deliveryId: payload.delivery_id,
      body: webhookBody(payload),
      timeoutMs: this.deps.config.timeoutMs,
      allowPrivateTargets: this.deps.config.allowPrivateTargets,
    });
    if (outcome.kind === 'delivered') {
      log.info({ event: 'webhook.delivered', status: outcome.status }, 'webhook delivered');
      await this.record(payload, target.url, attempt, 'delivered', outcome.status, null);
      return;
    }
    if (outcome.kind === 'retry' && attempt < this.deps.config.maxAttempts) {
      const delayMs = webhookRetryDelay(attempt, { ...this.deps.config, retryAfterMs: outcome.retryAfterMs });
      log.warn(
        { event: 'webhook.retry_scheduled', status: outcome.status, error: outcome.error, delay_ms: delayMs },
        'webhook attempt failed; retrying later',
      );
      await bullJob.updateData({ ...payload, attempts: attempt });
      await bullJob.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    }
    log.error(
      {
        event: 'webhook.delivery_failed',
        status: outcome.status,
        error: outcome.error,
        gave_up: outcome.kind === 'give_up',
      },
      'webhook delivery failed for good',
    );
    await this.record(payload, target.url, attempt, 'failed', outcome.status, outcome.error);
  }

  /** Read at every attempt: a changed webhook URL or a rotated secret applies to pending deliveries. */
  private async targetOf(payload: WebhookDeliveryPayload): Promise<{ url: string; secret: string } | null> {
    const signing = await this.deps.webhooks.signingTarget(payload.owner_id);
    if (!signing) return null;
    if (payload.target === 'user') return signing.url ? { url: signing.url, secret: signing.secret } : null;
    const record = await this.deps.store.get(payload.job_id);
    return record?.callback_url ? { url: record.callback_url, secret: signing.secret } : null;
  }

  private async record(
    payload: WebhookDeliveryPayload,
    url: string,
    attempts: number,
    outcome: WebhookDelivery['outcome'],
    status: number | null,
    error: string | null,
  ): Promise<void> {
    await this.deps.webhooks.recordDelivery(payload.owner_id, {
      delivery_id: payload.delivery_id,
      event_type: payload.event_type,
      job_id: payload.job_id,
      url,
      outcome,
      attempts,
      last_status: status,
      last_error: error,
      finished_at: new Date().toISOString(),
    });
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
