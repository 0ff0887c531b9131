import type { Redis } from 'ioredis';
import {
  FEATURE_FLAGS,
  FLAG_NAMES,
  type FlagDefaults,
  type FlagName,
  isFlagName,
} from '../config/feature-flags.js';
import { errorFields, type Logger } from '../observability/logger.js';
import { watchRedisConnection } from '../observability/watch-redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** Safety net for a missed pub/sub message (e.g. while the subscriber reconnected). */
const REFRESH_MS = 30_000;

export interface FlagState {
  name: FlagName;
  enabled: boolean;
  /** `override`: set by an administrator; `env`: FLAG_<NAME> or the registry default. */
  source: 'override' | 'env';
  default: boolean;
  description: string;
  owner: string;
}

/**
 * The feature flags as this process sees them: read synchronously from a cache, refreshed when an
 * override changes (Redis pub/sub) and every 30 s, so a change applies without a restart.
 */
export class FeatureFlagReader {
  private overrides = new Map<FlagName, boolean>();
  private subscriber: Redis | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly defaults: FlagDefaults,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const subscriber = watchRedisConnection(this.redis.duplicate(), this.logger, 'feature-flags');
    subscriber.on('message', (channel: string) => {
      if (channel === this.keys.featureFlagsChannel()) void this.refresh();
    });
    await subscriber.subscribe(this.keys.featureFlagsChannel());
    this.subscriber = subscriber;
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  isEnabled(name: FlagName): boolean {
    return this.overrides.get(name) ?? this.defaults[name];
  }

  list(): FlagState[] {
    return FLAG_NAMES.map((name) => ({
      name,
      enabled: this.isEnabled(name),
      source: this.overrides.has(name) ? 'override' : 'env',
      default: this.defaults[name],
      description: FEATURE_FLAGS[name].description,
      owner: FEATURE_FLAGS[name].owner,
    }));
  }

  /** Overrides a flag for every process; `null` deletes the override (back to the env value). */
  async set(name: FlagName, enabled: boolean | null): Promise<void> {
    const multi = this.redis.multi();
    if (enabled === null) multi.hdel(this.keys.featureFlags(), name);
    else multi.hset(this.keys.featureFlags(), name, String(enabled));
    await multi.publish(this.keys.featureFlagsChannel(), name).exec();
    await this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const hash = await this.redis.hgetall(this.keys.featureFlags());
      const next = new Map<FlagName, boolean>();
      for (const [name, value] of Object.entries(hash))
        if (isFlagName(name)) next.set(name, value === 'true');
      for (const name of FLAG_NAMES) {
        const before = this.overrides.get(name) ?? this.defaults[name];
        const after = next.get(name) ?? this.defaults[name];
        if (before !== after)
          this.logger.info(
            {
              event: 'feature_flag.applied',
              flag: name,
              enabled: after,
              source: next.has(name) ? 'override' : 'env',
            },
            `feature flag ${name} ${after ? 'on' : 'off'}`,
          );
      }
      this.overrides = next;
    } catch (error) {
      // Keep the last known values: a Redis hiccup must not flip flags back to their defaults.
      this.logger.warn(
        { event: 'feature_flag.refresh_failed', ...errorFields(error) },
        'flags not refreshed',
      );
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.subscriber?.quit();
  }
}
