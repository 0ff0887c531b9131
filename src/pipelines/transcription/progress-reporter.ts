import type { ProgressUpdate } from '../pipeline.js';

/**
 * Sends progress without making the engine wait for storage: one update in flight at a time,
 * later ones coalesced (latest wins, facts and engine kept), and never a lower figure than one already sent.
 */
export class ProgressReporter {
  private lastProgress = Number.NEGATIVE_INFINITY;
  private lastStage = '';
  private pending: ProgressUpdate | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly send: (update: ProgressUpdate) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  report(update: ProgressUpdate): void {
    if (update.progress < this.lastProgress) return;
    if (update.progress === this.lastProgress && update.stage === this.lastStage && !update.facts) return;
    this.lastProgress = update.progress;
    this.lastStage = update.stage;
    const facts =
      this.pending?.facts || update.facts ? { ...this.pending?.facts, ...update.facts } : undefined;
    const engine = update.engine ?? this.pending?.engine;
    this.pending = { ...update, ...(facts ? { facts } : {}), ...(engine ? { engine } : {}) };
    this.kick();
  }

  /** Resolves once every reported update has been sent (or has failed and been passed to `onError`). */
  async flush(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight;
  }

  private kick(): void {
    if (this.inFlight || !this.pending) return;
    // Cleared in a callback, never synchronously, so `inFlight` cannot be left pointing at a finished run.
    this.inFlight = this.drain().finally(() => {
      this.inFlight = null;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const next = this.pending;
      this.pending = null;
      try {
        await this.send(next);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
