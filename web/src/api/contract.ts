/**
 * The page speaks the server's contract: its types and catalogs come from src/contract, the
 * one module shared by API, worker and web. Only zod-free modules are imported as values, so
 * the bundle carries the catalogs but not the schema library.
 */
import type { Job } from '../../../src/contract/job.js';
import type { JobType } from '../../../src/contract/job-kinds.js';
import type { JobStatus } from '../../../src/contract/job-status.js';

export { ERROR_CATALOG, type ErrorCode, isErrorCode } from '../../../src/contract/error-catalog.js';
export type { Job, Problem } from '../../../src/contract/job.js';
export {
  CONTENT_SUBTYPES,
  type ContentSubtype,
  JOB_TYPES,
  type JobType,
  OUTPUT_FORMATS,
  type OutputFormat,
  SUPPORTED_INPUTS,
  type SupportedInput,
} from '../../../src/contract/job-kinds.js';
export { isTerminal, JOB_STATUSES, type JobStatus } from '../../../src/contract/job-status.js';

/** Optional fields the server is gaining (queue position, ETA); absent from older servers. */
export type WebJob = Job & { queue_position?: number | null; eta_sec?: number | null };

export interface JobCounts {
  by_type: Partial<Record<JobType, number>>;
  by_status: Partial<Record<JobStatus, number>>;
}

/** `GET /v1/jobs`: `counts` only from servers that filter history. */
export interface JobPage {
  items: WebJob[];
  next_cursor: string | null;
  total: number;
  counts?: JobCounts;
}

/** What the history asks for; servers that do not filter yet ignore the extra parameters. */
export interface HistoryQuery {
  jobType: JobType | null;
  statuses: readonly JobStatus[];
  search: string;
}

/** An answer to `POST /v1/jobs`: a repeated Idempotency-Key gives back the same job. */
export interface SubmittedJob {
  job: WebJob;
  reused: boolean;
}
