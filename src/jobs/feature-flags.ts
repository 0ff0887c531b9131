import type { Redis } from 'ioredis';
import {
  FEATURE_FLAG_NAMES,
  FEATURE_FLAGS,
  type FeatureFlagName,
  featureFlagEnvName,
} from '../config/feature-flag-registry.js';
import { errorFields, type Logger } from '../observability/logger.js';
import type { RedisKeys } from './redis-keys.js';
import { closeRedis } from './shutdown-safe-redis.js';

/** One flag as the admin API shows it: its value now, and where that value comes from. */
export interface FeatureFlagState {
  name: FeatureFlagName;
  enabled: boolean;
  source: 'env' | 'override';
  /** The value at start (registry default, or `FLAG_<NAME>`). */
  start_value: boolean;
  env: string;
  description: string;
  owner: string;
  public: boolean;
}

/**
 * The feature flags of this process: start values from config, runtime overrides from a Redis
 * hash. Reads are synchronous from a cache, refreshed at once when any process announces a change
 * on the flags channel, and every `refreshMs` in case an announcement was missed (a reconnect).
 */
export class FeatureFlags {
  private overrides = new Map<FeatureFlagName, boolean>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    private readonly startValues: Record<FeatureFlagName, boolean>,
    private readonly refreshMs: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string) => {
      if (channel === this.keys.featureFlagsChannel()) void this.refresh();
    });
    await this.subscriber.subscribe(this.keys.featureFlagsChannel());
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  isEnabled(name: FeatureFlagName): boolean {
    return this.overrides.get(name) ?? this.startValues[name];
  }

  list(): FeatureFlagState[] {
    return FEATURE_FLAG_NAMES.map((name) => ({
      name,
      enabled: this.isEnabled(name),
      source: this.overrides.has(name) ? 'override' : 'env',
      start_value: this.startValues[name],
      env: featureFlagEnvName(name),
      description: FEATURE_FLAGS[name].description,
      owner: FEATURE_FLAGS[name].owner,
      public: FEATURE_FLAGS[name].public,
    }));
  }

  /** The flags the web page may know about (`GET /v1/config`). */
  publicValues(): Partial<Record<FeatureFlagName, boolean>> {
    return Object.fromEntries(
      FEATURE_FLAG_NAMES.filter((name) => FEATURE_FLAGS[name].public).map((name) => [
        name,
        this.isEnabled(name),
      ]),
    );
  }

  /** Overrides the flag in every process of the deployment, until cleared. */
  async set(name: FeatureFlagName, enabled: boolean): Promise<void> {
    await this.redis.hset(this.keys.featureFlagOverrides(), name, enabled ? '1' : '0');
    await this.announce();
  }

  /** Back to the start value (env or registry default) everywhere. */
  async clear(name: FeatureFlagName): Promise<void> {
    await this.redis.hdel(this.keys.featureFlagOverrides(), name);
    await this.announce();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await closeRedis(this.subscriber);
  }

  private async announce(): Promise<void> {
    await this.redis.publish(this.keys.featureFlagsChannel(), 'changed');
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    try {
      const stored = await this.redis.hgetall(this.keys.featureFlagOverrides());
      const next = new Map<FeatureFlagName, boolean>();
      for (const name of FEATURE_FLAG_NAMES) {
        if (stored[name] !== undefined) next.set(name, stored[name] === '1');
      }
      for (const name of FEATURE_FLAG_NAMES) {
        const before = this.overrides.get(name) ?? this.startValues[name];
        const after = next.get(name) ?? this.startValues[name];
        if (before !== after) {
          this.logger.info(
            {
              event: 'flag.applied',
              flag: name,
              enabled: after,
              source: next.has(name) ? 'override' : 'env',
            },
            `feature flag ${name} is now ${after ? 'on' : 'off'}`,
          );
        }
      }
      this.overrides = next;
    } catch (error) {
      // Keep the last known values: a Redis outage must not flip flags back.
      this.logger.warn(
        { event: 'flag.refresh_failed', ...errorFields(error) },
        'could not re-read feature flags',
      );
    }
  }
}
