import type { Redis } from 'ioredis';
import type { JobChangeNotice } from '../contract/index.js';
import { errorFields, type Logger } from '../observability/logger.js';
import type { RedisKeys } from './redis-keys.js';
import { closeRedis } from './shutdown-safe-redis.js';
import { compareStreamIds, isStreamId } from './stream-id.js';

export type JobChangeListener = (notice: JobChangeNotice) => void;

/** At most this many missed changes are replayed on reconnect; beyond that, clients resync. */
const REPLAY_LIMIT = 1000;

/**
 * Every job change, as the store announces it on one Redis pub/sub channel, fanned out to the
 * listeners of this process by owner. Any API replica sees the changes written by workers on any
 * machine. Missed changes are read back from the owner's event stream (`Last-Event-ID`).
 */
export class JobEventFeed {
  private readonly listeners = new Map<string, Set<JobChangeListener>>();

  constructor(
    private readonly subscriber: Redis,
    private readonly reader: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.keys.eventsChannel()) return;
      let notice: JobChangeNotice;
      try {
        notice = JSON.parse(message) as JobChangeNotice;
      } catch (error) {
        this.logger.warn({ event: 'events.bad_notice', ...errorFields(error) }, 'unreadable job notice');
        return;
      }
      for (const listener of this.listeners.get(notice.owner) ?? []) listener(notice);
    });
    await this.subscriber.subscribe(this.keys.eventsChannel());
  }

  /** Calls `listener` for each change of the owner's jobs until the returned function is called. */
  subscribe(ownerId: string, listener: JobChangeListener): () => void {
    let set = this.listeners.get(ownerId);
    if (!set) {
      set = new Set();
      this.listeners.set(ownerId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(ownerId);
    };
  }

  /**
   * The owner's changes after `lastEventId`, oldest first. `complete` is false when the stream
   * no longer reaches back that far (it keeps the newest changes only) or the id is unknown.
   */
  async missedSince(
    ownerId: string,
    lastEventId: string,
  ): Promise<{ notices: JobChangeNotice[]; complete: boolean }> {
    if (!isStreamId(lastEventId)) return { notices: [], complete: false };
    const key = this.keys.userEvents(ownerId);
    const [first] = (await this.reader.xrange(key, '-', '+', 'COUNT', 1)) as Array<[string, string[]]>;
    const entries = (await this.reader.xrange(key, `(${lastEventId}`, '+', 'COUNT', REPLAY_LIMIT)) as Array<
      [string, string[]]
    >;
    const trimmed = first !== undefined && compareStreamIds(first[0], lastEventId) > 0;
    const notices = entries.map(([id, fields]) => {
      const value = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
      return {
        owner: ownerId,
        job_id: value('job_id'),
        event_id: id,
        kind: value('kind') === 'deleted' ? 'deleted' : 'changed',
      } satisfies JobChangeNotice;
    });
    return { notices, complete: !trimmed && entries.length < REPLAY_LIMIT };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await closeRedis(this.subscriber);
  }
}
