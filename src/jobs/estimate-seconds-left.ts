import type { Job } from '../contract/index.js';

/**
 * Seconds left for a PROCESSING job, from the speed so far (elapsed time per percent), or null
 * while there is too little progress to judge or the job is not running.
 */
export function estimateSecondsLeft(
  job: Pick<Job, 'status' | 'progress' | 'started_at'>,
  now = Date.now(),
): number | null {
  if (job.status !== 'PROCESSING' || !job.started_at || job.progress < 2 || job.progress >= 100) return null;
  const elapsedSec = (now - Date.parse(job.started_at)) / 1000;
  if (!(elapsedSec > 0)) return null;
  return Math.round((elapsedSec * (100 - job.progress)) / job.progress);
}
