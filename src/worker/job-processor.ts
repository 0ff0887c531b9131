import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { type Job as BullJob, UnrecoverableError } from 'bullmq';
import {
  type AppError,
  ERROR_CATALOG,
  type JobType,
  type OutputFormat,
  type TranscriptionOptions,
} from '../contract/index.js';
import { queuePayloadSchema } from '../jobs/job-queues.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { JobStore } from '../jobs/job-store.js';
import { storageKeys } from '../jobs/storage-keys.js';
import { errorFields, type Logger } from '../observability/logger.js';
import type {
  Pipeline,
  PipelineResult,
  ProgressUpdate,
  TranscriptionJobOptions,
} from '../pipelines/pipeline.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { type CancellationRegistry, CancelledSignal } from './cancellation-registry.js';
import { classifyError } from './classify-error.js';

export interface JobProcessorDeps {
  store: JobStore;
  storage: ObjectStorage;
  pipelines: Record<JobType, Pipeline>;
  cancellations: CancellationRegistry;
  tmpDir: string;
  workerId: string;
  logger: Logger;
}

/**
 * Runs one attempt of one job: claims it through the state machine, runs its pipeline in a
 * scratch directory, stores the outputs and records the outcome. Decides retry versus give up.
 */
export class JobProcessor {
  constructor(private readonly deps: JobProcessorDeps) {}

  async process(bullJob: BullJob): Promise<void> {
    const payload = queuePayloadSchema.parse(bullJob.data);
    const attempt = bullJob.attemptsMade + 1;
    const maxAttempts = bullJob.opts.attempts ?? 1;
    const log = this.deps.logger.child({
      job_id: payload.job_id,
      request_id: payload.request_id,
      queue: bullJob.queueName,
      attempt,
      worker_id: this.deps.workerId,
    });

    const record = await this.claim(payload.job_id, log);
    if (!record) return;

    const controller = this.deps.cancellations.register(record.job_id);
    if (record.cancel_requested) controller.abort(new CancelledSignal());
    const workDir = path.join(this.deps.tmpDir, `${record.job_id}-${attempt}`);
    const started = performance.now();
    let outcome: { result: PipelineResult; outputs: Partial<Record<OutputFormat, number>> } | undefined;
    let failure: unknown;
    try {
      outcome = await this.runPipeline(record, workDir, controller, log, attempt >= maxAttempts);
    } catch (error) {
      failure = error;
    } finally {
      // Cleanup comes before the final status: a job reported finished has left nothing behind.
      this.deps.cancellations.release(record.job_id);
      await rm(workDir, { recursive: true, force: true });
    }
    if (!outcome) {
      await this.recordFailure(record, failure, controller, { attempt, maxAttempts, log });
      return;
    }
    const { result, outputs } = outcome;
    const processingSec = Math.round((performance.now() - started) / 10) / 100;
    const done = await this.deps.store.transition(record.job_id, 'COMPLETED', {
      stage: 'done',
      progress: 100,
      outputs,
      engine: result.engine,
      quality: result.quality,
      page_count: result.page_count ?? record.page_count,
      media_duration_sec: result.media_duration_sec ?? record.media_duration_sec,
      ...(result.pages_by_source ? { pages_by_source: result.pages_by_source } : {}),
      processing_duration_sec: processingSec,
      error_code: null,
      error_message: null,
    });
    if (!done.ok) {
      log.warn({ event: 'job.transition_refused', to: 'COMPLETED', result: done }, 'completion refused');
      return;
    }
    log.info(
      {
        event: 'job.transition',
        from: 'PROCESSING',
        to: 'COMPLETED',
        processing_duration_sec: processingSec,
        outputs,
      },
      'job completed',
    );
  }

  /** Input from storage → pipeline → outputs into storage. */
  private async runPipeline(
    record: JobRecord,
    workDir: string,
    controller: AbortController,
    log: Logger,
    lastAttempt: boolean,
  ): Promise<{ result: PipelineResult; outputs: Partial<Record<OutputFormat, number>> }> {
    await mkdir(workDir, { recursive: true });
    const inputPath = path.join(workDir, 'input');
    await this.deps.storage.download(record.input_key, inputPath);
    log.info(
      { event: 'job.started', stage: 'starting', input_mime: record.input_mime },
      'processing started',
    );

    const result = await this.deps.pipelines[record.job_type](
      {
        jobId: record.job_id,
        inputPath,
        inputMime: record.input_mime,
        language: record.language,
        contentSubtype: record.content_subtype,
        workDir,
        ocr: record.ocr_options,
        transcription: toPipelineTranscriptionOptions(record.transcription_options),
        lastAttempt,
      },
      {
        signal: controller.signal,
        logger: log,
        reportProgress: (update) => this.saveProgress(record.job_id, update, controller, log),
      },
    );
    if (controller.signal.aborted) throw controller.signal.reason;

    const outputs: Partial<Record<OutputFormat, number>> = {};
    for (const [format, body] of Object.entries(result.outputs) as Array<
      [OutputFormat, string | Buffer | Readable]
    >) {
      const stored = await this.deps.storage.put(storageKeys.output(record.job_id, format), body);
      outputs[format] = stored.sizeBytes;
    }
    return { result, outputs };
  }

  /** QUEUED → PROCESSING. A job found PROCESSING was held by a worker that died: hand it back first. */
  private async claim(jobId: string, log: Logger): Promise<JobRecord | null> {
    let claimed = await this.deps.store.transition(
      jobId,
      'PROCESSING',
      { stage: 'starting', error_code: null, error_message: null },
      { countAttempt: true },
    );
    if (!claimed.ok && claimed.reason === 'refused' && claimed.current === 'PROCESSING') {
      log.warn(
        { event: 'job.recovered', stage: 'recovered' },
        'job was held by a lost worker; restarting it',
      );
      await this.deps.store.transition(jobId, 'QUEUED', { stage: 'recovered after worker loss' });
      claimed = await this.deps.store.transition(
        jobId,
        'PROCESSING',
        { stage: 'starting' },
        { countAttempt: true },
      );
    }
    if (!claimed.ok) {
      log.info(
        { event: 'job.skipped', result: claimed },
        'job not claimable (cancelled, finished or deleted)',
      );
      return null;
    }
    log.info({ event: 'job.transition', from: claimed.from, to: 'PROCESSING' }, 'job claimed');
    return this.deps.store.get(jobId);
  }

  private async saveProgress(
    jobId: string,
    update: ProgressUpdate,
    controller: AbortController,
    log: Logger,
  ): Promise<void> {
    const { cancelRequested } = await this.deps.store.reportProgress(jobId, update.progress, update.stage, {
      ...update.facts,
    });
    log.debug({ event: 'job.progress', stage: update.stage, progress: update.progress }, 'progress');
    // Backstop for a missed pub/sub message: the flag in the record is authoritative.
    if (cancelRequested && !controller.signal.aborted) controller.abort(new CancelledSignal());
  }

  private async recordFailure(
    record: JobRecord,
    error: unknown,
    controller: AbortController,
    context: { attempt: number; maxAttempts: number; log: Logger },
  ): Promise<void> {
    const { attempt, maxAttempts, log } = context;
    if (controller.signal.reason instanceof CancelledSignal) {
      await this.deps.store.transition(record.job_id, 'CANCELLED', {
        stage: 'cancelled',
        error_code: 'JOB_CANCELLED',
        error_message: ERROR_CATALOG.JOB_CANCELLED.message.en,
      });
      log.info({ event: 'job.transition', from: 'PROCESSING', to: 'CANCELLED' }, 'job cancelled');
      return;
    }
    const appError: AppError = classifyError(error);
    const willRetry = appError.retryable && attempt < maxAttempts;
    log.error(
      {
        event: 'job.attempt_failed',
        error_code: appError.code,
        will_retry: willRetry,
        ...errorFields(error),
      },
      'attempt failed',
    );
    if (willRetry) {
      await this.deps.store.transition(record.job_id, 'QUEUED', {
        stage: `retry scheduled (${attempt + 1}/${maxAttempts})`,
        error_code: appError.code,
        error_message: appError.message,
      });
      throw appError;
    }
    await this.deps.store.transition(record.job_id, 'FAILED', {
      stage: 'failed',
      error_code: appError.code,
      error_message: appError.message,
    });
    log.info(
      { event: 'job.transition', from: 'PROCESSING', to: 'FAILED', error_code: appError.code },
      'job failed',
    );
    throw new UnrecoverableError(appError.code);
  }
}

/** The job's stored transcription options in the pipeline's terms. */
function toPipelineTranscriptionOptions(options: TranscriptionOptions | undefined): TranscriptionJobOptions {
  return {
    ...(options?.chunk_sec === undefined ? {} : { chunkSec: options.chunk_sec }),
    ...(options?.chunk_overlap_sec === undefined ? {} : { chunkOverlapSec: options.chunk_overlap_sec }),
    ...(options?.chunks_in_flight === undefined ? {} : { chunksInFlight: options.chunks_in_flight }),
    ...(options?.txt_timestamps === undefined ? {} : { txtTimestamps: options.txt_timestamps }),
  };
}
