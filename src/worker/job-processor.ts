import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { type Job as BullJob, DelayedError, UnrecoverableError } from 'bullmq';
import { type EngineDefaults, type ExtraWorkConfig, engineOfJob } from '../config/index.js';
import {
  type AppError,
  type AttemptEntry,
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
import type { JobStore, TransitionResult } from '../jobs/job-store.js';
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
  /** The engines of jobs that name none: the `engine` label of jobs that end before running one. */
  engineDefaults?: EngineDefaults;
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

    const record = await this.claim(payload.job_id, log);
    if (!record) return;
    const labels: JobLabels = { queue: bullJob.queueName, job_type: record.job_type };
    if (attempt === 1 && record.started_at) {
      this.metrics.queueWait(labels, (Date.parse(record.started_at) - Date.parse(record.created_at)) / 1000);
    }

    // Every write of this attempt carries its claim token: once another claim replaced it, they are refused.
    const claim = record.claim_token ?? '';
    const controller = this.deps.cancellations.register(record.job_id);
    if (record.cancel_requested) controller.abort(new CancelledSignal());
    const workDir = path.join(this.deps.tmpDir, `${record.job_id}-${attempt}`);
    const started = performance.now();
    let outcome: { result: PipelineResult; outputs: Partial<Record<OutputFormat, number>> } | undefined;
    let failure: unknown;
    const usage = new JobUsageCheck(this.deps.usage ?? { quota: null }, record, log);
    // Set once this attempt's claim is listed among the job's output claims (before any output write).
    const writes = { outputsRegistered: false };
    try {
      outcome = await this.runPipeline(
        record,
        workDir,
        controller,
        log,
        attempt >= maxAttempts,
        bullJob.queueName,
        usage,
        writes,
      );
    } catch (error) {
      // A job stopped by its usage check fails with the refusal, not with what the abort caused.
      failure = usage.failure ?? error;
    } finally {
      // Cleanup comes before the final status: a job reported finished has left nothing behind.
      this.deps.cancellations.release(record.job_id);
      await rm(workDir, { recursive: true, force: true });
    }
    const superseded =
      failure instanceof SupersededAttempt
        ? failure
        : controller.signal.reason instanceof SupersededAttempt
          ? controller.signal.reason
          : null;
    if (superseded) {
      // Another worker took the job over (this one lost its lock): its attempt is the one that counts.
      log.warn(
        { event: 'job.superseded', stage: superseded.current?.status ?? 'taken over' },
        'attempt superseded by another worker; nothing written',
      );
      if (writes.outputsRegistered) await this.removeOwnOutputs(record.job_id, claim, log);
      return;
    }
    if (!outcome) {
      const failedAfterSec = (performance.now() - started) / 1000;
      await this.recordFailure(record, failure, controller, {
        attempt,
        log,
        bullJob,
        token,
        failedAfterSec,
        outputsRegistered: writes.outputsRegistered,
      });
      return;
    }
    const { result, outputs } = outcome;
    const processingSec = Math.round((performance.now() - started) / 10) / 100;
    // Publishing the outputs is this one step: the COMPLETED transition, applied only while this
    // attempt's claim is the job's, makes the outputs under that claim the job's result.
    const done = await retryRedisWrite(
      () =>
        this.deps.store.transition(
          record.job_id,
          'COMPLETED',
          {
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
          },
          { claimToken: claim },
        ),
      log,
      'completion',
    );
    if (!done.ok && !(await this.alreadyCompletedByUs(record.job_id, claim, done))) {
      if (done.reason === 'stale') this.logStale(log, 'completion', done.current);
      else log.warn({ event: 'job.transition_refused', to: 'COMPLETED', result: done }, 'completion refused');
      await this.removeOwnOutputs(record.job_id, claim, log);
      return;
    }
    // The job's result is this claim's: what other claims of it wrote goes.
    await this.removeOtherClaimsOutputs(record.job_id, log);
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
    writes: { outputsRegistered: boolean },
  ): Promise<{ result: PipelineResult; outputs: Partial<Record<OutputFormat, number>> }> {
    const claim = record.claim_token ?? '';
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
            await this.saveProgress(record.job_id, record.claim_token ?? '', update, controller, log, fields);
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
          {
            claimToken: claim,
            // Another claim holds the job: this run spends nothing of its budget and stops.
            onStale: () => {
              if (!controller.signal.aborted) {
                this.logStale(log, 'extra_work', 'taken over');
                controller.abort(new SupersededAttempt(null));
              }
              const reason: unknown = controller.signal.reason;
              return reason instanceof Error ? reason : new SupersededAttempt(null);
            },
          },
        ),
      },
    );
    if (controller.signal.aborted) throw controller.signal.reason;
    await this.registerOutputs(record);
    writes.outputsRegistered = true;

    const outputs: Partial<Record<OutputFormat, number>> = {};
    for (const [format, body] of Object.entries(result.outputs) as Array<
      [OutputFormat, string | Buffer | Readable]
    >) {
      const stored = await this.deps.storage.put(storageKeys.output(record.job_id, format, claim), body);
      outputs[format] = stored.sizeBytes;
    }
    return { result, outputs };
  }

  /**
   * At-least-once delivery can run a job twice (a worker that lost its lock keeps going while
   * another took the job over). Before its first output write, an attempt lists its claim among
   * the job's output claims, in one step with the check that the record is still PROCESSING under
   * that claim: an attempt already replaced writes nothing, and every `output/<claim>/` folder that
   * may exist is listed, so whoever settles the job (its completer, a failing run, the reconciler)
   * can remove those of other claims. (The COMPLETED write checks the claim atomically again.)
   */
  private async registerOutputs(record: JobRecord): Promise<void> {
    if (!(await this.deps.store.registerOutputClaim(record.job_id, record.claim_token ?? ''))) {
      throw new SupersededAttempt(await this.deps.store.get(record.job_id));
    }
  }

  /**
   * A COMPLETED write refused because the job is already COMPLETED under this very claim: an
   * earlier try of the same write applied but its answer was lost (a Redis blip). That is success.
   */
  private async alreadyCompletedByUs(jobId: string, claim: string, result: TransitionResult) {
    if (result.ok || result.reason !== 'refused' || result.current !== 'COMPLETED' || claim === '')
      return false;
    return (await this.deps.store.get(jobId))?.claim_token === claim;
  }

  /**
   * A stale attempt's outputs (under its own claim's keys) are removed and its claim leaves the
   * job's output claims (this run writes nothing more); the winner's are untouched. If the removal
   * fails the claim stays listed, and the job's completer or the reconciler removes them.
   */
  private async removeOwnOutputs(jobId: string, claim: string, log: Logger): Promise<void> {
    if (claim === '') return;
    try {
      await this.deps.storage.deletePrefix(storageKeys.outputPrefix(jobId, claim));
      await this.deps.store.settleOutputClaims(jobId, [claim]);
    } catch (error) {
      log.warn(
        { event: 'job.outputs_cleanup_failed', ...errorFields(error) },
        'outputs of a superseded attempt could not be removed',
      );
    }
  }

  /**
   * Once this attempt's COMPLETED applied: the outputs every other claim of the job wrote (a run
   * killed after writing some, a superseded run that may still be finishing) are removed. With no
   * other claim listed the job is settled at once; otherwise those claims stay listed, and the
   * reconciler removes what a superseded run may still write after its grace period.
   */
  private async removeOtherClaimsOutputs(jobId: string, log: Logger): Promise<void> {
    try {
      const claims = await this.deps.store.settleOutputClaims(jobId);
      if (claims.settled || !claims.final || claims.others.length === 0) return;
      for (const other of claims.others) {
        await this.deps.storage.deletePrefix(storageKeys.outputPrefix(jobId, other));
      }
      log.info(
        { event: 'job.stale_outputs_removed', claims: claims.others },
        'outputs of other attempts removed',
      );
    } catch (error) {
      log.warn(
        { event: 'job.outputs_cleanup_failed', ...errorFields(error) },
        'outputs of other attempts could not be removed; the reconciler will',
      );
    }
  }

  private logStale(log: Logger, write: string, current: string): void {
    log.warn(
      { event: 'job.stale_attempt', write, current_status: current },
      'write of a superseded attempt refused; this run stops',
    );
  }

  /**
   * QUEUED → PROCESSING under a new claim token. A job found PROCESSING was held by a worker that
   * died (or lost its lock): that claim is handed back first (PROCESSING → QUEUED) and recorded as a
   * WORKER_LOST attempt in the same atomic step, only while it is still the job's claim, so one lost
   * attempt is recorded once, whoever else claims concurrently and wherever this worker dies.
   */
  private async claim(jobId: string, log: Logger): Promise<JobRecord | null> {
    const claimToken = randomUUID();
    const take = () =>
      this.deps.store.transition(
        jobId,
        'PROCESSING',
        {
          stage: 'starting',
          error_code: null,
          error_message: null,
          next_attempt_at: null,
          claim_token: claimToken,
        },
        { countAttempt: true },
      );
    let claimed = await take();
    for (let round = 0; round < 3; round++) {
      if (claimed.ok || claimed.reason !== 'refused' || claimed.current !== 'PROCESSING') break;
      const lost = await this.deps.store.get(jobId);
      if (lost?.status === 'PROCESSING') {
        log.warn(
          { event: 'job.recovered', stage: 'recovered' },
          'job was held by a lost worker; restarting it',
        );
        await this.deps.store.transition(
          jobId,
          'QUEUED',
          { stage: 'recovered after worker loss' },
          {
            onlyFrom: ['PROCESSING'],
            ...(lost.claim_token ? { claimToken: lost.claim_token } : {}),
            attemptEntry: this.attemptEntry(lost.attempts, 'WORKER_LOST', lost.stage, null),
          },
        );
      }
      claimed = await take();
    }
    if (!claimed.ok) {
      log.info(
        { event: 'job.skipped', result: claimed },
        'job not claimable (cancelled, finished or deleted)',
      );
      return null;
    }
    log.info({ event: 'job.transition', from: claimed.from, to: 'PROCESSING' }, 'job claimed');
    const record = await this.deps.store.get(jobId);
    // Claimed and at once taken over by another worker: that one runs it.
    return record?.claim_token === claimToken ? record : null;
  }

  private async saveProgress(
    jobId: string,
    claim: string,
    update: ProgressUpdate,
    controller: AbortController,
    log: Logger,
    fields: Partial<JobRecord> = {},
  ): Promise<void> {
    let cancelRequested = false;
    try {
      let stale: boolean;
      ({ cancelRequested, stale } = await this.deps.store.reportProgress(
        jobId,
        update.progress,
        update.stage,
        { ...update.facts, ...fields },
        claim,
      ));
      if (stale && !controller.signal.aborted) {
        // Another claim took the job over: this run stops quietly, the other one counts.
        this.logStale(log, 'progress', 'taken over');
        controller.abort(new SupersededAttempt(null));
        return;
      }
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
      /** This attempt listed its claim among the job's output claims (it may have written outputs). */
      outputsRegistered: boolean;
    },
  ): Promise<void> {
    const { attempt, log, bullJob, token } = context;
    const claim = record.claim_token ?? '';
    const labels = this.labelsOf(record, bullJob.queueName);
    if (controller.signal.reason instanceof CancelledSignal) {
      const cancelled = await retryRedisWrite(
        () =>
          this.deps.store.transition(
            record.job_id,
            'CANCELLED',
            {
              stage: 'cancelled',
              error_code: 'JOB_CANCELLED',
              error_message: ERROR_CATALOG.JOB_CANCELLED.message.en,
            },
            { claimToken: claim },
          ),
        log,
        'cancellation',
      );
      if (!cancelled.ok && cancelled.reason === 'stale') {
        this.logStale(log, 'cancellation', cancelled.current);
        if (context.outputsRegistered) await this.removeOwnOutputs(record.job_id, claim, log);
        return;
      }
      // A cancelled job has no outputs: those of every claim go.
      if (cancelled.ok) await this.removeOutputs(record.job_id, claim, log);
      this.metrics.cancelled(labels);
      log.info({ event: 'job.transition', from: 'PROCESSING', to: 'CANCELLED' }, 'job cancelled');
      return;
    }
    if (controller.signal.reason instanceof ShutdownSignal) {
      await this.releaseAtShutdown(record.job_id, claim, log, bullJob, token, context.outputsRegistered);
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
    // The attempt goes into the history in the same atomic step as the status change that ends it,
    // and only if this attempt's claim is still the job's: a superseded run records nothing.
    const attemptEntry = this.attemptEntry(attempt, appError.code, failedStage, appError.message, {
      at: failedAt,
      nextAt,
    });
    // Logged once the attempt's end is recorded: a stale run's failure is not this job's.
    const logFailed = () =>
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
            { onlyFrom: ['PROCESSING'], claimToken: claim, attemptEntry },
          ),
        log,
        'retry',
      );
      if (!moved.ok && moved.reason === 'stale') {
        // The job is another claim's now: its BullMQ entry is not ours to move.
        this.logStale(log, 'retry', moved.current);
        if (context.outputsRegistered) await this.removeOwnOutputs(record.job_id, claim, log);
        return;
      }
      logFailed();
      this.metrics.retried(labels, appError.code);
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
            claimToken: claim,
            attemptEntry,
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
    if (!failed.ok && failed.reason === 'stale') {
      this.logStale(log, 'failure', failed.current);
      if (context.outputsRegistered) await this.removeOwnOutputs(record.job_id, claim, log);
      return;
    }
    logFailed();
    if (failed.ok) {
      this.metrics.failed(labels, appError.code, context.failedAfterSec);
      this.logDeadLettered(record, appError.code);
      await this.removeOutputs(record.job_id, claim, log);
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
    claim: string,
    log: Logger,
    bullJob: BullJob,
    token: string | undefined,
    outputsRegistered: boolean,
  ): Promise<void> {
    const released = await this.deps.store.transition(
      jobId,
      'QUEUED',
      { stage: 'released by a stopping worker', next_attempt_at: null },
      { onlyFrom: ['PROCESSING'], claimToken: claim },
    );
    if (!released.ok && released.reason === 'stale') {
      this.logStale(log, 'release', released.current);
      if (outputsRegistered) await this.removeOwnOutputs(jobId, claim, log);
      return;
    }
    log.warn({ event: 'job.released', applied: released.ok }, 'job handed back at shutdown');
    await bullJob.moveToDelayed(Date.now(), token);
    throw new DelayedError();
  }

  /** An attempt-history entry, appended by the transition that ends the attempt. */
  private attemptEntry(
    attempt: number,
    code: ErrorCode,
    stage: string | null,
    message: string | null,
    times: { at: number; nextAt: number | null } = { at: Date.now(), nextAt: null },
  ): AttemptEntry {
    return {
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
    };
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
      // The engine that ran (with its version), else the one the job would run with (asked or default).
      engine: engineOfJob(record, this.deps.engineDefaults),
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
   * A FAILED or CANCELLED job has no outputs: anything any attempt wrote (one killed after writing
   * some, or a temp file it left) is removed, so it leaves no orphaned file; `ownClaim` (the
   * attempt ending the job, which writes nothing more) leaves the job's output claims. Claims of
   * other attempts stay listed for the reconciler, which removes what a superseded run may still
   * write. A replay writes outputs anew.
   */
  private async removeOutputs(jobId: string, ownClaim: string | null, log: Logger): Promise<void> {
    try {
      await this.deps.storage.deletePrefix(storageKeys.outputPrefix(jobId));
      const claims = await this.deps.store.settleOutputClaims(jobId, ownClaim ? [ownClaim] : []);
      if (!claims.settled && claims.others.length > 0) {
        log.info(
          { event: 'job.stale_outputs_removed', claims: claims.others },
          'outputs of other attempts removed',
        );
      }
    } catch (error) {
      log.warn(
        { event: 'job.outputs_cleanup_failed', ...errorFields(error) },
        'outputs of a failed or cancelled job could not be removed',
      );
    }
  }

  private labelsOf(record: JobRecord, queue: string): JobLabels {
    return { queue, job_type: record.job_type, engine: engineOfJob(record, this.deps.engineDefaults) };
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
    // The attempt goes into the history in the FAILED step itself, and only while the claim read
    // here is still the job's (a worker that took it over meanwhile keeps it).
    const result = await this.deps.store.transition(
      jobId,
      'FAILED',
      { stage: 'failed', error_code: 'WORKER_LOST', error_message: message, next_attempt_at: null },
      {
        onlyFrom: ['PROCESSING', 'QUEUED'],
        ...(current.claim_token ? { claimToken: current.claim_token } : {}),
        attemptEntry: this.attemptEntry(current.attempts, 'WORKER_LOST', current.stage, message),
        deadLetter: this.deadLetterOf(current, queue, {
          code: 'WORKER_LOST',
          message,
          failedStage: current.stage,
        }),
      },
    );
    if (!result.ok) return;
    this.metrics.failed(this.labelsOf(current, queue), 'WORKER_LOST', null);
    this.logDeadLettered(current, 'WORKER_LOST');
    // The lost run's claim stays listed: only the reconciler knows when it can write no more.
    await this.removeOutputs(jobId, null, this.deps.logger.child({ job_id: jobId, queue }));
  }
}

/** The job's stored transcription options in the pipeline's terms. */
function toPipelineTranscriptionOptions(options: TranscriptionOptions | undefined): TranscriptionJobOptions {
  return {
    ...(options?.engine === undefined ? {} : { engine: options.engine }),
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
