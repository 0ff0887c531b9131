import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../jobs/redis-keys.js';

/** What a user sees of a key: never the key itself after creation. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** The first characters of the key, to tell keys apart (`dt_AbC12xYz`). */
  prefix: string;
  created_at: string;
  last_used_at: string | null;
}

export interface ApiKeyOwner {
  userId: string;
  /** The verified email of the owner when created, so the access lists still apply to the key. */
  email: string | null;
}

export const API_KEY_PREFIX = 'dt_';
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
const TOUCH_INTERVAL_SEC = 60;

/** Writes `last_used_at` at most once a minute per key, and never on a revoked key. */
const TOUCH_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
  return 1
end
return 0`;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function toView(fields: Record<string, string>): ApiKeyView {
  return {
    id: fields.id ?? '',
    name: fields.name ?? '',
    prefix: fields.prefix ?? '',
    created_at: fields.created_at ?? '',
    last_used_at: fields.last_used_at || null,
  };
}

/**
 * API keys for scripts: `dt_` + 32 random bytes (base64url), stored only as their sha256 (a key
 * has 256 bits of entropy, so a fast hash is enough), under the user who created them.
 */
export class ApiKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async create(owner: ApiKeyOwner, name: string): Promise<{ key: string; view: ApiKeyView }> {
    const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const keyHash = hashApiKey(key);
    const view: ApiKeyView = {
      id: randomUUID(),
      name,
      prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
      created_at: new Date().toISOString(),
      last_used_at: null,
    };
    await this.redis
      .multi()
      .hset(this.keys.apiKey(keyHash), {
        id: view.id,
        name: view.name,
        prefix: view.prefix,
        created_at: view.created_at,
        last_used_at: '',
        user_id: owner.userId,
        email: owner.email ?? '',
      })
      .hset(this.keys.userApiKeys(owner.userId), view.id, keyHash)
      .exec();
    return { key, view };
  }

  async list(userId: string): Promise<ApiKeyView[]> {
    const hashes = Object.values(await this.redis.hgetall(this.keys.userApiKeys(userId)));
    const pipeline = this.redis.pipeline();
    for (const keyHash of hashes) pipeline.hgetall(this.keys.apiKey(keyHash));
    const results = (await pipeline.exec()) ?? [];
    return results
      .map(([, fields]) => fields as Record<string, string>)
      .filter((fields) => fields?.id)
      .map(toView)
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /** False when the user has no key with this id (someone else's key looks the same). */
  async revoke(userId: string, id: string): Promise<boolean> {
    const keyHash = await this.redis.hget(this.keys.userApiKeys(userId), id);
    if (!keyHash) return false;
    await this.redis
      .multi()
      .del(this.keys.apiKey(keyHash), this.keys.apiKeyTouched(keyHash))
      .hdel(this.keys.userApiKeys(userId), id)
      .exec();
    return true;
  }

  /** The owner of a presented key, or null for an unknown or revoked one; notes the use. */
  async authenticate(key: string): Promise<(ApiKeyOwner & { id: string }) | null> {
    if (!key.startsWith(API_KEY_PREFIX)) return null;
    const keyHash = hashApiKey(key);
    const fields = await this.redis.hgetall(this.keys.apiKey(keyHash));
    if (!fields.id || !fields.user_id) return null;
    await this.redis.eval(
      TOUCH_SCRIPT,
      2,
      this.keys.apiKey(keyHash),
      this.keys.apiKeyTouched(keyHash),
      new Date().toISOString(),
      TOUCH_INTERVAL_SEC,
    );
    return { id: fields.id, userId: fields.user_id, email: fields.email || null };
  }
}
