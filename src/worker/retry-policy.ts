import type { RetryConfig } from '../config/index.js';
import { type AppError, ERROR_CATALOG, type ErrorClass } from '../contract/index.js';

export type RetryDecision =
  | { retry: true; delayMs: number; nextAttempt: number; maxAttempts: number; errorClass: ErrorClass }
  | { retry: false; maxAttempts: number; errorClass: ErrorClass };

/**
 * The only place that says whether a failed attempt is tried again and when: a budget of retries
 * per error class, exponential backoff with full jitter and a cap, and a rate limit's retry-after.
 */
export class RetryPolicy {
  constructor(
    private readonly config: RetryConfig,
    private readonly random: () => number = Math.random,
  ) {}

  /** Attempts a job may take in all when its failures are of this class. */
  maxAttemptsFor(errorClass: ErrorClass): number {
    return 1 + this.retriesFor(errorClass);
  }

  /** The largest budget of any class: until then a failed attempt may still be retried. */
  longestBudget(): number {
    return 1 + Math.max(...Object.values(this.config.retries));
  }

  /** `attempt` is the number of the attempt that just failed (1 for the first). */
  decide(error: AppError, attempt: number): RetryDecision {
    const errorClass = ERROR_CATALOG[error.code].errorClass;
    const maxAttempts = this.maxAttemptsFor(errorClass);
    if (attempt >= maxAttempts) return { retry: false, maxAttempts, errorClass };
    return {
      retry: true,
      delayMs: this.delayFor(errorClass, attempt, retryAfterMsOf(error)),
      nextAttempt: attempt + 1,
      maxAttempts,
      errorClass,
    };
  }

  /**
   * Full jitter: a uniform delay in [0, min(cap, base × 2^(attempt−1))]. A provider's retry-after
   * is a floor (never earlier than it asked), still capped.
   */
  delayFor(errorClass: ErrorClass, attempt: number, retryAfterMs?: number): number {
    const { low, high } = this.boundsFor(errorClass, attempt, retryAfterMs);
    return Math.round(low + this.random() * (high - low));
  }

  /** The interval a delay of this attempt lies in (what the tests check against). */
  boundsFor(errorClass: ErrorClass, attempt: number, retryAfterMs?: number): { low: number; high: number } {
    const base = errorClass === 'rate_limit' ? this.config.rateLimitBaseDelayMs : this.config.baseDelayMs;
    const exponential = Math.min(this.config.maxDelayMs, base * 2 ** Math.max(0, attempt - 1));
    if (retryAfterMs === undefined) return { low: 0, high: exponential };
    const floor = Math.min(this.config.maxDelayMs, Math.max(0, retryAfterMs));
    return { low: floor, high: Math.max(floor, exponential) };
  }

  private retriesFor(errorClass: ErrorClass): number {
    switch (errorClass) {
      case 'transient':
      case 'rate_limit':
      case 'timeout':
      case 'internal':
        return this.config.retries[errorClass];
      case 'input':
      case 'cancelled':
        return 0;
    }
  }
}

/** A rate limit's `details.retry_after_ms` (or `retry_after_sec`), when the provider gave one. */
export function retryAfterMsOf(error: AppError): number | undefined {
  const details = error.details;
  if (!details) return undefined;
  const ms = details.retry_after_ms;
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms;
  const sec = details.retry_after_sec;
  if (typeof sec === 'number' && Number.isFinite(sec) && sec >= 0) return sec * 1000;
  return undefined;
}
