/**
 * Delay before the next attempt of a delivery: exponential from `baseDelayMs`, capped, with equal
 * jitter (half fixed, half random) so receivers coming back from an outage are not hit by every
 * sender at once; a Retry-After the receiver sent is the floor.
 */
export function webhookRetryDelay(
  attemptsMade: number,
  options: { baseDelayMs: number; maxDelayMs: number; retryAfterMs?: number | null },
  random: () => number = Math.random,
): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = Math.round(exponential / 2 + random() * (exponential / 2));
  return Math.max(jittered, Math.min(options.retryAfterMs ?? 0, options.maxDelayMs));
}
