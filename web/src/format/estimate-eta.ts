import type { WebJob } from '../api/contract.js';

/** Below this much progress a rate says little about the rest. */
const MIN_PROGRESS_FOR_ESTIMATE = 5;

/**
 * Seconds until the job is likely done: the server's `eta_sec` when it sends one, otherwise the
 * rate so far (time since start over progress). Null when there is nothing sensible to say.
 */
export function estimateEtaSec(job: WebJob, nowMs: number): number | null {
  if (job.status !== 'PROCESSING') return job.status === 'QUEUED' ? (job.eta_sec ?? null) : null;
  if (typeof job.eta_sec === 'number') return Math.max(0, job.eta_sec);
  if (!job.started_at || job.progress < MIN_PROGRESS_FOR_ESTIMATE || job.progress >= 100) return null;
  const elapsedSec = (nowMs - Date.parse(job.started_at)) / 1000;
  if (!(elapsedSec > 0)) return null;
  return Math.round((elapsedSec / job.progress) * (100 - job.progress));
}
