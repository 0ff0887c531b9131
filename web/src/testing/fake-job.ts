import type { WebJob } from '../api/contract.js';

/** A plausible job for unit tests, with the fields a test cares about overridden. */
export function fakeJob(overrides: Partial<WebJob> = {}): WebJob {
  return {
    contract_version: '1',
    job_id: '0190a3f2-0000-7000-8000-000000000001',
    job_type: 'OCR',
    content_subtype: 'general',
    status: 'PROCESSING',
    stage: 'page 1 of 4',
    progress: 10,
    request_id: 'req-1',
    input_filename: 'book.pdf',
    input_size_bytes: 2048,
    input_mime: 'application/pdf',
    language: 'hin+eng',
    page_count: 4,
    media_duration_sec: null,
    processing_duration_sec: null,
    engine: null,
    outputs: {},
    quality: null,
    error_code: null,
    error_message: null,
    attempts: 1,
    retry_of_job_id: null,
    cancel_requested: false,
    created_at: '2026-11-25T10:00:00.000Z',
    started_at: '2026-11-25T10:00:00.000Z',
    finished_at: null,
    updated_at: '2026-11-25T10:00:10.000Z',
    ...overrides,
  };
}
