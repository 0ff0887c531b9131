import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetryConfig } from '../../src/config/index.js';
import { AppError } from '../../src/contract/index.js';
import type { Pipeline } from '../../src/pipelines/pipeline.js';
import { RetryPolicy } from '../../src/worker/retry-policy.js';
import { startWorkerHarness, type WorkerHarness } from '../helpers/worker-harness.js';

// The real worker on real Redis with a pipeline standing in for an engine that fails transiently
// FAILURES times, then succeeds. The schedule is checked on what the worker recorded (each failed
// attempt's time and the retry time it scheduled), against the bounds the policy computes.
const FAILURES = 4;
const JOBS = 20;
const RETRY: RetryConfig = {
  retries: { transient: 5, rate_limit: 2, timeout: 1, internal: 1 },
  baseDelayMs: 100,
  rateLimitBaseDelayMs: 200,
  maxDelayMs: 600,
};
const startedAt = new Map<string, number[]>();

const flakyPipeline: Pipeline = async (input) => {
  const starts = startedAt.get(input.jobId) ?? [];
  starts.push(Date.now());
  startedAt.set(input.jobId, starts);
  if (starts.length <= FAILURES) throw new AppError('ENGINE_UNAVAILABLE', 'engine busy');
  return { outputs: { txt: `done ${input.jobId}` }, engine: 'flaky 1', quality: null };
};

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness('backoff', flakyPipeline, RETRY);
  await harness.startWorker();
});
afterAll(async () => {
  await harness?.close();
});

describe('the retry schedule of a transiently failing engine', () => {
  it('follows exponential backoff with full jitter and a cap, as recorded in the attempt history', async () => {
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) ids.push(await harness.createJob());
    const policy = new RetryPolicy(RETRY);
    const delaysByAttempt = new Map<number, number[]>();

    for (const jobId of ids) {
      const record = await harness.waitForStatus(jobId, ['COMPLETED', 'FAILED'], 30_000);
      expect(record).toMatchObject({ status: 'COMPLETED', attempts: FAILURES + 1 });
      expect(record.next_attempt_at ?? null).toBeNull();
      const history = await harness.deadLetters.attemptsOf(jobId);
      expect(history.map((h) => [h.kind, h.attempt, h.error_code])).toEqual(
        Array.from({ length: FAILURES }, (_, i) => ['failed', i + 1, 'ENGINE_UNAVAILABLE']),
      );
      const starts = startedAt.get(jobId) ?? [];
      expect(starts).toHaveLength(FAILURES + 1);
      for (const entry of history) {
        // The delay drawn for attempt n lies in [0, min(max, base × 2^(n−1))].
        const delay = Date.parse(entry.next_attempt_at ?? '') - Date.parse(entry.at);
        const { low, high } = policy.boundsFor('transient', entry.attempt);
        expect(delay).toBeGreaterThanOrEqual(low);
        expect(delay).toBeLessThanOrEqual(high);
        delaysByAttempt.set(entry.attempt, [...(delaysByAttempt.get(entry.attempt) ?? []), delay]);
        // The next attempt did not start before its scheduled time.
        expect(starts[entry.attempt] ?? 0).toBeGreaterThanOrEqual(Date.parse(entry.next_attempt_at ?? ''));
      }
      // The worker logged the same delays it recorded.
      const logged = harness.logs
        .filter((l) => l.event === 'job.retry_scheduled' && l.job_id === jobId)
        .map((l) => l.delay_ms);
      expect(logged).toEqual(history.map((h) => Date.parse(h.next_attempt_at ?? '') - Date.parse(h.at)));
    }

    // Full jitter: the delays of one attempt spread over their whole interval (20 draws each), and
    // the interval doubles per attempt until the cap (attempt 4: 100 × 2³ = 800 → 600).
    for (const [attempt, delays] of delaysByAttempt) {
      const { high } = policy.boundsFor('transient', attempt);
      expect(delays).toHaveLength(JOBS);
      expect(Math.min(...delays)).toBeLessThan(high / 2);
      expect(Math.max(...delays)).toBeGreaterThan(high / 2);
    }
    expect(policy.boundsFor('transient', 4).high).toBe(600);
    expect(Math.max(...(delaysByAttempt.get(3) ?? []))).toBeGreaterThan(
      policy.boundsFor('transient', 1).high,
    );
  });
});
