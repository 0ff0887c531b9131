/**
 * The page speaks the server's contract: its types and catalogs come from src/contract, the
 * one module shared by API, worker and web. Only zod-free modules are imported as values, so
 * the bundle carries the catalogs but not the schema library.
 */
import type { Job, JobList } from '../../../src/contract/job.js';
import type { JobType } from '../../../src/contract/job-kinds.js';
import type { JobStatus } from '../../../src/contract/job-status.js';
import type { OcrEngineName } from '../../../src/contract/ocr-options.js';
import type { SpeechEngineName } from '../../../src/contract/transcription-options.js';

export type { DeadLetter, DeadLetterList } from '../../../src/contract/dead-letter.js';
export { ERROR_CATALOG, type ErrorCode, isErrorCode } from '../../../src/contract/error-catalog.js';
export type { PrecheckRequest, PrecheckResult } from '../../../src/contract/intake-precheck.js';
export type { AdminJob, AdminJobList, Job, Problem } from '../../../src/contract/job.js';
export { SSE_EVENTS } from '../../../src/contract/job-events.js';
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
export type { AdminOverview, WorkerOnline } from '../../../src/contract/queue-admin.js';
export {
  RESUMABLE_UPLOAD_THRESHOLD_BYTES,
  UPLOAD_CHUNK_BYTES,
  UPLOAD_OFFSET_HEADER,
  UPLOAD_PATCH_CONTENT_TYPE,
} from '../../../src/contract/resumable-upload-protocol.js';
export type { AuthConfigView, TokenSet, WhoAmI } from '../../../src/contract/session.js';

/** A job as the page holds it: exactly the contract's. */
export type WebJob = Job;

export interface JobCounts {
  by_type: Partial<Record<JobType, number>>;
  by_status: Partial<Record<JobStatus, number>>;
}

/** `GET /v1/jobs`; `counts` is optional so that a page from an older server still reads. */
export interface JobPage {
  items: WebJob[];
  next_cursor: string | null;
  total: number;
  counts?: JobCounts;
}

type Assignable<T extends U, U> = T;
/** Compile-time check: the contract's list is a JobPage, so the page reads what the server sends. */
export type ContractListIsJobPage = Assignable<JobList, JobPage>;

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

/** OCR engines a job may ask for (`ocr_engine`); ocr-options.ts holds them with zod, kept out of the bundle. */
export const OCR_ENGINES = ['tesseract', 'gemini'] as const satisfies readonly OcrEngineName[];
/** Compile-time check: every engine the server accepts is offered. */
export type ContractEnginesOffered = Assignable<OcrEngineName, (typeof OCR_ENGINES)[number]>;

/** Speech engines a recording may ask for (`transcription_engine`); transcription-options.ts holds them with zod. */
export const SPEECH_ENGINES = [
  'pocketsphinx',
  'whisper',
  'openai',
  'gemini',
] as const satisfies readonly SpeechEngineName[];
/** Compile-time check: every speech engine the server knows is listed. */
export type ContractSpeechEnginesListed = Assignable<SpeechEngineName, (typeof SPEECH_ENGINES)[number]>;
export type { SpeechEngineName };

/** `GET /v1/config`: the public flags and the engines this server offers its jobs. */
export interface ServerConfig {
  flags: Record<string, boolean>;
  /** Absent on an older server: the page then offers only the server's default. */
  engines?: {
    ocr: OcrEngineName[];
    transcription: SpeechEngineName[];
    default_ocr: OcrEngineName;
    default_transcription: SpeechEngineName;
  };
}
