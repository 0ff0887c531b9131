import type { FeatureFlagName } from '../config/feature-flag-registry.js';
import type { ExtraWorkConfig } from '../config/index.js';
import { AppError } from '../contract/index.js';
import type { ExtraWorkBudget, ExtraWorkKind } from '../engines/extra-work-budget.js';
import type { FeatureFlags } from '../jobs/feature-flags.js';
import type { JobStore } from '../jobs/job-store.js';
import { errorFields, type Logger } from '../observability/logger.js';

/** The feature flag that can turn each kind of extra work off. */
const FLAG_OF: Partial<Record<ExtraWorkKind, FeatureFlagName>> = {
  ocr_psm_retry: 'ocr_psm_retry',
  transcription_strict_rerun: 'transcription_repetition_rerun',
};

/** The attempt a budget spends for: its claim, and what to do once another claim holds the job. */
export interface BudgetAttempt {
  claimToken: string;
  /** Called when the job's record refused a spend under this claim; returns the error to throw. */
  onStale: () => Error;
}

/**
 * The budget of one job's extra engine calls: max(min, perUnit × pages or chunks). The count lives
 * in the job record, so retries and other workers continue it instead of starting afresh. Each
 * spend is counted only while the attempt's claim is the job's running one: a superseded attempt
 * (still running after another took the job over) cannot use up the budget of the one that counts.
 */
export class JobExtraWorkBudget implements ExtraWorkBudget {
  private units = 0;
  /** Calls counted here while Redis could not be reached: still held against the budget. */
  private uncounted = 0;
  private lastKnown: number;

  constructor(
    private readonly jobId: string,
    private readonly store: JobStore,
    private readonly config: ExtraWorkConfig,
    private readonly log: Logger,
    usedBefore = 0,
    private readonly flags: Pick<FeatureFlags, 'isEnabled'> | null = null,
    private readonly attempt: BudgetAttempt | null = null,
  ) {
    this.lastKnown = usedBefore;
  }

  get limit(): number {
    return Math.max(this.config.min, Math.ceil(this.config.perUnit * this.units));
  }

  setUnits(units: number): void {
    this.units = Math.max(this.units, units);
  }

  allows(kind: ExtraWorkKind): boolean {
    const flag = FLAG_OF[kind];
    if (!flag || !this.flags || this.flags.isEnabled(flag)) return true;
    this.log.info({ event: 'job.extra_work_skipped', kind, flag }, `extra work skipped: flag ${flag} is off`);
    return false;
  }

  async spend(kind: ExtraWorkKind): Promise<void> {
    let used: number;
    let stale = false;
    try {
      const counted = await this.store.spendExtraWork(this.jobId, this.attempt?.claimToken ?? '');
      stale = counted.stale;
      if (counted.used !== null) this.lastKnown = counted.used;
      used = this.lastKnown + this.uncounted;
    } catch (error) {
      // Redis away: keep counting here, so the bound holds even then.
      this.uncounted++;
      used = this.lastKnown + this.uncounted;
      this.log.warn(
        { event: 'job.extra_work_not_saved', kind, ...errorFields(error) },
        'extra work not saved',
      );
    }
    if (stale && this.attempt) throw this.attempt.onStale();
    const limit = this.limit;
    if (used > limit) {
      this.log.warn(
        { event: 'job.extra_work_exhausted', kind, used: used - 1, limit },
        'extra work budget used up',
      );
      throw new AppError(
        'EXTRA_WORK_BUDGET_EXHAUSTED',
        `The job needed more than ${limit} page re-reads or chunk re-runs.`,
        { details: { kind, limit } },
      );
    }
    this.log.debug({ event: 'job.extra_work', kind, used, limit }, 'extra engine call');
  }
}
