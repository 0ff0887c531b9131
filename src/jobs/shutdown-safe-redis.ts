import { Redis, type RedisOptions } from 'ioredis';

/**
 * An ioredis client whose `disconnect()` always ends it, even between two reconnect attempts.
 *
 * ioredis's own `disconnect()` in status `reconnecting` clears the pending retry but, having no
 * socket to close, never emits `end`; BullMQ's `Worker.close()` waits for that `end` on its
 * blocking connection, so a shutdown during (or just after) a Redis outage used to hang for ever
 * (taskforcesh/bullmq#4656). Here the pending attempt is let start and its socket closed, which
 * ends the client within one retry delay (at most 2 s with ioredis's default strategy) whether
 * Redis is back or not. `duplicate()` keeps the class, so every connection BullMQ derives from
 * one of these (its blocking connection included) behaves the same.
 */
export class ShutdownSafeRedis extends Redis {
  override disconnect(reconnect = false): void {
    if (!reconnect && this.status === 'reconnecting') {
      this.once('connecting', () => super.disconnect(false));
      return;
    }
    super.disconnect(reconnect);
  }

  override duplicate(override?: Partial<RedisOptions>): ShutdownSafeRedis {
    return new ShutdownSafeRedis({ ...this.options, ...override });
  }
}

/**
 * Closes a connection at shutdown: `QUIT` when it is ready (commands sent before it are
 * answered first), otherwise at once, so a shutdown during an outage does not wait on commands
 * that cannot be sent.
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // The connection dropped while quitting: nothing is left to flush.
    }
  }
  client.disconnect();
}
