import type { ApiClient } from './api-client.js';
import { failureOf } from './api-failure.js';
import { isTerminal, type WebJob } from './contract.js';
import { nextPollDelay, POLL_MAX_FAILED_ROUNDS, POLL_MIN_MS, type PollOutcome } from './poll-backoff.js';

export interface JobPollerEvents {
  onJob(job: WebJob): void;
  onDeleted(jobId: string): void;
  /** Polling gave up after repeated failures; `start()` again to resume. */
  onGaveUp(): void;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const browserTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The fallback when the event stream is not available: one loop (not one timer per job) that
 * asks for each unfinished job with its last ETag, so unchanged jobs cost an empty 304.
 */
export class JobPoller {
  private readonly etags = new Map<string, string | null>();
  private handle: unknown = null;
  private delayMs = POLL_MIN_MS;
  private failedRounds = 0;
  private running = false;
  private polling = false;

  constructor(
    private readonly api: Pick<ApiClient, 'getJob'>,
    private readonly events: JobPollerEvents,
    private readonly timers: Timers = browserTimers,
  ) {}

  /** Follows a job until it finishes, is deleted, or `unwatch` is called. */
  watch(job: WebJob): void {
    if (isTerminal(job.status)) return;
    if (!this.etags.has(job.job_id)) this.etags.set(job.job_id, null);
    if (this.running && this.handle === null && !this.polling) this.schedule(POLL_MIN_MS);
  }

  unwatch(jobId: string): void {
    this.etags.delete(jobId);
  }

  get watchedIds(): string[] {
    return [...this.etags.keys()];
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
    this.failedRounds = 0;
    this.delayMs = POLL_MIN_MS;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
  }

  private schedule(ms: number): void {
    if (!this.running || this.etags.size === 0) return;
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = this.timers.setTimeout(() => {
      this.handle = null;
      void this.round();
    }, ms);
  }

  /** One pass over every watched job; public so tests can drive it without timers. */
  async round(): Promise<PollOutcome> {
    this.polling = true;
    let outcome: PollOutcome = 'unchanged';
    let failures = 0;
    const ids = [...this.etags.keys()];
    for (const jobId of ids) {
      try {
        const read = await this.api.getJob(jobId, this.etags.get(jobId) ?? null);
        if (read.kind === 'not-modified') continue;
        outcome = 'changed';
        this.events.onJob(read.job);
        if (isTerminal(read.job.status)) this.etags.delete(jobId);
        else if (this.etags.has(jobId)) this.etags.set(jobId, read.etag);
      } catch (error) {
        const failure = failureOf(error);
        // A job that is gone stays gone: never ask for it again.
        if (failure.kind === 'problem' && failure.status === 404) {
          this.etags.delete(jobId);
          this.events.onDeleted(jobId);
          outcome = 'changed';
        } else {
          failures += 1;
        }
      }
    }
    this.polling = false;
    if (failures > 0 && failures === ids.length) outcome = 'failed';
    this.failedRounds = outcome === 'failed' ? this.failedRounds + 1 : 0;
    if (this.failedRounds >= POLL_MAX_FAILED_ROUNDS) {
      this.stop();
      this.events.onGaveUp();
      return outcome;
    }
    this.delayMs = nextPollDelay(this.delayMs, outcome);
    this.schedule(this.delayMs);
    return outcome;
  }
}
