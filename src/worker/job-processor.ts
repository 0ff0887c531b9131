import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { type Job as BullJob, DelayedError, UnrecoverableError } from 'bullmq';
import type { ExtraWorkConfig } from '../config/index.js';
import {
  type AppError,
  type DeadLetter,
  ERROR_CATALOG,
  type ErrorCode,
  type JobType,
  type OutputFormat,
  type TranscriptionOptions,
} from '../contract/index.js';
import type { DeadLetterStore } from '../jobs/dead-letter-store.js';
import type { FeatureFlags } from '../jobs/feature-flags.js';
import { queuePayloadSchema } from '../jobs/job-queues.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { JobStore } from '../jobs/job-store.js';
import { storageKeys } from '../jobs/storage-keys.js';
import { type JobLabels, type JobMetrics, NO_JOB_METRICS } from '../observability/job-metrics.js';
import { errorFields, type Logger } from '../observability/logger.js';
import type {
  Pipeline,
  PipelineResult,
  ProgressUpdate,
  TranscriptionJobOptions,
} from '../pipelines/pipeline.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { type CancellationRegistry, CancelledSignal, ShutdownSignal } from './cancellation-registry.js';
import { classifyError } from './classify-error.js';
import { JobExtraWorkBudget } from './job-extra-work-budget.js';
import type { RetryPolicy } from './retry-policy.js';
import { retryRedisWrite } from './retry-redis-write.js';
import { JobUsageCheck, type UsageRules } from './usage-quota.js';

export interface JobProcessorDeps {
  store: JobStore;
  storage: ObjectStorage;
  pipelines: Record<JobType, Pipeline>;
  cancellations: CancellationRegistry;
  retryPolicy: RetryPolicy;
  /** Each job's budget of extra engine calls (page re-reads, chunk re-runs). */
  extraWork: ExtraWorkConfig;
  deadLetters: DeadLetterStore;
  tmpDir: string;
  workerId: string;
  logger: Logger;
  /** Outcome counters and timing histograms (`NO_JOB_METRICS` when absent). */
  metrics?: JobMetrics;
  /** Feature flags that turn extra work off (absent: every kind allowed). */
  flags?: FeatureFlags;
  /** Daily usage quotas and cost thresholds, applied once the job is measured (absent: none). */
  usage?: UsageRules;
}

/**
 * Runs one attempt of one job: claims it through the state machine, runs its pipeline in a
 * scratch directory, stores the outputs and records the outcome. Decides retry versus give up.
 */
export class JobProcessor {
  private readonly metrics: JobMetrics;

  constructor(private readonly deps: JobProcessorDeps) {
    this.metrics = deps.metrics ?? NO_JOB_METRICS;
  }

  async process(bullJob: BullJob, token?: string): Promise<void> {
    const payload = queuePayloadSchema.parse(bullJob.data);
    // Every time BullMQ hands the job out counts: retries we scheduled and stalls alike.
    const attempt = Math.max(1, bullJob.attemptsStarted, bullJob.attemptsMade + 1);
    const maxAttempts = this.deps.retryPolicy.longestBudget();
    const log = this.deps.logger.child({
      job_id: payload.job_id,
      request_id: payload.request_id,
      queue: bullJob.queueName,
      attempt,
      worker_id: this.deps.workerId,
    });

    const record = await this.claim(payload.job_id, log, attempt);
    if (!record) return;
    const labels: JobLabels = { queue: bullJob.queueName, job_type: record.job_type };
    if (attempt === 1 && record.started_at) {
      this.metrics.queueWait(labels, (Date.parse(record.started_at) - Date.parse(record.created_at)) / 1000);
    }

    const controller = this.deps.cancellations.register(record.job_id);
    if (record.cancel_requested) controller.abort(new CancelledSignal());
    const workDir = path.join(this.deps.tmpDir, `${record.job_id}-${attempt}`);
    const started = performance.now();
    let outcome: { result: PipelineResult; outputs: Partial<Record<OutputFormat, number>> } | undefined;
    let failure: unknown;
    const usage = new JobUsageCheck(this.deps.usage ?? { quota: null }, record, log);
    try {
      outcome = await this.runPipeline(
        record,
        workDir,
        controller,
        log,
        attempt >= maxAttempts,
        bullJob.queueName,
        usage,
      );
    } catch (error) {
      // A job stopped by its usage check fails with the refusal, not with what the abort caused.
      failure = usage.failure ?? error;
    } finally {
      // Cleanup comes before the final status: a job reported finished has left nothing behind.
      this.deps.cancellations.release(record.job_id);
      await rm(workDir, { recursive: true, force: true });
    }
    if (failure instanceof SupersededAttempt) {
      // Another worker took the job over (this one lost its lock): its attempt is the one that counts.
      log.warn(
        { event: 'job.superseded', stage: failure.current?.status ?? 'deleted' },
        'attempt superseded by another worker; nothing written',
      );
      return;
    }
    if (!outcome) {
      const failedAfterSec = (performance.now() - started) / 1000;
      await this.recordFailure(record, failure, controller, { attempt, log, bullJob, token, failedAfterSec });
      return;
    }
    const { result, outputs } = outcome;
    const processingSec = Math.round((performance.now() - started) / 10) / 100;
    const done = await retryRedisWrite(
      () =>
        this.deps.store.transition(record.job_id, 'COMPLETED', {
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
        }),
      log,
      'completion',
    );
    if (!done.ok) {
      log.warn({ event: 'job.transition_refused', to: 'COMPLETED', result: done }, 'completion refused');
      return;
    }
    this.metrics.completed({ ...labels, engine: result.engine }, processingSec);
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
    queue: string,
    usage: JobUsageCheck,
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
        reportProgress: async (update) => {
          let fields: Partial<JobRecord> = {};
          try {
            fields = await usage.judge(update, controller);
          } finally {
            // Saved even when the check refuses the job: its measured size stays on the record.
            await this.saveProgress(record.job_id, update, controller, log, fields);
          }
        },
        observeUnit: (unit, seconds) => this.metrics.unitProcessed(queue, unit, seconds),
        extraWork: new JobExtraWorkBudget(
          record.job_id,
          this.deps.store,
          this.deps.extraWork,
          log,
          record.extra_work_used ?? 0,
          this.deps.flags ?? null,
        ),
      },
    );
    if (controller.signal.aborted) throw controller.signal.reason;
    await this.assertStillOurs(record);

    const outputs: Partial<Record<OutputFormat, number>> = {};
    for (const [format, body] of Object.entries(result.outputs) as Array<
      [OutputFormat, string | Buffer | Readable]
    >) {
      const stored = await this.deps.storage.put(storageKeys.output(record.job_id, format), body);
      outputs[format] = stored.sizeBytes;
    }
    return { result, outputs };
  }

  /**
   * At-least-once delivery can run a job twice (a worker that lost its lock keeps going while
   * another took the job over). Only the current attempt may write outputs: the record must still
   * be PROCESSING with the attempt count this attempt's claim left in it.
   */
  private async assertStillOurs(record: JobRecord): Promise<void> {
    const current = await this.deps.store.get(record.job_id);
    if (current?.status !== 'PROCESSING' || current.attempts !== record.attempts) {
      throw new SupersededAttempt(current);
    }
  }

  /** QUEUED → PROCESSING. A job found PROCESSING was held by a worker that died: hand it back first. */
  private async claim(jobId: string, log: Logger, attempt: number): Promise<JobRecord | null> {
    let claimed = await this.deps.store.transition(
      jobId,
      'PROCESSING',
      { stage: 'starting', error_code: null, error_message: null, next_attempt_at: null },
      { countAttempt: true },
    );
    if (!claimed.ok && claimed.reason === 'refused' && claimed.current === 'PROCESSING') {
      log.warn(
        { event: 'job.recovered', stage: 'recovered' },
        'job was held by a lost worker; restarting it',
      );
      const lost = await this.deps.store.get(jobId);
      await this.recordAttempt(jobId, attempt - 1, 'WORKER_LOST', lost?.stage ?? null, null);
      await this.deps.store.transition(
        jobId,
        'QUEUED',
        { stage: 'recovered after worker loss' },
        { onlyFrom: ['PROCESSING'] },
      );
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
    fields: Partial<JobRecord> = {},
  ): Promise<void> {
    let cancelRequested = false;
    try {
      ({ cancelRequested } = await this.deps.store.reportProgress(jobId, update.progress, update.stage, {
        ...update.facts,
        ...fields,
      }));
    } catch (error) {
      // Progress is best effort: a Redis restart must not throw away the work in hand.
      log.warn({ event: 'job.progress_not_saved', ...errorFields(error) }, 'progress not saved');
      return;
    }
    log.debug({ event: 'job.progress', stage: update.stage, progress: update.progress }, 'progress');
    // Backstop for a missed pub/sub message: the flag in the record is authoritative.
    if (cancelRequested && !controller.signal.aborted) controller.abort(new CancelledSignal());
  }

  private async recordFailure(
    record: JobRecord,
    error: unknown,
    controller: AbortController,
    context: {
      attempt: number;
      log: Logger;
      bullJob: BullJob;
      token: string | undefined;
      failedAfterSec: number;
    },
  ): Promise<void> {
    const { attempt, log, bullJob, token } = context;
    const labels: JobLabels = {
      queue: bullJob.queueName,
      job_type: record.job_type,
      engine: record.engine ?? record.ocr_options?.engine ?? null,
    };
    if (controller.signal.reason instanceof CancelledSignal) {
      await retryRedisWrite(
        () =>
          this.deps.store.transition(record.job_id, 'CANCELLED', {
            stage: 'cancelled',
            error_code: 'JOB_CANCELLED',
            error_message: ERROR_CATALOG.JOB_CANCELLED.message.en,
          }),
        log,
        'cancellation',
      );
      this.metrics.cancelled(labels);
      log.info({ event: 'job.transition', from: 'PROCESSING', to: 'CANCELLED' }, 'job cancelled');
      return;
    }
    if (controller.signal.reason instanceof ShutdownSignal) {
      await this.releaseAtShutdown(record.job_id, log, bullJob, token);
      return;
    }
    const appError: AppError = classifyError(error);
    const decision = this.deps.retryPolicy.decide(appError, attempt);
    // Like the final outcome, every write of a failed attempt waits out a Redis restart: a lost
    // retry transition would leave the job PROCESSING until the lock expired.
    const current = await retryRedisWrite(() => this.deps.store.get(record.job_id), log, 'failure read');
    const failedStage = current?.stage ?? record.stage;
    // One clock reading for the failure and its retry, so the history holds the exact delay drawn.
    const failedAt = Date.now();
    const nextAt = decision.retry ? failedAt + decision.delayMs : null;
    await retryRedisWrite(
      () =>
        this.recordAttempt(record.job_id, attempt, appError.code, failedStage, appError.message, {
          at: failedAt,
          nextAt,
        }),
      log,
      'attempt history',
    );
    log.error(
      {
        event: 'job.attempt_failed',
        error_code: appError.code,
        error_class: decision.errorClass,
        will_retry: decision.retry,
        ...(decision.retry ? { retry_delay_ms: decision.delayMs } : {}),
        ...errorFields(error),
      },
      'attempt failed',
    );
    if (decision.retry && nextAt !== null) {
      this.metrics.retried(labels, appError.code);
      const moved = await retryRedisWrite(
        () =>
          this.deps.store.transition(
            record.job_id,
            'QUEUED',
            {
              stage: `retry scheduled (${decision.nextAttempt}/${decision.maxAttempts})`,
              error_code: appError.code,
              error_message: appError.message,
              next_attempt_at: new Date(nextAt).toISOString(),
            },
            { onlyFrom: ['PROCESSING'] },
          ),
        log,
        'retry',
      );
      log.info(
        {
          event: 'job.retry_scheduled',
          error_code: appError.code,
          next_attempt: decision.nextAttempt,
          max_attempts: decision.maxAttempts,
          delay_ms: decision.delayMs,
          applied: moved.ok,
        },
        'retry scheduled',
      );
      // The job stays on its queue, delayed: BullMQ hands it out again when the delay is over.
      // Not retried here: BullMQ's refusals (a lost lock) are plain errors too. If this fails the
      // entry stays active until its lock expires and stalled detection hands it out again.
      await bullJob.moveToDelayed(nextAt, token);
      throw new DelayedError();
    }
    const failed = await retryRedisWrite(
      () =>
        this.deps.store.transition(
          record.job_id,
          'FAILED',
          {
            stage: 'failed',
            error_code: appError.code,
            error_message: appError.message,
            next_attempt_at: null,
          },
          {
            onlyFrom: ['PROCESSING'],
            deadLetter: this.deadLetterOf(current ?? record, bullJob.queueName, {
              code: appError.code,
              message: appError.message,
              failedStage,
            }),
          },
        ),
      log,
      'failure',
    );
    if (failed.ok) {
      this.metrics.failed(labels, appError.code, context.failedAfterSec);
      this.logDeadLettered(record, appError.code);
      await this.removeOutputs(record.job_id);
      log.info(
        {
          event: 'job.transition',
          from: 'PROCESSING',
          to: 'FAILED',
          error_code: appError.code,
          error_class: decision.errorClass,
        },
        'job failed',
      );
    }
    throw new UnrecoverableError(appError.code);
  }

  /**
   * The worker stops before the job finished: hand it back to the queue at once for another worker
   * (its checkpoints let it resume). Not a failure: no error is recorded and it never ends FAILED.
   */
  private async releaseAtShutdown(
    jobId: string,
    log: Logger,
    bullJob: BullJob,
    token: string | undefined,
  ): Promise<void> {
    const released = await this.deps.store.transition(
      jobId,
      'QUEUED',
      { stage: 'released by a stopping worker', next_attempt_at: null },
      { onlyFrom: ['PROCESSING'] },
    );
    log.warn({ event: 'job.released', applied: released.ok }, 'job handed back at shutdown');
    await bullJob.moveToDelayed(Date.now(), token);
    throw new DelayedError();
  }

  private async recordAttempt(
    jobId: string,
    attempt: number,
    code: ErrorCode,
    stage: string | null,
    message: string | null,
    times: { at: number; nextAt: number | null } = { at: Date.now(), nextAt: null },
  ): Promise<void> {
    await this.deps.deadLetters.appendAttempt(jobId, {
      kind: 'failed',
      attempt,
      at: new Date(times.at).toISOString(),
      next_attempt_at: times.nextAt === null ? null : new Date(times.nextAt).toISOString(),
      error_code: code,
      error_class: ERROR_CATALOG[code].errorClass,
      error_message: message ?? ERROR_CATALOG[code].message.en,
      stage,
      worker_id: this.deps.workerId,
      request_id: null,
    });
  }

  /**
   * The dead letter of a job about to end FAILED (why, where, the original request); it is stored
   * by the FAILED transition itself, so a FAILED job always has one.
   */
  private deadLetterOf(
    record: JobRecord,
    queue: string,
    failure: { code: ErrorCode; message: string; failedStage: string | null },
  ): Omit<DeadLetter, 'failed_at' | 'attempt_history'> {
    return {
      job_id: record.job_id,
      queue,
      error_code: failure.code,
      error_class: ERROR_CATALOG[failure.code].errorClass,
      error_message: failure.message,
      attempts: record.attempts,
      failed_stage: failure.failedStage,
      engine: record.engine ?? record.ocr_options?.engine ?? null,
      worker_id: this.deps.workerId,
      request: {
        job_type: record.job_type,
        content_subtype: record.content_subtype,
        language: record.language,
        input_filename: record.input_filename,
        request_id: record.request_id,
      },
    };
  }

  /**
   * A FAILED job has no outputs: anything an earlier attempt wrote before it was killed (or a temp
   * file it left) is removed, so a failed job leaves no orphaned file. A replay writes them anew.
   */
  private async removeOutputs(jobId: string): Promise<void> {
    await this.deps.storage.deletePrefix(`jobs/${jobId}/output/`).catch((error: unknown) => {
      this.deps.logger.warn(
        { event: 'job.outputs_cleanup_failed', job_id: jobId, ...errorFields(error) },
        'outputs of a failed job could not be removed',
      );
    });
  }

  private logDeadLettered(record: JobRecord, code: ErrorCode): void {
    this.deps.logger.warn(
      { event: 'job.dead_lettered', job_id: record.job_id, request_id: record.request_id, error_code: code },
      'job dead-lettered',
    );
  }

  /** A job BullMQ gave up on by itself (stalled too often): FAILED with WORKER_LOST and a dead letter. */
  async failLostJob(jobId: string, queue: string, message: string): Promise<void> {
    const current = await this.deps.store.get(jobId);
    // Also called for jobs our processor already finished (it throws UnrecoverableError after FAILED).
    if (current?.status !== 'PROCESSING' && current?.status !== 'QUEUED') return;
    // The attempt goes into the history first: the dead letter shows the history as it is when read.
    await this.recordAttempt(jobId, current.attempts, 'WORKER_LOST', current.stage, message);
    const result = await this.deps.store.transition(
      jobId,
      'FAILED',
      { stage: 'failed', error_code: 'WORKER_LOST', error_message: message, next_attempt_at: null },
      {
        onlyFrom: ['PROCESSING', 'QUEUED'],
        deadLetter: this.deadLetterOf(current, queue, {
          code: 'WORKER_LOST',
          message,
          failedStage: current.stage,
        }),
      },
    );
    if (!result.ok) return;
    if (current) this.metrics.failed({ queue, job_type: current.job_type }, 'WORKER_LOST', null);
    this.logDeadLettered(current, 'WORKER_LOST');
    await this.removeOutputs(jobId);
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

/** This attempt is no longer the job's current one: it must leave no effects. */
class SupersededAttempt extends Error {
  constructor(readonly current: JobRecord | null) {
    super('attempt superseded by another worker');
    this.name = 'SupersededAttempt';
  }
}
