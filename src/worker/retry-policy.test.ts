import { describe, expect, it } from 'vitest';
import { AppError } from '../contract/index.js';
import { RetryPolicy } from './retry-policy.js';

const config = {
  retries: { transient: 5, rate_limit: 10, timeout: 3, internal: 1 },
  baseDelayMs: 1000,
  rateLimitBaseDelayMs: 30_000,
  maxDelayMs: 60_000,
};

describe('retry policy', () => {
  it('gives each error class its own budget and never retries input errors', () => {
    const policy = new RetryPolicy(config);
    expect(policy.maxAttemptsFor('transient')).toBe(6);
    expect(policy.maxAttemptsFor('rate_limit')).toBe(11);
    expect(policy.maxAttemptsFor('timeout')).toBe(4);
    expect(policy.maxAttemptsFor('internal')).toBe(2);
    expect(policy.maxAttemptsFor('input')).toBe(1);
    expect(policy.maxAttemptsFor('cancelled')).toBe(1);
    expect(policy.decide(new AppError('PDF_ENCRYPTED'), 1)).toMatchObject({
      retry: false,
      errorClass: 'input',
    });
    expect(policy.decide(new AppError('INTERNAL_ERROR'), 1)).toMatchObject({ retry: true, nextAttempt: 2 });
    expect(policy.decide(new AppError('INTERNAL_ERROR'), 2)).toMatchObject({ retry: false, maxAttempts: 2 });
    expect(policy.decide(new AppError('ENGINE_UNAVAILABLE'), 5)).toMatchObject({
      retry: true,
      maxAttempts: 6,
    });
    expect(policy.decide(new AppError('ENGINE_UNAVAILABLE'), 6)).toMatchObject({ retry: false });
    expect(policy.longestBudget()).toBe(11);
  });

  it('draws full-jitter delays within [0, min(cap, base × 2^(n−1))]', () => {
    for (const random of [() => 0, () => 0.5, () => 0.999_999]) {
      const policy = new RetryPolicy(config, random);
      for (let attempt = 1; attempt <= 10; attempt++) {
        const high = Math.min(60_000, 1000 * 2 ** (attempt - 1));
        expect(policy.boundsFor('transient', attempt)).toEqual({ low: 0, high });
        const delay = policy.delayFor('transient', attempt);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(high);
      }
    }
    expect(new RetryPolicy(config, () => 1).delayFor('transient', 3)).toBe(4000);
    expect(new RetryPolicy(config, () => 0).delayFor('transient', 3)).toBe(0);
  });

  it('spreads delays over the whole jitter range', () => {
    const policy = new RetryPolicy(config);
    const delays = Array.from({ length: 2000 }, () => policy.delayFor('transient', 4));
    expect(Math.min(...delays)).toBeLessThan(800);
    expect(Math.max(...delays)).toBeGreaterThan(7200);
    expect(Math.max(...delays)).toBeLessThanOrEqual(8000);
  });

  it('uses the longer base for rate limits and honours a provider retry-after, capped', () => {
    const policy = new RetryPolicy(config, () => 0);
    expect(policy.boundsFor('rate_limit', 1)).toEqual({ low: 0, high: 30_000 });
    expect(policy.boundsFor('rate_limit', 2)).toEqual({ low: 0, high: 60_000 });
    const limited = new AppError('ENGINE_RATE_LIMITED', undefined, { details: { retry_after_ms: 45_000 } });
    const decision = policy.decide(limited, 1);
    expect(decision).toMatchObject({ retry: true, delayMs: 45_000, errorClass: 'rate_limit' });
    const inSeconds = new AppError('ENGINE_RATE_LIMITED', undefined, { details: { retry_after_sec: 600 } });
    expect(policy.decide(inSeconds, 1)).toMatchObject({ retry: true, delayMs: 60_000 });
  });
});
