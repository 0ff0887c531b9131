/**
 * Live job events, as pushed to clients over Server-Sent Events (`GET /v1/events`,
 * `GET /v1/jobs/:id/events`). Every change of a job is one `job` event carrying the whole job;
 * the SSE `id` is opaque and can be sent back as `Last-Event-ID` to resume.
 */
export const SSE_EVENTS = {
  /** data: the job as `GET /v1/jobs/:id` returns it. */
  job: 'job',
  /** data: `{ "job_id": "…" }`: the job no longer exists. */
  jobDeleted: 'job.deleted',
  /** data: `{ "reason": "…" }`: events were missed beyond what can be replayed; reload the list. */
  resync: 'resync',
} as const;

export type JobChangeKind = 'changed' | 'deleted';

/** What the store announces on the events channel for every change (one per atomic write). */
export interface JobChangeNotice {
  owner: string;
  job_id: string;
  /** Id of the entry in the owner's event stream; increases with every change. */
  event_id: string;
  kind: JobChangeKind;
}
