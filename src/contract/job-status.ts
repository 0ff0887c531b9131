/** The job state machine: the only place that says which status may follow which. */
export const JOB_STATUSES = ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/**
 * Allowed transitions. `PROCESSING → QUEUED` exists only for a retry scheduled by the worker
 * (or a stalled job handed back to the queue). `FAILED → QUEUED` exists only for an operator's
 * dead-letter replay (`POST /v1/admin/dead-letters/replay`), which every caller must ask for with
 * `onlyFrom: ['FAILED']`; COMPLETED and CANCELLED are final.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  QUEUED: ['PROCESSING', 'CANCELLED', 'FAILED'],
  PROCESSING: ['COMPLETED', 'FAILED', 'CANCELLED', 'QUEUED'],
  COMPLETED: [],
  FAILED: ['QUEUED'],
  CANCELLED: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

/** Every status from which `to` may be reached: what the atomic transition script accepts. */
export function allowedSourcesOf(to: JobStatus): JobStatus[] {
  return JOB_STATUSES.filter((from) => canTransition(from, to));
}
