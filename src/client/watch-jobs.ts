import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal, type Job, SSE_EVENTS } from '../contract/index.js';
import { ApiError } from './api-error.js';
import type { DocTranscribeClient } from './doc-transcribe-client.js';
import type { ServerSentEvent } from './read-server-sent-events.js';

export interface WatchCallbacks {
  /** Every new state of a watched job, including the last (terminal) one. */
  onJob(job: Job): void;
  /** The job was deleted (by someone else, or the page) while being watched. */
  onGone(jobId: string): void;
}

/** Without any event for this long the watcher reads each pending job once, in case one was missed. */
const QUIET_RECHECK_MS = 60_000;
const POLL_FALLBACK_MS = 2_000;

/**
 * Follows jobs until each is COMPLETED, FAILED, CANCELLED or deleted: one `GET /v1/events` stream
 * for all of them (reconnecting with Last-Event-ID), each job read once per fresh connection so
 * that nothing that changed before the stream opened is missed. Falls back to polling when the
 * server has no event stream.
 */
export async function watchJobs(
  client: DocTranscribeClient,
  jobIds: readonly string[],
  callbacks: WatchCallbacks,
): Promise<void> {
  const pending = new Set(jobIds);
  const seen = (job: Job) => {
    if (!pending.has(job.job_id)) return;
    callbacks.onJob(job);
    if (isTerminal(job.status)) pending.delete(job.job_id);
  };
  const gone = (jobId: string) => {
    if (!pending.delete(jobId)) return;
    callbacks.onGone(jobId);
  };
  const readEach = async () => {
    for (const jobId of [...pending]) {
      try {
        seen(await client.getJob(jobId));
      } catch (error) {
        if (error instanceof ApiError && error.code === 'JOB_NOT_FOUND') gone(jobId);
        else throw error;
      }
    }
  };

  let lastEventId: string | undefined;
  let failures = 0;
  while (pending.size > 0) {
    const controller = new AbortController();
    let stream: AsyncGenerator<ServerSentEvent>;
    try {
      stream = await client.openEvents(controller.signal, lastEventId);
    } catch (error) {
      if (error instanceof ApiError && !error.retryable && !error.isAuthRefusal) {
        await pollUntilDone(readEach, pending);
        return;
      }
      failures += 1;
      if (failures >= 5) throw error;
      await sleep(500 * failures);
      continue;
    }
    failures = 0;
    // Replayed changes cover a reconnect; a fresh stream only shows what changes from now on.
    if (lastEventId === undefined) await readEach();
    if (pending.size === 0) {
      controller.abort();
      break;
    }
    let quietTimer: NodeJS.Timeout | undefined;
    let recheckDue = false;
    const armQuietTimer = () => {
      clearTimeout(quietTimer);
      quietTimer = setTimeout(() => {
        recheckDue = true;
        controller.abort();
      }, QUIET_RECHECK_MS);
    };
    armQuietTimer();
    try {
      for await (const event of stream) {
        armQuietTimer();
        if (event.id) lastEventId = event.id;
        if (event.event === SSE_EVENTS.job) seen(JSON.parse(event.data) as Job);
        else if (event.event === SSE_EVENTS.jobDeleted)
          gone((JSON.parse(event.data) as { job_id: string }).job_id);
        else if (event.event === SSE_EVENTS.resync) await readEach();
        if (pending.size === 0) break;
      }
    } catch (error) {
      if (!controller.signal.aborted) failures += 1;
      if (failures >= 5) throw error;
    } finally {
      clearTimeout(quietTimer);
      controller.abort();
    }
    if (recheckDue && pending.size > 0) await readEach();
  }
}

async function pollUntilDone(readEach: () => Promise<void>, pending: Set<string>): Promise<void> {
  while (pending.size > 0) {
    await readEach();
    if (pending.size > 0) await sleep(POLL_FALLBACK_MS);
  }
}
