import { setTimeout as sleep } from 'node:timers/promises';
import { ReplyError } from 'ioredis';
import { errorFields, type Logger } from '../observability/logger.js';

/** How long a worker keeps trying to record a finished job's outcome while Redis is away. */
const OUTCOME_WRITE_DEADLINE_MS = 120_000;
const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;

/**
 * Runs a Redis write again (with capped exponential backoff) while the connection is down, so work
 * done during a Redis restart is not thrown away. Errors Redis itself answered (ReplyError) and
 * anything after the deadline are passed on.
 */
export async function retryRedisWrite<T>(
  write: () => Promise<T>,
  log: Logger,
  what: string,
  deadlineMs = OUTCOME_WRITE_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let delay = FIRST_DELAY_MS;
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if (error instanceof ReplyError || Date.now() + delay > deadline) throw error;
      log.warn(
        { event: 'redis.write_retry', what, delay_ms: delay, ...errorFields(error) },
        'Redis write failed; retrying',
      );
      await sleep(delay);
      delay = Math.min(MAX_DELAY_MS, delay * 2);
    }
  }
}
