import type { CostConfig } from '../config/index.js';
import { AppError, type JobWarning } from '../contract/index.js';
import { estimateCost, judgeCost } from '../jobs/intake-precheck.js';
import type { JobRecord } from '../jobs/job-record.js';
import { type JobUsage, measuredUsage, type UsageQuota } from '../jobs/usage-quota.js';
import type { Logger } from '../observability/logger.js';
import type { ProgressUpdate } from '../pipelines/pipeline.js';

/** What the worker applies once a job's real size is known. */
export interface UsageRules {
  /** Daily pages / audio minutes per user; null: none. */
  quota: UsageQuota | null;
  /** Engine prices and per-job thresholds (COST_*). */
  cost?: CostConfig | undefined;
}

/**
 * One attempt's check of the job against the cost thresholds and the daily quotas, made once the
 * pipeline reports what it measured (pages counted, duration from ffprobe) and before any engine
 * call: above COST_BLOCK_PER_JOB the job fails with COST_LIMIT_EXCEEDED; over the day's quota with
 * QUOTA_DAILY_PAGES / QUOTA_DAILY_AUDIO_MINUTES (nothing counted); otherwise its size is added to
 * the owner's day once per job (a retry or a re-run after a crash is not counted again), and a
 * price above COST_WARN_PER_JOB becomes a COST_HIGH warning on the job.
 */
export class JobUsageCheck {
  private judged = false;
  /** Why this attempt was stopped by the check (the worker records it as the attempt's failure). */
  failure: unknown = null;

  constructor(
    private readonly rules: UsageRules,
    private readonly record: JobRecord,
    private readonly log: Logger,
  ) {}

  /**
   * Judges the first update that carries the job's size. Returns fields to save with the update
   * (the job's warnings); when the job must stop, aborts the attempt with the refusal and throws it.
   */
  async judge(update: ProgressUpdate, controller: AbortController): Promise<Partial<JobRecord>> {
    if (this.judged) return {};
    const usage = measuredUsage(this.record.job_type, update.facts);
    if (!usage) return {};
    this.judged = true;
    try {
      return await this.apply(usage, update.engine ?? null);
    } catch (error) {
      this.failure = error;
      if (error instanceof AppError) {
        this.log.warn(
          { event: 'job.usage_refused', error_code: error.code, unit: usage.unit, amount: usage.amount },
          error.message,
        );
      }
      controller.abort(error);
      throw error;
    }
  }

  private async apply(usage: JobUsage, engine: string | null): Promise<Partial<JobRecord>> {
    const estimate = engine
      ? estimateCost(
          this.rules.cost,
          engine,
          usage.unit === 'pages' ? { page_count: usage.amount } : { duration_sec: usage.amount },
        )
      : null;
    const verdict = engine ? judgeCost(this.rules.cost, engine, estimate) : null;
    if (verdict?.code === 'COST_LIMIT_EXCEEDED') throw new AppError('COST_LIMIT_EXCEEDED', verdict.message);
    const counted = await this.rules.quota?.charge(this.record.owner_id, this.record.job_id, usage);
    if (counted) {
      this.log.info(
        { event: 'job.usage_counted', unit: usage.unit, amount: usage.amount },
        'job size added to the daily usage',
      );
    }
    if (verdict?.code !== 'COST_HIGH') return {};
    this.log.info({ event: 'job.warning_added', warning: verdict.code, cost: estimate }, verdict.message);
    return { warnings: withWarning(this.record.warnings, { code: 'COST_HIGH', message: verdict.message }) };
  }
}

/** The job's size in its quota's unit, from the first update that tells it. */
/** The job's warnings with this one, once per code (a retried attempt finds it already there). */
function withWarning(existing: readonly JobWarning[] | undefined, warning: JobWarning): JobWarning[] {
  return [...(existing ?? []).filter((w) => w.code !== warning.code), warning];
}
