import { CONTRACT_VERSION, type Job, type JobStatus, jobSchema } from '../contract/index.js';

/** A job as stored: the public contract plus fields only the service sees. */
export interface JobRecord extends Job {
  owner_id: string;
  input_key: string;
  input_sha256: string;
  /** Extra engine calls (re-reads, re-runs) the job has made, over all attempts; reset by a replay. */
  extra_work_used?: number | null;
  /**
   * The claim token of the job's current (or last) attempt, set when a worker claims it. Every
   * write of an attempt carries it and is refused once another claim replaced it; a COMPLETED
   * job's outputs are stored under it (`storageKeys.output`).
   */
  claim_token?: string | null;
}

const JSON_FIELDS = new Set([
  'outputs',
  'quality',
  'ocr_options',
  'transcription_options',
  'pages_by_source',
  'warnings',
]);
const NUMBER_FIELDS = new Set([
  'progress',
  'input_size_bytes',
  'page_count',
  'media_duration_sec',
  'processing_duration_sec',
  'attempts',
  'extra_work_used',
]);
const BOOLEAN_FIELDS = new Set(['cancel_requested']);

/** A Redis hash holds strings; this is the one place that turns typed fields into them and back. */
export function encodeFields(fields: Partial<JobRecord>): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    if (JSON_FIELDS.has(name)) encoded[name] = JSON.stringify(value);
    else if (BOOLEAN_FIELDS.has(name)) encoded[name] = value ? '1' : '0';
    else encoded[name] = String(value);
  }
  return encoded;
}

/** Fields to remove from the hash (set to null). */
export function nulledFields(fields: Partial<JobRecord>): string[] {
  return Object.entries(fields)
    .filter(([, value]) => value === null)
    .map(([name]) => name);
}

export function decodeRecord(hash: Record<string, string>): JobRecord {
  const value = (name: string): unknown => {
    const raw = hash[name];
    if (raw === undefined) return null;
    if (JSON_FIELDS.has(name)) return JSON.parse(raw) as unknown;
    if (NUMBER_FIELDS.has(name)) return Number(raw);
    if (BOOLEAN_FIELDS.has(name)) return raw === '1';
    return raw;
  };
  const job = jobSchema.parse({
    contract_version: CONTRACT_VERSION,
    job_id: value('job_id'),
    job_type: value('job_type'),
    content_subtype: value('content_subtype'),
    status: value('status'),
    stage: value('stage') ?? '',
    progress: value('progress') ?? 0,
    request_id: value('request_id'),
    input_filename: value('input_filename'),
    input_size_bytes: value('input_size_bytes'),
    input_mime: value('input_mime'),
    language: value('language'),
    page_count: value('page_count'),
    media_duration_sec: value('media_duration_sec'),
    processing_duration_sec: value('processing_duration_sec'),
    engine: value('engine'),
    outputs: value('outputs') ?? {},
    quality: value('quality'),
    error_code: value('error_code'),
    error_message: value('error_message'),
    attempts: value('attempts') ?? 0,
    retry_of_job_id: value('retry_of_job_id'),
    cancel_requested: value('cancel_requested') ?? false,
    created_at: value('created_at'),
    started_at: value('started_at'),
    finished_at: value('finished_at'),
    updated_at: value('updated_at'),
    next_attempt_at: value('next_attempt_at') ?? undefined,
    ocr_options: value('ocr_options') ?? undefined,
    transcription_options: value('transcription_options') ?? undefined,
    pages_by_source: value('pages_by_source') ?? undefined,
    callback_url: value('callback_url') ?? undefined,
    warnings: value('warnings') ?? undefined,
  });
  return {
    ...job,
    owner_id: hash.owner_id ?? '',
    input_key: hash.input_key ?? '',
    input_sha256: hash.input_sha256 ?? '',
    ...(hash.extra_work_used === undefined ? {} : { extra_work_used: Number(hash.extra_work_used) }),
    ...(hash.claim_token === undefined ? {} : { claim_token: hash.claim_token }),
  };
}

/** The public view of a record: exactly the contract's fields. */
export function toPublicJob(record: JobRecord): Job {
  const {
    owner_id: _owner,
    input_key: _key,
    input_sha256: _sha,
    extra_work_used: _extraWork,
    claim_token: _claim,
    ...job
  } = record;
  return job;
}

export type { JobStatus };
