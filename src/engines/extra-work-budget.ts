/** What an extra engine call is for: the log and the error say which re-read used the budget up. */
export type ExtraWorkKind = 'ocr_psm_retry' | 'ocr_empty_answer_retry' | 'transcription_strict_rerun';

/**
 * A job's budget of extra engine calls (a page read again, a chunk run again), so no job loops
 * expensively. Engines and pipelines ask before each such call; the worker keeps the count.
 */
export interface ExtraWorkBudget {
  /** The job's size in pages or chunks, once known: the budget grows with it. */
  setUnits(units: number): void;
  /** Takes one call from the budget; fails with EXTRA_WORK_BUDGET_EXHAUSTED when none is left. */
  spend(kind: ExtraWorkKind): Promise<void>;
  /** False when a feature flag turned this kind of extra work off: skip it (absent: allowed). */
  allows?(kind: ExtraWorkKind): boolean;
}
