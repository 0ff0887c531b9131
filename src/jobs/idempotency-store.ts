import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

export type IdempotencyClaim =
  | { kind: 'claimed' }
  | { kind: 'in_progress' }
  | { kind: 'completed'; jobId: string; fingerprint: string };

interface StoredEntry {
  state: 'in_progress' | 'completed';
  request_id: string;
  job_id?: string;
  fingerprint?: string;
}

export interface IdempotencyTimes {
  /** How long a completed key maps to its job. */
  ttlSec: number;
  /** How long a request may hold a key while uploading before the key is freed. */
  lockSec: number;
}

/** Changes an entry only while the same request still holds it in progress. */
const SET_IF_HELD_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local entry = cjson.decode(raw)
if entry.state ~= 'in_progress' or entry.request_id ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return 1
`;

/**
 * Idempotency-Key bookkeeping (IETF draft-ietf-httpapi-idempotency-key-header, Stripe's rules):
 * the first request claims the key atomically (SET NX); later ones find it in progress or
 * completed with the job it created and the fingerprint of the payload. Keys are per user.
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly times: IdempotencyTimes,
  ) {}

  async claim(ownerId: string, key: string, requestId: string): Promise<IdempotencyClaim> {
    const redisKey = this.redisKey(ownerId, key);
    const entry: StoredEntry = { state: 'in_progress', request_id: requestId };
    for (let attempt = 0; attempt < 3; attempt++) {
      const set = await this.redis.set(redisKey, JSON.stringify(entry), 'EX', this.times.lockSec, 'NX');
      if (set === 'OK') return { kind: 'claimed' };
      const raw = await this.redis.get(redisKey);
      // Expired between the two calls: try to claim again.
      if (raw === null) continue;
      const existing = JSON.parse(raw) as StoredEntry;
      if (existing.state === 'completed' && existing.job_id && existing.fingerprint) {
        return { kind: 'completed', jobId: existing.job_id, fingerprint: existing.fingerprint };
      }
      return { kind: 'in_progress' };
    }
    return { kind: 'in_progress' };
  }

  /** Records the job the claiming request created; kept for the configured time. */
  async complete(ownerId: string, key: string, requestId: string, jobId: string, fingerprint: string) {
    const entry: StoredEntry = { state: 'completed', request_id: requestId, job_id: jobId, fingerprint };
    await this.redis.eval(
      SET_IF_HELD_SCRIPT,
      1,
      this.redisKey(ownerId, key),
      requestId,
      JSON.stringify(entry),
      this.times.ttlSec,
    );
  }

  /** Frees a key whose request failed, so the client may try again with the same key. */
  async release(ownerId: string, key: string, requestId: string): Promise<void> {
    await this.redis.eval(SET_IF_HELD_SCRIPT, 1, this.redisKey(ownerId, key), requestId, '', 0);
  }

  /** Forgets a completed key whose job no longer exists (it was deleted). */
  async forget(ownerId: string, key: string): Promise<void> {
    await this.redis.del(this.redisKey(ownerId, key));
  }

  private redisKey(ownerId: string, key: string): string {
    return this.keys.idempotencyKey(ownerId, createHash('sha256').update(key).digest('base64url'));
  }
}
