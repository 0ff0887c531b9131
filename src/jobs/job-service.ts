import type { Readable } from 'node:stream';
import {
  AppError,
  CONTRACT_VERSION,
  type ContentSubtype,
  type JobType,
  type OutputFormat,
} from '../contract/index.js';
import type { Logger } from '../observability/logger.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { JobQueues } from './job-queues.js';
import type { JobRecord } from './job-record.js';
import type { JobPage, JobStore } from './job-store.js';
import { storageKeys } from './storage-keys.js';

export interface StoredUpload {
  jobId: string;
  ownerId: string;
  requestId: string;
  filename: string;
  mime: string;
  jobType: JobType;
  sizeBytes: number;
  sha256: string;
  contentSubtype: ContentSubtype;
  language: string | undefined;
}

export interface JobDefaults {
  ocrLanguages: string;
  transcriptionLanguage: string;
}

/** The job use cases behind the API: submit, read, list, cancel, fetch results. */
export class JobService {
  constructor(
    private readonly store: JobStore,
    private readonly queues: JobQueues,
    private readonly storage: ObjectStorage,
    private readonly defaults: JobDefaults,
    private readonly logger: Logger,
  ) {}

  /** Records a job whose input is already in storage and hands it to its queue. */
  async submit(upload: StoredUpload): Promise<JobRecord> {
    const now = new Date().toISOString();
    const record: JobRecord = {
      contract_version: CONTRACT_VERSION,
      job_id: upload.jobId,
      job_type: upload.jobType,
      content_subtype: upload.contentSubtype,
      status: 'QUEUED',
      stage: 'queued',
      progress: 0,
      request_id: upload.requestId,
      input_filename: upload.filename,
      input_size_bytes: upload.sizeBytes,
      input_mime: upload.mime,
      language:
        upload.language ??
        (upload.jobType === 'OCR' ? this.defaults.ocrLanguages : this.defaults.transcriptionLanguage),
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
      owner_id: upload.ownerId,
      input_key: storageKeys.input(upload.jobId),
      input_sha256: upload.sha256,
    };
    const log = this.logger.child({ job_id: record.job_id, request_id: record.request_id });
    await this.store.create(record);
    try {
      await this.queues.enqueue({
        job_id: record.job_id,
        request_id: record.request_id,
        job_type: record.job_type,
      });
    } catch (error) {
      // No half-written job: without a queue entry the record and the file would be orphans.
      await this.store.remove(record);
      await this.storage.deletePrefix(storageKeys.jobPrefix(record.job_id));
      log.error({ event: 'job.enqueue_failed', err: error }, 'could not enqueue job');
      throw new AppError('QUEUE_UNAVAILABLE', undefined, { cause: error });
    }
    log.info(
      {
        event: 'job.submitted',
        job_type: record.job_type,
        input_mime: record.input_mime,
        size: record.input_size_bytes,
      },
      'job submitted',
    );
    return record;
  }

  async get(jobId: string, ownerId: string): Promise<JobRecord> {
    const record = await this.store.getOwned(jobId, ownerId);
    if (!record) throw new AppError('JOB_NOT_FOUND');
    return record;
  }

  list(ownerId: string, options: { limit: number; cursor?: string | undefined }): Promise<JobPage> {
    return this.store.listByOwner(ownerId, options);
  }

  /**
   * A queued job is cancelled at once and taken off its queue; a running job is flagged and its
   * worker told to stop: it reaches CANCELLED when the worker has actually stopped.
   */
  async cancel(jobId: string, ownerId: string, requestId: string): Promise<JobRecord> {
    const record = await this.get(jobId, ownerId);
    const { outcome, status } = await this.store.requestCancel(jobId);
    const log = this.logger.child({ job_id: jobId, request_id: requestId });
    switch (outcome) {
      case 'missing':
        throw new AppError('JOB_NOT_FOUND');
      case 'final':
        throw new AppError('JOB_NOT_CANCELLABLE', `The job is already ${status}.`);
      case 'cancelled':
        await this.queues.removeWaiting(record.job_type, jobId);
        log.info({ event: 'job.transition', from: status, to: 'CANCELLED' }, 'queued job cancelled');
        break;
      case 'requested':
        log.info({ event: 'job.cancel_requested' }, 'cancel requested for running job');
        break;
    }
    return this.get(jobId, ownerId);
  }

  async openResult(
    jobId: string,
    ownerId: string,
    format: OutputFormat,
  ): Promise<{ record: JobRecord; body: Readable; sizeBytes: number }> {
    const record = await this.get(jobId, ownerId);
    if (record.status !== 'COMPLETED') {
      throw new AppError(
        'RESULT_NOT_READY',
        `The job is ${record.status}; results exist once it is COMPLETED.`,
      );
    }
    const sizeBytes = record.outputs[format];
    if (sizeBytes === undefined) {
      throw new AppError(
        'RESULT_FORMAT_UNAVAILABLE',
        `No ${format} result; available: ${Object.keys(record.outputs).join(', ') || 'none'}.`,
      );
    }
    try {
      return { record, body: await this.storage.get(storageKeys.output(jobId, format)), sizeBytes };
    } catch (error) {
      throw new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
    }
  }
}
