import { describe, expect, it } from 'vitest';
import { allowedSourcesOf, canTransition, isTerminal, JOB_STATUSES, type JobStatus } from './job-status.js';

const ALLOWED: Array<[JobStatus, JobStatus]> = [
  ['QUEUED', 'PROCESSING'],
  ['QUEUED', 'CANCELLED'],
  ['QUEUED', 'FAILED'],
  ['PROCESSING', 'COMPLETED'],
  ['PROCESSING', 'FAILED'],
  ['PROCESSING', 'CANCELLED'],
  ['PROCESSING', 'QUEUED'],
  ['FAILED', 'QUEUED'],
];

describe('job state machine', () => {
  const allPairs = JOB_STATUSES.flatMap((from) =>
    JOB_STATUSES.map((to) => [from, to] as [JobStatus, JobStatus]),
  );

  it.each(ALLOWED)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each(allPairs.filter(([f, t]) => !ALLOWED.some(([af, at]) => af === f && at === t)))(
    'forbids %s → %s',
    (from, to) => {
      expect(canTransition(from, to)).toBe(false);
    },
  );

  it('treats COMPLETED, FAILED and CANCELLED as final; only a dead-letter replay leaves FAILED', () => {
    for (const status of ['COMPLETED', 'FAILED', 'CANCELLED'] as const) expect(isTerminal(status)).toBe(true);
    expect(JOB_STATUSES.filter((to) => canTransition('COMPLETED', to))).toEqual([]);
    expect(JOB_STATUSES.filter((to) => canTransition('CANCELLED', to))).toEqual([]);
    expect(JOB_STATUSES.filter((to) => canTransition('FAILED', to))).toEqual(['QUEUED']);
    expect(isTerminal('QUEUED')).toBe(false);
    expect(isTerminal('PROCESSING')).toBe(false);
  });

  it('lists the sources the atomic transition accepts for each target', () => {
    expect(allowedSourcesOf('COMPLETED')).toEqual(['PROCESSING']);
    expect(allowedSourcesOf('CANCELLED')).toEqual(['QUEUED', 'PROCESSING']);
    expect(allowedSourcesOf('QUEUED')).toEqual(['PROCESSING', 'FAILED']);
  });
});
