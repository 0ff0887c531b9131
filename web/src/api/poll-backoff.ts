/** Polling cadence: quick while jobs move, slower while nothing changes, slower still on errors. */
export const POLL_MIN_MS = 1_000;
export const POLL_IDLE_MAX_MS = 5_000;
export const POLL_ERROR_MAX_MS = 30_000;
/** Consecutive failed rounds after which polling stops and the page offers to reconnect. */
export const POLL_MAX_FAILED_ROUNDS = 6;

export type PollOutcome = 'changed' | 'unchanged' | 'failed';

export function nextPollDelay(previousMs: number, outcome: PollOutcome): number {
  switch (outcome) {
    case 'changed':
      return POLL_MIN_MS;
    case 'unchanged':
      return Math.min(POLL_IDLE_MAX_MS, Math.round(previousMs * 1.5));
    case 'failed':
      return Math.min(POLL_ERROR_MAX_MS, previousMs * 2);
  }
}
