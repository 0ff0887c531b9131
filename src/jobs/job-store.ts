import type { Redis } from 'ioredis';
import { allowedSourcesOf, type JobStatus } from '../contract/index.js';
import { decodeRecord, encodeFields, type JobRecord, nulledFields } from './job-record.js';
import { PROGRESS_SCRIPT, REQUEST_CANCEL_SCRIPT, TRANSITION_SCRIPT } from './job-scripts.js';
import type { RedisKeys } from './redis-keys.js';

export type TransitionResult =
  | { ok: true; from: JobStatus }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'refused'; current: JobStatus };

export type CancelOutcome = 'cancelled' | 'requested' | 'final' | 'missing';

export interface JobPage {
  records: JobRecord[];
  nextCursor: string | null;
  total: number;
}

const nowIso = () => new Date().toISOString();

/** Job records in Redis hashes, with a per-user history index; every status change is atomic. */
export class JobStore {
  constructor(
    private readonly redis: Redis,
    readonly keys: RedisKeys,
  ) {}

  async create(record: JobRecord): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.job(record.job_id), encodeFields(record))
      // Score 0 for all: ordering is lexicographic on the time-ordered ids, which makes
      // cursors exact (no ties) and pages O(log n + page size).
      .zadd(this.keys.userJobs(record.owner_id), 0, record.job_id)
      .exec();
  }

  async get(jobId: string): Promise<JobRecord | null> {
    const hash = await this.redis.hgetall(this.keys.job(jobId));
    return hash.status ? decodeRecord(hash) : null;
  }

  /** Only the owner sees a job; anyone else gets null, as if it did not exist. */
  async getOwned(jobId: string, ownerId: string): Promise<JobRecord | null> {
    const record = await this.get(jobId);
    return record && record.owner_id === ownerId ? record : null;
  }

  async listByOwner(
    ownerId: string,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<JobPage> {
    const key = this.keys.userJobs(ownerId);
    const start = options.cursor ? `(${options.cursor}` : '+';
    const [ids, total] = await Promise.all([
      this.redis.call(
        'ZRANGE',
        key,
        start,
        '-',
        'BYLEX',
        'REV',
        'LIMIT',
        '0',
        String(options.limit + 1),
      ) as Promise<string[]>,
      this.redis.zcard(key),
    ]);
    const pageIds = ids.slice(0, options.limit);
    const pipeline = this.redis.pipeline();
    for (const id of pageIds) pipeline.hgetall(this.keys.job(id));
    const hashes = ((await pipeline.exec()) ?? []).map(([, hash]) => hash as Record<string, string>);
    const records = hashes.filter((hash) => hash.status).map(decodeRecord);
    const more = ids.length > options.limit;
    return { records, nextCursor: more ? (pageIds.at(-1) ?? null) : null, total };
  }

  /**
   * Moves a job to `to` if the state machine allows it from the job's current status, and writes
   * `fields` in the same atomic step. `countAttempt` marks the start of a processing attempt;
   * `onlyFrom` narrows the accepted sources further (never widens the state machine).
   */
  async transition(
    jobId: string,
    to: JobStatus,
    fields: Partial<JobRecord> = {},
    options: { countAttempt?: boolean; onlyFrom?: readonly JobStatus[] } = {},
  ): Promise<TransitionResult> {
    const sources = allowedSourcesOf(to).filter(
      (from) => !options.onlyFrom || options.onlyFrom.includes(from),
    );
    const args = Object.entries(encodeFields(fields)).flat();
    const [code, status] = (await this.redis.eval(
      TRANSITION_SCRIPT,
      1,
      this.keys.job(jobId),
      to,
      sources.join(','),
      nowIso(),
      options.countAttempt ? '1' : '0',
      nulledFields(fields).join(','),
      ...args,
    )) as [number, string];
    if (code === -1) return { ok: false, reason: 'missing' };
    if (code === 0) return { ok: false, reason: 'refused', current: status as JobStatus };
    return { ok: true, from: status as JobStatus };
  }

  /** Saves progress while the job is PROCESSING; tells the caller whether a cancel was requested. */
  async reportProgress(
    jobId: string,
    progress: number,
    stage: string,
    facts: Partial<JobRecord> = {},
  ): Promise<{ applied: boolean; cancelRequested: boolean }> {
    const [applied, cancel] = (await this.redis.eval(
      PROGRESS_SCRIPT,
      1,
      this.keys.job(jobId),
      String(Math.max(0, Math.min(100, Math.round(progress)))),
      stage,
      nowIso(),
      ...Object.entries(encodeFields(facts)).flat(),
    )) as [number, number];
    return { applied: applied === 1, cancelRequested: cancel === 1 };
  }

  async requestCancel(jobId: string): Promise<{ outcome: CancelOutcome; status: JobStatus | null }> {
    const [outcome, status] = (await this.redis.eval(
      REQUEST_CANCEL_SCRIPT,
      1,
      this.keys.job(jobId),
      nowIso(),
      this.keys.cancelChannel(),
      jobId,
      'The job was cancelled.',
    )) as [CancelOutcome, string];
    return { outcome, status: status ? (status as JobStatus) : null };
  }

  /** Removes a job that never became visible (its enqueue failed). */
  async remove(record: JobRecord): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.job(record.job_id))
      .zrem(this.keys.userJobs(record.owner_id), record.job_id)
      .exec();
  }
}
