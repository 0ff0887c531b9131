import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { RedisKeys } from './redis-keys.js';
import { storageKeys } from './storage-keys.js';

/**
 * `open`: taking bytes; `consuming`: a job is being made from it (one request at a time);
 * `consumed`: its job exists and its parts are gone (kept a while so a replayed job creation with
 * the same Idempotency-Key can still be answered).
 */
export type UploadSessionState = 'open' | 'consuming' | 'consumed';

export interface UploadSession {
  uploadId: string;
  ownerId: string;
  /** The cleaned file name the job will get. */
  filename: string;
  /** Declared at creation; the upload is complete when `offset` reaches it. */
  size: number;
  mime: string | null;
  /** Bytes stored so far: the sum of the fully received parts. */
  offset: number;
  createdAt: string;
  expiresAtMs: number;
  state: UploadSessionState;
  /** Once consumed: the job it made and the sha256 of its content. */
  jobId: string | null;
  sha256: string | null;
}

export interface UploadSessionTimes {
  /** UPLOAD_SESSION_TTL_SEC: how long a session takes bytes after its creation. */
  ttlSec: number;
  /** How long a consumed session is kept for replays (the Idempotency-Key lifetime). */
  consumedTtlSec: number;
  /** UPLOAD_SESSIONS_PER_USER: open sessions a user may hold at once (0: no limit). */
  maxOpenPerUser: number;
  /** How long one job creation may hold a session before another request may take it over. */
  consumeLeaseMs: number;
}

export type CommitOutcome =
  | { kind: 'ok'; offset: number }
  | { kind: 'missing' }
  | { kind: 'busy' }
  | { kind: 'mismatch'; offset: number }
  | { kind: 'too_long'; offset: number };

export type ConsumeOutcome =
  | { kind: 'ok'; session: UploadSession; parts: string[] }
  | { kind: 'missing' }
  | { kind: 'busy' }
  | { kind: 'consumed'; session: UploadSession }
  | { kind: 'incomplete'; session: UploadSession };

// KEYS: session, expiring, user's sessions. ARGV: owner, filename, size, mime, created_at,
// expires_ms, now_ms, max_open, id. Expired entries of the user's set are dropped before counting.
const CREATE_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[7])
local max = tonumber(ARGV[8])
if max > 0 and redis.call('ZCARD', KEYS[3]) >= max then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'filename', ARGV[2], 'size', ARGV[3], 'mime', ARGV[4],
  'offset', 0, 'created_at', ARGV[5], 'expires_at', ARGV[6], 'state', 'open')
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[9])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[9])
redis.call('PEXPIREAT', KEYS[3], ARGV[6])
return 1
`;

// KEYS: session, parts. ARGV: owner, expected offset, part size, part key, now_ms.
// The part counts only here, in one step with the offset check: a racing PATCH at the same offset
// loses with a mismatch and removes its own part.
const COMMIT_PART_SCRIPT = `
local s = redis.call('HMGET', KEYS[1], 'owner', 'offset', 'size', 'state', 'expires_at')
if not s[1] or s[1] ~= ARGV[1] or tonumber(s[5]) <= tonumber(ARGV[5]) or s[4] == 'consumed' then
  return {'missing'}
end
if s[4] ~= 'open' then return {'busy'} end
if tonumber(s[2]) ~= tonumber(ARGV[2]) then return {'mismatch', s[2]} end
if tonumber(s[2]) + tonumber(ARGV[3]) > tonumber(s[3]) then return {'too_long', s[2]} end
local offset = redis.call('HINCRBY', KEYS[1], 'offset', ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[2], s[5])
return {'ok', tostring(offset)}
`;

// KEYS: session, expiring. ARGV: owner, now_ms, lease_ms, id. Takes a complete open session (or
// one whose previous taker's lease ran out) for one job creation; the expiry is pushed past the
// lease so the sweep cannot remove parts while they are read.
const BEGIN_CONSUME_SCRIPT = `
local s = redis.call('HMGET', KEYS[1], 'owner', 'offset', 'size', 'state', 'expires_at', 'lease_until')
local now = tonumber(ARGV[2])
if not s[1] or s[1] ~= ARGV[1] or tonumber(s[5]) <= now then return 'missing' end
if s[4] == 'consumed' then return 'consumed' end
if s[4] == 'consuming' and tonumber(s[6]) > now then return 'busy' end
if tonumber(s[2]) < tonumber(s[3]) then return 'incomplete' end
local lease = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'consuming', 'lease_until', lease)
if tonumber(s[5]) < lease then
  redis.call('HSET', KEYS[1], 'expires_at', lease)
  redis.call('PEXPIREAT', KEYS[1], lease)
  redis.call('ZADD', KEYS[2], lease, ARGV[4])
end
return 'ok'
`;

// KEYS: session. ARGV: owner. A failed job creation hands the session back.
const RELEASE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'state') ~= 'consuming' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'open')
redis.call('HDEL', KEYS[1], 'lease_until')
return 1
`;

// KEYS: session, parts, expiring, user's sessions. ARGV: owner, job id, sha256, keep_sec, id.
const FINISH_SCRIPT = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'consumed', 'job_id', ARGV[2], 'sha256', ARGV[3])
redis.call('HDEL', KEYS[1], 'lease_until')
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('ZREM', KEYS[4], ARGV[5])
return 1
`;

// KEYS: session, parts, user's sessions. ARGV: owner, id. The expiring entry stays until the parts
// are deleted from storage (forgetExpiring), so a failed deletion is retried by the sweep.
const REMOVE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'state') == 'consumed' then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return 1
`;

function toSession(uploadId: string, hash: Record<string, string>): UploadSession {
  return {
    uploadId,
    ownerId: hash.owner ?? '',
    filename: hash.filename ?? 'upload',
    size: Number(hash.size),
    mime: hash.mime ? hash.mime : null,
    offset: Number(hash.offset ?? 0),
    createdAt: hash.created_at ?? '',
    expiresAtMs: Number(hash.expires_at),
    state: (hash.state as UploadSessionState | undefined) ?? 'open',
    jobId: hash.job_id ?? null,
    sha256: hash.sha256 ?? null,
  };
}

/**
 * Resumable upload sessions (tus-like, `POST /v1/uploads`) in Redis; their bytes are parts in
 * object storage (`uploads/<id>/part-<offset>-<token>`), each counted once fully stored. Every
 * change that has to agree with another is one Lua script.
 */
export class UploadSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly times: UploadSessionTimes,
  ) {}

  /** A new open session, or null when the owner already holds as many as allowed. */
  async create(
    uploadId: string,
    ownerId: string,
    file: { filename: string; size: number; mime: string | null },
    now = Date.now(),
  ): Promise<UploadSession | null> {
    const expiresAtMs = now + this.times.ttlSec * 1000;
    const createdAt = new Date(now).toISOString();
    const created = await this.redis.eval(
      CREATE_SCRIPT,
      3,
      this.keys.uploadSession(uploadId),
      this.keys.uploadSessionsExpiring(),
      this.keys.userUploadSessions(ownerId),
      ownerId,
      file.filename,
      file.size,
      file.mime ?? '',
      createdAt,
      expiresAtMs,
      now,
      this.times.maxOpenPerUser,
      uploadId,
    );
    if (created !== 1) return null;
    return {
      uploadId,
      ownerId,
      ...file,
      offset: 0,
      createdAt,
      expiresAtMs,
      state: 'open',
      jobId: null,
      sha256: null,
    };
  }

  /** The owner's session (any state) while it lasts; null for another user's or an expired one. */
  async get(uploadId: string, ownerId: string, now = Date.now()): Promise<UploadSession | null> {
    const hash = await this.redis.hgetall(this.keys.uploadSession(uploadId));
    if (hash.owner !== ownerId) return null;
    const session = toSession(uploadId, hash);
    if (session.state !== 'consumed' && session.expiresAtMs <= now) return null;
    return session;
  }

  /** Counts a fully stored part at `offset` (only if the session is still there and at that offset). */
  async commitPart(
    uploadId: string,
    ownerId: string,
    offset: number,
    sizeBytes: number,
    partKey: string,
    now = Date.now(),
  ): Promise<CommitOutcome> {
    const [kind, value] = (await this.redis.eval(
      COMMIT_PART_SCRIPT,
      2,
      this.keys.uploadSession(uploadId),
      this.keys.uploadSessionParts(uploadId),
      ownerId,
      offset,
      sizeBytes,
      partKey,
      now,
    )) as [string, string | undefined];
    switch (kind) {
      case 'ok':
        return { kind: 'ok', offset: Number(value) };
      case 'mismatch':
      case 'too_long':
        return { kind, offset: Number(value) };
      case 'busy':
        return { kind: 'busy' };
      default:
        return { kind: 'missing' };
    }
  }

  /** Takes a complete session for one job creation; its parts' keys come in offset order. */
  async beginConsume(uploadId: string, ownerId: string, now = Date.now()): Promise<ConsumeOutcome> {
    const outcome = (await this.redis.eval(
      BEGIN_CONSUME_SCRIPT,
      2,
      this.keys.uploadSession(uploadId),
      this.keys.uploadSessionsExpiring(),
      ownerId,
      now,
      this.times.consumeLeaseMs,
      uploadId,
    )) as string;
    if (outcome === 'missing' || outcome === 'busy') return { kind: outcome };
    const session = await this.get(uploadId, ownerId, now);
    if (!session) return { kind: 'missing' };
    if (outcome === 'consumed' || outcome === 'incomplete') return { kind: outcome, session };
    const parts = await this.redis.lrange(this.keys.uploadSessionParts(uploadId), 0, -1);
    return { kind: 'ok', session, parts };
  }

  /** Hands a session taken by beginConsume back (its job creation failed but the bytes are fine). */
  async release(uploadId: string, ownerId: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, this.keys.uploadSession(uploadId), ownerId);
  }

  /**
   * The job exists: deletes the parts and keeps the session as `consumed` (job id, sha256) for
   * replays of the same Idempotency-Key.
   */
  async finish(
    storage: ObjectStorage,
    uploadId: string,
    ownerId: string,
    jobId: string,
    sha256: string,
  ): Promise<void> {
    await this.redis.eval(
      FINISH_SCRIPT,
      4,
      this.keys.uploadSession(uploadId),
      this.keys.uploadSessionParts(uploadId),
      this.keys.uploadSessionsExpiring(),
      this.keys.userUploadSessions(ownerId),
      ownerId,
      jobId,
      sha256,
      this.times.consumedTtlSec,
      uploadId,
    );
    await storage.deletePrefix(storageKeys.uploadPrefix(uploadId));
  }

  /** Terminates the owner's session and deletes its parts; false when there is no such session. */
  async remove(storage: ObjectStorage, uploadId: string, ownerId: string): Promise<boolean> {
    const removed = await this.redis.eval(
      REMOVE_SCRIPT,
      3,
      this.keys.uploadSession(uploadId),
      this.keys.uploadSessionParts(uploadId),
      this.keys.userUploadSessions(ownerId),
      ownerId,
      uploadId,
    );
    if (removed !== 1) return false;
    await storage.deletePrefix(storageKeys.uploadPrefix(uploadId));
    await this.redis.zrem(this.keys.uploadSessionsExpiring(), uploadId);
    return true;
  }

  /**
   * Deletes the parts of every session whose expiry has passed (at most `limit` per call); each
   * removal is logged once, by the process whose ZREM took the id (API replicas may sweep together).
   */
  async sweepExpired(storage: ObjectStorage, logger: Logger, now = Date.now(), limit = 100): Promise<number> {
    const expiring = this.keys.uploadSessionsExpiring();
    const ids = await this.redis.zrangebyscore(expiring, '-inf', now, 'LIMIT', 0, limit);
    let swept = 0;
    for (const uploadId of ids) {
      const hash = await this.redis.hgetall(this.keys.uploadSession(uploadId));
      // A session still alive (its expiry was pushed by a job creation) is not the sweep's.
      if (hash.state && Number(hash.expires_at) > now) continue;
      await storage.deletePrefix(storageKeys.uploadPrefix(uploadId));
      await this.redis.del(this.keys.uploadSession(uploadId), this.keys.uploadSessionParts(uploadId));
      if ((await this.redis.zrem(expiring, uploadId)) === 1) {
        swept += 1;
        logger.info(
          { event: 'upload.session_expired', upload_id: uploadId, owner_id: hash.owner ?? null },
          'expired upload session removed with its parts',
        );
      }
    }
    return swept;
  }
}
