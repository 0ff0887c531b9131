import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** During an outage a connection fails every reconnect attempt; one line per interval is enough. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Logs a Redis connection's errors (rate-limited) and its recovery. Every ioredis client needs an
 * error listener: without one, each failed reconnect is printed as an unhandled error event.
 */
export function watchRedisConnection<T extends Redis>(client: T, logger: Logger, connection: string): T {
  let lastLogged = 0;
  let failing = false;
  client.on('error', (error: NodeJS.ErrnoException) => {
    failing = true;
    if (Date.now() - lastLogged < ERROR_LOG_INTERVAL_MS) return;
    lastLogged = Date.now();
    logger.warn(
      { event: 'redis.error', connection, code: error.code, err_message: error.message },
      'Redis error',
    );
  });
  client.on('ready', () => {
    if (!failing) return;
    failing = false;
    lastLogged = 0;
    logger.info({ event: 'redis.reconnected', connection }, 'Redis connection restored');
  });
  return client;
}
