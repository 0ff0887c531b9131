import { CONTRACT_VERSION } from '../../src/contract/index.js';
import type { JobRecord } from '../../src/jobs/job-record.js';
import { newJobId } from '../../src/jobs/new-job-id.js';

/** A QUEUED OCR job record of `owner`, created at `createdAt`, as the submit route would write it. */
export function newRecord(owner = 'alice', createdAt = Date.now()): JobRecord {
  const id = newJobId(createdAt);
  const now = new Date(createdAt).toISOString();
  return {
    contract_version: CONTRACT_VERSION,
    job_id: id,
    job_type: 'OCR',
    content_subtype: 'general',
    status: 'QUEUED',
    stage: 'queued',
    progress: 0,
    request_id: 'req-1',
    input_filename: 'स्कैन.pdf',
    input_size_bytes: 1234,
    input_mime: 'application/pdf',
    language: 'hin+eng',
    page_count: null,
    media_duration_sec: null,
    processing_duration_sec: null,
    engine: null,
    outputs: {},
    quality: null,
    error_code: null,
    error_message: null,
    attempts: 0,
    retry_of_job_id: null,
    cancel_requested: false,
    created_at: now,
    started_at: null,
    finished_at: null,
    updated_at: now,
    owner_id: owner,
    input_key: `jobs/${id}/input`,
    input_sha256: 'ab'.repeat(32),
  };
}
