import { setTimeout as sleep } from 'node:timers/promises';
import { errorFields, type Logger } from './logger.js';

/** Named dependency checks; each resolves when its dependency answers and throws naming why not. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

export interface ReadinessReport {
  /** `starting` until every check has passed once since the process started. */
  status: 'ready' | 'not_ready' | 'starting';
  checks: Record<string, { ok: true } | { ok: false; error: string }>;
}

const CHECK_TIMEOUT_MS = 2_000;
const STARTUP_POLL_MS = 500;

function withTimeout(check: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
    check()
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

/**
 * Whether this process may take traffic or jobs: every configured dependency must have answered
 * once before it is ever `ready` (`readiness.waiting` → `readiness.ready`), and `/readyz` runs the
 * checks again on every call.
 */
export class Readiness {
  private readyOnce = false;
  private watching: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly checks: ReadinessChecks,
    private readonly logger: Logger,
  ) {}

  get names(): string[] {
    return Object.keys(this.checks);
  }

  /** `log` null: failures are not logged one by one (the startup watch logs `readiness.waiting`). */
  async report(log: Logger | null = this.logger): Promise<ReadinessReport> {
    const results = await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check);
          return [name, { ok: true as const }] as const;
        } catch (error) {
          log?.warn({ event: 'readiness.check_failed', check: name, ...errorFields(error) }, 'not ready');
          return [
            name,
            { ok: false as const, error: error instanceof Error ? error.message : String(error) },
          ] as const;
        }
      }),
    );
    const allOk = results.every(([, result]) => result.ok);
    if (allOk && !this.readyOnce) {
      this.readyOnce = true;
      this.logger.info({ event: 'readiness.ready', checks: this.names }, 'all dependencies answered: ready');
    }
    return {
      status: allOk ? 'ready' : this.readyOnce ? 'not_ready' : 'starting',
      checks: Object.fromEntries(results),
    };
  }

  /** At start: checks until all pass once, logging what is still awaited whenever that changes. */
  watchStartup(): Promise<void> {
    this.watching ??= (async () => {
      let lastWaiting = '';
      while (!this.readyOnce && !this.stopped) {
        const report = await this.report(null);
        if (report.status === 'ready') return;
        const waiting = Object.entries(report.checks)
          .filter(([, result]) => !result.ok)
          .map(([name]) => name);
        if (waiting.join(',') !== lastWaiting) {
          lastWaiting = waiting.join(',');
          this.logger.warn({ event: 'readiness.waiting', waiting_for: waiting }, 'waiting for dependencies');
        }
        await sleep(STARTUP_POLL_MS);
      }
    })();
    return this.watching;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.watching;
  }
}
