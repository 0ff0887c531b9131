import type { Job, Problem } from './job.js';
import { CONTRACT_VERSION } from './job.js';
import { JOB_TYPES, type JobType } from './job-kinds.js';
import { JOB_STATUSES, TERMINAL_STATUSES } from './job-status.js';

/**
 * The earlier product's API (its Python service): field names and the error envelope its scripts
 * read. `src/api/routes/legacy-routes.ts` serves it over the v1 routes, behind flag `legacy_api`.
 */
export interface LegacyJob {
  job_id: string;
  /** Lower case, as the earlier API had it. */
  job_type: 'ocr' | 'transcription';
  status: Job['status'];
  stage: string;
  progress: number;
  filename: string;
  subtype: Job['content_subtype'];
  language: string;
  /** The earlier `duration_sec`, which meant two things: here always the measured media duration. */
  duration_sec: number | null;
  processing_duration_sec: number | null;
  page_count: number | null;
  engine: string | null;
  error_code: string | null;
  error_message: string | null;
  error_detail: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  contract_version: string;
  /** format → URL of the v1 download (the earlier API had no equivalent; scripts may follow it). */
  result_urls: Record<string, string>;
}

export interface LegacyError {
  error_code: string;
  error_message: string;
  detail: string;
  path: string;
  request_id: string;
}

export function legacyJobType(type: JobType): LegacyJob['job_type'] {
  return type === 'OCR' ? 'ocr' : 'transcription';
}

/** `ocr` / `OCR` / `transcription` → the v1 job type; anything else is left for v1 to refuse. */
export function v1JobType(value: string): string {
  const upper = value.toUpperCase();
  return (JOB_TYPES as readonly string[]).includes(upper) ? upper : value;
}

export function toLegacyJob(job: Job): LegacyJob {
  return {
    job_id: job.job_id,
    job_type: legacyJobType(job.job_type),
    status: job.status,
    stage: job.stage,
    progress: job.progress,
    filename: job.input_filename,
    subtype: job.content_subtype,
    language: job.language,
    duration_sec: job.media_duration_sec,
    processing_duration_sec: job.processing_duration_sec,
    page_count: job.page_count,
    engine: job.engine,
    error_code: job.error_code,
    error_message: job.error_message,
    error_detail: job.error_message,
    error: job.error_message,
    created_at: job.created_at,
    updated_at: job.updated_at,
    completed_at: job.finished_at,
    contract_version: job.contract_version,
    result_urls: Object.fromEntries(
      Object.keys(job.outputs).map((format) => [format, `/v1/jobs/${job.job_id}/result?format=${format}`]),
    ),
  };
}

export function toLegacyError(problem: Problem, path: string): LegacyError {
  return {
    error_code: problem.error_code,
    error_message: problem.detail,
    detail: problem.title,
    path,
    request_id: problem.request_id,
  };
}

/** `GET /contract/job-status`: what the earlier page read to learn the enums and fields. */
export function legacyContractDocument() {
  return {
    contract_version: CONTRACT_VERSION,
    job_types: JOB_TYPES.map(legacyJobType),
    statuses: JOB_STATUSES,
    terminal_statuses: TERMINAL_STATUSES,
    fields: [
      'job_id',
      'job_type',
      'status',
      'stage',
      'progress',
      'filename',
      'subtype',
      'language',
      'duration_sec',
      'processing_duration_sec',
      'page_count',
      'engine',
      'error_code',
      'error_message',
      'error_detail',
      'error',
      'created_at',
      'updated_at',
      'completed_at',
      'contract_version',
      'result_urls',
    ] satisfies Array<keyof LegacyJob>,
    successor: '/v1/contract',
  };
}
