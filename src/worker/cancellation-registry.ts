import type { Redis } from 'ioredis';
import { closeRedis } from '../jobs/shutdown-safe-redis.js';
import type { Logger } from '../observability/logger.js';

/**
 * Knows which running jobs this process holds and stops them when a cancel request is announced
 * on the Redis channel, whichever API replica received it.
 */
export class CancellationRegistry {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, jobId: string) => {
      if (channel !== this.channel) return;
      const controller = this.running.get(jobId);
      if (!controller) return;
      this.logger.info({ event: 'job.cancel_received', job_id: jobId }, 'stopping cancelled job');
      controller.abort(new CancelledSignal());
    });
    await this.subscriber.subscribe(this.channel);
  }

  register(jobId: string): AbortController {
    const controller = new AbortController();
    this.running.set(jobId, controller);
    return controller;
  }

  cancel(jobId: string): void {
    this.running.get(jobId)?.abort(new CancelledSignal());
  }

  /** Stops every running job because this worker is shutting down (they are handed back, not failed). */
  releaseAll(): number {
    for (const controller of this.running.values()) controller.abort(new ShutdownSignal());
    return this.running.size;
  }

  release(jobId: string): void {
    this.running.delete(jobId);
  }

  async stop(): Promise<void> {
    await closeRedis(this.subscriber);
  }
}

/** The abort reason used when a person cancelled the job (as opposed to shutdown). */
export class CancelledSignal extends Error {
  constructor() {
    super('job cancelled');
    this.name = 'CancelledSignal';
  }
}

/** The abort reason used when the worker stops before a job finished: the job goes back to its queue. */
export class ShutdownSignal extends Error {
  constructor() {
    super('worker shutting down');
    this.name = 'ShutdownSignal';
  }
}
