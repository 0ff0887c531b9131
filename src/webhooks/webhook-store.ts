import type { Redis } from 'ioredis';
import type { SavedWebhook, Webhook, WebhookDelivery } from '../contract/index.js';
import type { RedisKeys } from '../jobs/redis-keys.js';
import { newWebhookSecret } from './webhook-signature.js';

/** Finished deliveries kept per user for `GET /v1/webhook/deliveries`. */
const DELIVERIES_KEPT = 200;
/** Characters of the secret shown again later, to tell secrets apart. */
const SECRET_PREFIX_LENGTH = 12;

/** Each user's webhook (one URL and its signing secret) and the outcome of recent deliveries. */
export class WebhookStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Sets the user's URL; a signing secret is made on first use or when asked to rotate, and only
   * then returned. `url` null keeps only the secret (for per-job callbacks).
   */
  async save(ownerId: string, url: string | null, rotateSecret: boolean): Promise<SavedWebhook> {
    const key = this.keys.userWebhook(ownerId);
    const now = new Date().toISOString();
    const current = await this.redis.hgetall(key);
    const secret = !current.secret || rotateSecret ? newWebhookSecret() : null;
    const fields: Record<string, string> = { updated_at: now, url: url ?? '' };
    if (secret) fields.secret = secret;
    if (!current.created_at) fields.created_at = now;
    await this.redis.hset(key, fields);
    const saved = await this.redis.hgetall(key);
    return { ...toWebhook(saved), secret };
  }

  async get(ownerId: string): Promise<Webhook | null> {
    const hash = await this.redis.hgetall(this.keys.userWebhook(ownerId));
    return hash.secret ? toWebhook(hash) : null;
  }

  /** Where and with what to sign the user's deliveries; the secret never leaves the service. */
  async signingTarget(ownerId: string): Promise<{ url: string | null; secret: string } | null> {
    const [url, secret] = await this.redis.hmget(this.keys.userWebhook(ownerId), 'url', 'secret');
    return secret ? { url: url || null, secret } : null;
  }

  async remove(ownerId: string): Promise<boolean> {
    return (await this.redis.del(this.keys.userWebhook(ownerId))) === 1;
  }

  async recordDelivery(ownerId: string, delivery: WebhookDelivery): Promise<void> {
    const key = this.keys.userWebhookDeliveries(ownerId);
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(delivery))
      .ltrim(key, 0, DELIVERIES_KEPT - 1)
      .exec();
  }

  async deliveries(ownerId: string, limit = 50): Promise<WebhookDelivery[]> {
    const items = await this.redis.lrange(this.keys.userWebhookDeliveries(ownerId), 0, limit - 1);
    return items.map((item) => JSON.parse(item) as WebhookDelivery);
  }
}

function toWebhook(hash: Record<string, string>): Webhook {
  return {
    url: hash.url || null,
    created_at: hash.created_at ?? '',
    updated_at: hash.updated_at ?? '',
    secret_prefix: (hash.secret ?? '').slice(0, SECRET_PREFIX_LENGTH),
  };
}
