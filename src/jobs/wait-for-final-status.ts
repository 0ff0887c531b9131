import type { JobEventFeed } from './job-event-feed.js';
import type { JobRecord } from './job-record.js';

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * The job once it is COMPLETED, FAILED or CANCELLED, or null when `timeoutMs` passes first (or it
 * was deleted). Woken by the job event feed, not by polling; the record is read after subscribing
 * so a change between submit and subscribe is never missed.
 */
export function waitForFinalStatus(
  feed: JobEventFeed,
  read: () => Promise<JobRecord | null>,
  ownerId: string,
  jobId: string,
  timeoutMs: number,
): Promise<JobRecord | null> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let reading = false;
    let again = false;
    const finish = (record: JobRecord | null, error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      if (error) reject(error);
      else resolve(record);
    };
    const check = () => {
      // One read at a time; a change that arrives meanwhile triggers one more read.
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      read().then(
        (record) => {
          reading = false;
          if (!record) finish(null);
          else if (FINAL.has(record.status)) finish(record);
          else if (again) {
            again = false;
            check();
          }
        },
        (error: unknown) => finish(null, error),
      );
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    const unsubscribe = feed.subscribe(ownerId, (notice) => {
      if (notice.job_id === jobId) check();
    });
    check();
  });
}
