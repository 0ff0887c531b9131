import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type EngineDefaults,
  type EngineKind,
  engineNotOffered,
  engineOfJob,
} from '../config/offered-engines.js';
import {
  type AdminJobList,
  type AdminListJobsQuery,
  AppError,
  CONTRACT_VERSION,
  type ContentSubtype,
  JOB_TYPES,
  type Job,
  type JobList,
  type JobStatus,
  type JobType,
  type JobWarning,
  type ListJobsQuery,
  type OcrOptions,
  type OutputFormat,
  QUEUE_NAMES,
  type QueueOverview,
  type TranscriptionOptions,
} from '../contract/index.js';
import { type JobLabels, type JobMetrics, NO_JOB_METRICS } from '../observability/job-metrics.js';
import { errorFields, type Logger } from '../observability/logger.js';
import type { ObjectStorage, SignedDownloadOptions } from '../storage/object-storage.js';
import { estimateSecondsLeft } from './estimate-seconds-left.js';
import { decodeHistoryCursor, encodeHistoryCursor } from './history-cursor.js';
import type { IdempotencyStore } from './idempotency-store.js';
import type { IntakeState } from './intake-precheck.js';
import type { JobQueues } from './job-queues.js';
import { type JobRecord, toPublicJob } from './job-record.js';
import type { JobStore } from './job-store.js';
import { newJobId } from './new-job-id.js';
import { storageKeys } from './storage-keys.js';
import type { UsageQuota } from './usage-quota.js';

/** A stored input and the options it is to be processed with. */
interface InputAndOptions {
  filename: string;
  mime: string;
  jobType: JobType;
  sizeBytes: number;
  sha256: string;
  contentSubtype: ContentSubtype;
  language: string | undefined;
  /** OCR options named at submission (stored on the job, handed to the pipeline). */
  ocrOptions?: OcrOptions | undefined;
  /** Transcription options named at submission. */
  transcriptionOptions?: TranscriptionOptions | undefined;
  /** This job's own webhook, already checked against the SSRF guard. */
  callbackUrl?: string | undefined;
  /** Found at upload (a name that does not match the content), stored on the job. */
  warnings?: JobWarning[] | undefined;
}

export interface StoredUpload extends InputAndOptions {
  jobId: string;
  ownerId: string;
  requestId: string;
  retryOfJobId?: string;
}

/** What an upload turned out to be, once stored and its fields parsed. */
export interface Submission extends InputAndOptions {
  /** Every parsed request field: part of the payload an Idempotency-Key is bound to. */
  fields: Record<string, unknown>;
  /**
   * False when nothing was stored because only a replay was to be judged (a resumable upload that
   * already made its job): such a submission can answer a replay but never make a job.
   */
  inputStored?: boolean;
}

export interface SubmitContext {
  ownerId: string;
  requestId: string;
  idempotencyKey?: string | undefined;
}

/**
 * Stores the request's file under the given job id and reads its fields. `replay`: the key already
 * made a job, and the submission is only compared with it.
 */
export type ReceiveSubmission = (jobId: string, replay: boolean) => Promise<Submission>;

export interface RetryOverrides {
  content_subtype?: ContentSubtype | undefined;
  language?: string | undefined;
  /** Laid over the original's OCR options; `engine: null` drops its engine (the configured one runs). */
  ocrOptions?: (Omit<OcrOptions, 'engine'> & { engine?: OcrOptions['engine'] | null }) | undefined;
  /** Laid over the original's transcription options; `engine: null` drops its engine (the configured one runs). */
  transcriptionOptions?:
    | (Omit<TranscriptionOptions, 'engine'> & { engine?: TranscriptionOptions['engine'] | null })
    | undefined;
}

/** `base` with `changes` laid over it (a null change removes the key); undefined when nothing is left. */
function layOver<T extends object>(
  base: T | undefined,
  changes: { [K in keyof T]?: T[K] | null } | undefined,
): T | undefined {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(changes ?? {})) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return Object.keys(merged).length > 0 ? (merged as T) : undefined;
}

/** Options of the other job type are refused, naming their request fields. */
function refuseOptionsOfOtherType(jobType: JobType, overrides: RetryOverrides): void {
  const foreign =
    jobType === 'OCR'
      ? Object.keys(overrides.transcriptionOptions ?? {}).map((key) =>
          key === 'engine' ? 'transcription_engine' : key,
        )
      : Object.keys(overrides.ocrOptions ?? {}).map((key) => `ocr_${key}`);
  if (foreign.length === 0) return;
  const message = `applies to ${jobType === 'OCR' ? 'transcription' : 'OCR'} jobs only; this job is ${jobType}`;
  throw new AppError('VALIDATION_FAILED', foreign.map((field) => `${field}: ${message}`).join('; '), {
    details: { errors: foreign.map((field) => ({ field, message })) },
  });
}

/** How long DELETE waits for a running job's worker to stop before answering JOB_STILL_RUNNING. */
const DELETE_WAIT_MS = 10_000;

export interface JobDefaults {
  ocrLanguages: string;
  transcriptionLanguage: string;
  /** What the deployment offers (`offeredEngines`): a retry that keeps an engine gone since is refused. */
  engines?: Readonly<Record<EngineKind, readonly string[]>>;
  /** The engines of jobs that name none: the `engine` label of submitted and cancelled jobs. */
  engineDefaults?: EngineDefaults;
}

/** The job use cases behind the API: submit, read, list, cancel, fetch results. */
export class JobService {
  constructor(
    private readonly store: JobStore,
    private readonly queues: JobQueues,
    private readonly storage: ObjectStorage,
    private readonly defaults: JobDefaults,
    private readonly idempotency: IdempotencyStore,
    private readonly logger: Logger,
    private readonly metrics: JobMetrics = NO_JOB_METRICS,
    /** Daily pages / audio minutes per user (QUOTA_*_PER_DAY); absent: no such limits. */
    private readonly usage?: UsageQuota,
  ) {}

  /**
   * Receives an upload and creates its job, at most once per Idempotency-Key: the same key with
   * the same file and fields returns the first job (`reused`), a different payload is refused,
   * and a key whose first request is still uploading answers IDEMPOTENCY_KEY_IN_USE.
   */
  async submitOnce(
    context: SubmitContext,
    receive: ReceiveSubmission,
  ): Promise<{ record: JobRecord; reused: boolean }> {
    const { ownerId, requestId, idempotencyKey: key } = context;
    const jobId = newJobId();
    if (!key) {
      const submission = await this.receiveOrClean(jobId, receive);
      return { record: await this.submitReceived(jobId, context, submission), reused: false };
    }
    const claim = await this.idempotency.claim(ownerId, key, requestId);
    if (claim.kind === 'in_progress') throw new AppError('IDEMPOTENCY_KEY_IN_USE');
    if (claim.kind === 'completed') {
      const submission = await this.receiveOrClean(jobId, receive, true);
      await this.storage.deletePrefix(storageKeys.jobPrefix(jobId));
      if (fingerprintOf(submission) !== claim.fingerprint) throw new AppError('IDEMPOTENCY_KEY_MISMATCH');
      const existing = await this.store.getOwned(claim.jobId, ownerId);
      if (existing) {
        this.logger.info(
          { event: 'job.submit_replayed', job_id: existing.job_id, request_id: requestId },
          'idempotent submit answered with the existing job',
        );
        return { record: existing, reused: true };
      }
      // The job was deleted since: the key starts afresh with this request.
      await this.idempotency.forget(ownerId, key);
      // A resumable upload's bytes went with that job: there is nothing left to make a job from.
      if (submission.inputStored === false) throw new AppError('UPLOAD_NOT_FOUND');
      return this.submitOnce(context, async () => submission);
    }
    try {
      const submission = await this.receiveOrClean(jobId, receive);
      const record = await this.submitReceived(jobId, context, submission);
      await this.idempotency.complete(ownerId, key, requestId, jobId, fingerprintOf(submission));
      return { record, reused: false };
    } catch (error) {
      await this.idempotency.release(ownerId, key, requestId);
      throw error;
    }
  }

  private async receiveOrClean(
    jobId: string,
    receive: ReceiveSubmission,
    replay = false,
  ): Promise<Submission> {
    try {
      return await receive(jobId, replay);
    } catch (error) {
      await this.storage.deletePrefix(storageKeys.jobPrefix(jobId));
      throw error;
    }
  }

  private submitReceived(jobId: string, context: SubmitContext, submission: Submission) {
    const { fields: _fields, ...input } = submission;
    return this.submit({ ...input, jobId, ownerId: context.ownerId, requestId: context.requestId });
  }

  /** The job as clients see it: the record plus queue position and time left, computed now. */
  async view(record: JobRecord): Promise<Job> {
    return (await this.viewAll([record]))[0] as Job;
  }

  /** `view` for many records, with the queue positions of the queued ones read in one call per queue. */
  async viewAll(records: readonly JobRecord[]): Promise<Job[]> {
    const positions = new Map<string, number | null>();
    await Promise.all(
      JOB_TYPES.map(async (type) => {
        const ids = records.filter((r) => r.status === 'QUEUED' && r.job_type === type).map((r) => r.job_id);
        const found = await this.queues.positionsOf(type, ids);
        for (const [i, id] of ids.entries()) positions.set(id, found[i] ?? null);
      }),
    );
    return records.map((record) => ({
      ...toPublicJob(record),
      queue_position: positions.get(record.job_id) ?? null,
      eta_sec: estimateSecondsLeft(record),
    }));
  }

  async list(ownerId: string, query: ListJobsQuery): Promise<JobList> {
    const scope = { jobType: query.job_type, statuses: query.status, q: query.q || undefined };
    const after = query.cursor ? decodeHistoryCursor(query.cursor, scope) : undefined;
    const page = await this.store.listByOwner(ownerId, {
      jobType: query.job_type,
      statuses: query.status,
      q: query.q || undefined,
      after,
      limit: query.limit,
    });
    return {
      items: await this.viewAll(page.records),
      next_cursor: page.after ? encodeHistoryCursor(page.after, scope) : null,
      total: page.total,
      counts: page.counts,
    };
  }

  /**
   * Administrators' view: every owner's jobs (or one owner's, with `owner`), newest first, with the
   * same filters, cursor paging and counts as a user's history, and each job's `owner_id`.
   */
  async listAll(query: AdminListJobsQuery): Promise<AdminJobList> {
    const scope = { list: 'admin', owner: query.owner, jobType: query.job_type, statuses: query.status };
    const after = query.cursor ? decodeHistoryCursor(query.cursor, scope) : undefined;
    const filters = { jobType: query.job_type, statuses: query.status, after, limit: query.limit };
    const page = query.owner
      ? await this.store.listByOwner(query.owner, filters)
      : await this.store.listAll(filters);
    const items = await this.viewAll(page.records);
    return {
      items: items.map((job, i) => ({ ...job, owner_id: page.records[i]?.owner_id ?? '' })),
      next_cursor: page.after ? encodeHistoryCursor(page.after, scope) : null,
      total: page.total,
      counts: page.counts,
    };
  }

  /** What a precheck needs to know now: the caller's active jobs and each queue's length. */
  async intakeState(ownerId: string): Promise<IntakeState> {
    const [page, queues, usageLeft] = await Promise.all([
      this.store.listByOwner(ownerId, { statuses: ['QUEUED', 'PROCESSING'], limit: 1 }),
      this.queues.overview(),
      this.usage?.left(ownerId),
    ]);
    const waiting = Object.fromEntries(queues.map((q) => [q.job_type, q.waiting + q.delayed]));
    return {
      activeJobs: page.total,
      queueWaiting: { OCR: waiting.OCR ?? 0, TRANSCRIPTION: waiting.TRANSCRIPTION ?? 0 },
      ...(usageLeft ? { usageLeft } : {}),
    };
  }

  queueOverview(): Promise<QueueOverview[]> {
    return this.queues.overview();
  }

  /** Records a job whose input is already in storage and hands it to its queue. */
  async submit(upload: StoredUpload): Promise<JobRecord> {
    try {
      // The real size is measured by the worker; a user with nothing left today is refused now.
      await this.usage?.assertRoom(upload.ownerId, upload.jobType);
    } catch (error) {
      await this.storage.deletePrefix(storageKeys.jobPrefix(upload.jobId));
      throw error;
    }
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
      retry_of_job_id: upload.retryOfJobId ?? null,
      cancel_requested: false,
      created_at: now,
      started_at: null,
      finished_at: null,
      updated_at: now,
      owner_id: upload.ownerId,
      input_key: storageKeys.input(upload.jobId),
      input_sha256: upload.sha256,
      ...(upload.ocrOptions ? { ocr_options: upload.ocrOptions } : {}),
      ...(upload.transcriptionOptions ? { transcription_options: upload.transcriptionOptions } : {}),
      ...(upload.callbackUrl ? { callback_url: upload.callbackUrl } : {}),
      ...(upload.warnings?.length ? { warnings: upload.warnings } : {}),
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
    this.metrics.submitted(this.labelsOf(record));
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

  private labelsOf(record: JobRecord): JobLabels {
    return {
      queue: QUEUE_NAMES[record.job_type],
      job_type: record.job_type,
      engine: engineOfJob(record, this.defaults.engineDefaults),
    };
  }

  /** The owner's job, or null (also for another user's job). */
  find(jobId: string, ownerId: string): Promise<JobRecord | null> {
    return this.store.getOwned(jobId, ownerId);
  }

  /** The newest of the owner's jobs in the given statuses, newest first. */
  async listRecords(ownerId: string, statuses: readonly JobStatus[], limit: number): Promise<JobRecord[]> {
    return (await this.store.listByOwner(ownerId, { statuses, limit })).records;
  }

  async get(jobId: string, ownerId: string): Promise<JobRecord> {
    const record = await this.store.getOwned(jobId, ownerId);
    if (!record) throw new AppError('JOB_NOT_FOUND');
    return record;
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
        this.metrics.cancelled(this.labelsOf(record));
        log.info({ event: 'job.transition', from: status, to: 'CANCELLED' }, 'queued job cancelled');
        await this.removeOutputsOfCancelled(jobId, log);
        break;
      case 'requested':
        log.info({ event: 'job.cancel_requested' }, 'cancel requested for running job');
        break;
    }
    return this.get(jobId, ownerId);
  }

  /**
   * A queued job cancelled here may hold outputs of earlier attempts (one killed after writing
   * some, waiting for its retry): they go now. Their claims stay listed, so the reconciler removes
   * whatever a superseded run may still write, and settles the job.
   */
  private async removeOutputsOfCancelled(jobId: string, log: Logger): Promise<void> {
    try {
      const claims = await this.store.settleOutputClaims(jobId);
      if (claims.settled || !claims.final || claims.others.length === 0) return;
      for (const claim of claims.others) {
        await this.storage.deletePrefix(storageKeys.outputPrefix(jobId, claim));
      }
      log.info(
        { event: 'job.stale_outputs_removed', claims: claims.others },
        'outputs of earlier attempts removed',
      );
    } catch (error) {
      log.warn(
        { event: 'job.outputs_cleanup_failed', ...errorFields(error) },
        'outputs of a cancelled job could not be removed; the reconciler will',
      );
    }
  }

  /**
   * A new job on the same input (copied, so deleting either job never breaks the other), linked by
   * `retry_of_job_id`, optionally with new parameters. Only FAILED or CANCELLED jobs are retried.
   */
  /** ENGINE_NOT_OFFERED for a retry whose engine (kept from the original or asked for) is not offered. */
  private refuseKeptEngineNotOffered(kind: EngineKind, engine: string | undefined, field: string): void {
    if (!this.defaults.engines) return;
    const message = engineNotOffered(this.defaults.engines, kind, engine);
    if (message === null) return;
    const next = `${message} (send ${field}: null for the configured engine, or name one offered)`;
    throw new AppError('ENGINE_NOT_OFFERED', `${field}: ${next}.`, {
      details: { errors: [{ field, message: next }] },
    });
  }

  async retry(
    jobId: string,
    ownerId: string,
    requestId: string,
    overrides: RetryOverrides,
  ): Promise<JobRecord> {
    const original = await this.get(jobId, ownerId);
    if (original.status !== 'FAILED' && original.status !== 'CANCELLED') {
      throw new AppError(
        'JOB_NOT_RETRYABLE',
        `The job is ${original.status}; only FAILED or CANCELLED jobs are retried.`,
      );
    }
    refuseOptionsOfOtherType(original.job_type, overrides);
    const ocrOptions = layOver(original.ocr_options, overrides.ocrOptions);
    const transcriptionOptions = layOver(original.transcription_options, overrides.transcriptionOptions);
    // Refused here, not after a trip through the queue to a worker without the engine.
    this.refuseKeptEngineNotOffered('ocr', ocrOptions?.engine, 'ocr_engine');
    this.refuseKeptEngineNotOffered('speech', transcriptionOptions?.engine, 'transcription_engine');
    const newJobIdValue = newJobId();
    let stored: { sizeBytes: number; sha256: string };
    try {
      stored = await this.storage.put(
        storageKeys.input(newJobIdValue),
        await this.storage.get(original.input_key),
      );
    } catch (error) {
      await this.storage.deletePrefix(storageKeys.jobPrefix(newJobIdValue));
      throw new AppError('STORAGE_UNAVAILABLE', 'The original upload could not be read.', { cause: error });
    }
    const record = await this.submit({
      jobId: newJobIdValue,
      ownerId,
      requestId,
      filename: original.input_filename,
      mime: original.input_mime,
      jobType: original.job_type,
      sizeBytes: stored.sizeBytes,
      sha256: stored.sha256,
      contentSubtype: overrides.content_subtype ?? original.content_subtype,
      language: overrides.language ?? original.language,
      ocrOptions,
      transcriptionOptions,
      callbackUrl: original.callback_url,
      retryOfJobId: original.job_id,
    });
    this.logger.info(
      {
        event: 'job.retried',
        job_id: record.job_id,
        retry_of_job_id: original.job_id,
        request_id: requestId,
        changed: Object.keys(overrides).filter((key) => overrides[key as keyof RetryOverrides] !== undefined),
      },
      'job retried as a new job',
    );
    return record;
  }

  /**
   * Removes a job with its input, outputs, queue entry and history entry. A running job is
   * cancelled first and deleted once its worker has stopped.
   */
  async delete(jobId: string, ownerId: string, requestId: string): Promise<void> {
    let record = await this.get(jobId, ownerId);
    if (record.status === 'QUEUED' || record.status === 'PROCESSING') {
      await this.store.requestCancel(jobId);
      const deadline = Date.now() + DELETE_WAIT_MS;
      while (record.status === 'PROCESSING' && Date.now() < deadline) {
        await sleep(100);
        record = await this.get(jobId, ownerId);
      }
      if (record.status === 'PROCESSING') throw new AppError('JOB_STILL_RUNNING');
    }
    await this.queues.remove(record.job_type, jobId);
    await this.store.remove(record);
    await this.storage.deletePrefix(storageKeys.jobPrefix(jobId));
    this.logger.info(
      { event: 'job.deleted', job_id: jobId, request_id: requestId, status: record.status },
      'job deleted',
    );
  }

  async openInput(
    jobId: string,
    ownerId: string,
    download?: DownloadHeaders,
  ): Promise<
    | { record: JobRecord; body: Readable; redirectUrl?: undefined }
    | { record: JobRecord; redirectUrl: string }
  > {
    const record = await this.get(jobId, ownerId);
    try {
      const redirectUrl = download
        ? await this.storage.signedDownloadUrl(record.input_key, download(record))
        : null;
      if (redirectUrl) return { record, redirectUrl };
      return { record, body: await this.storage.get(record.input_key) };
    } catch (error) {
      throw new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
    }
  }

  async openResult(
    jobId: string,
    ownerId: string,
    format: OutputFormat,
    download?: DownloadHeaders,
  ): Promise<
    | { record: JobRecord; body: Readable; sizeBytes: number; redirectUrl?: undefined }
    | { record: JobRecord; sizeBytes: number; redirectUrl: string }
  > {
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
      const key = storageKeys.output(jobId, format, record.claim_token);
      const redirectUrl = download ? await this.storage.signedDownloadUrl(key, download(record)) : null;
      if (redirectUrl) return { record, sizeBytes, redirectUrl };
      return { record, body: await this.storage.get(key), sizeBytes };
    } catch (error) {
      throw new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
    }
  }
}

/**
 * The headers a signed download URL must make the store answer with; given, the download may be
 * redirected to the store (when it can sign), so the bytes never pass through the API.
 */
export type DownloadHeaders = (record: JobRecord) => SignedDownloadOptions;

/** What an Idempotency-Key is bound to: the file's content and every request field. */
function fingerprintOf(submission: Submission): string {
  const fields = Object.fromEntries(
    Object.entries(submission.fields)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return createHash('sha256')
    .update(JSON.stringify({ file: submission.sha256, fields }))
    .digest('base64url');
}
