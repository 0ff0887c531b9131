import type { Redis } from 'ioredis';
import {
  AppError,
  type AttemptEntry,
  attemptEntrySchema,
  type DeadLetter,
  type DeadLetterList,
  deadLetterSchema,
  type ListDeadLettersQuery,
  type ReplayOutcome,
} from '../contract/index.js';
import type { JobQueues } from './job-queues.js';
import { ATTEMPTS_TTL_SEC, type JobStore } from './job-store.js';
import type { RedisKeys } from './redis-keys.js';

/** At most this many entries are examined per list request when filters skip most of them. */
const LIST_SCAN_BUDGET = 2000;
const LIST_BATCH = 200;

/**
 * Dead letters: jobs that ended FAILED, kept with their attempt history and original request so
 * an operator can see why and replay them. Also keeps every job's attempt history. A dead letter is
 * written by the FAILED transition itself (`JobStore.transition` with `deadLetter`), never apart.
 */
export class DeadLetterStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly store: JobStore,
    private readonly queues: JobQueues | null = null,
  ) {}

  async appendAttempt(jobId: string, entry: AttemptEntry): Promise<void> {
    const key = this.keys.jobAttempts(jobId);
    await this.redis
      .multi()
      .rpush(key, JSON.stringify(attemptEntrySchema.parse(entry)))
      .expire(key, ATTEMPTS_TTL_SEC)
      .exec();
  }

  async attemptsOf(jobId: string): Promise<AttemptEntry[]> {
    const raw = await this.redis.lrange(this.keys.jobAttempts(jobId), 0, -1);
    return raw.map((line) => attemptEntrySchema.parse(JSON.parse(line)));
  }

  /** How many dead letters are kept (the `dead_letter_jobs` gauge). */
  count(): Promise<number> {
    return this.redis.zcard(this.keys.deadLetters());
  }

  async get(jobId: string): Promise<DeadLetter | null> {
    const [raw, exists] = await Promise.all([
      this.redis.get(this.keys.deadLetter(jobId)),
      this.redis.exists(this.keys.job(jobId)),
    ]);
    if (!raw) return null;
    if (exists === 0) {
      // The job was deleted by its owner: its dead letter goes with it.
      await this.remove(jobId);
      return null;
    }
    const letter = deadLetterSchema.parse(JSON.parse(raw));
    // The history may have grown since (a replay, say): show it as it is now.
    return { ...letter, attempt_history: await this.attemptsOf(jobId) };
  }

  /** Newest first; filters by code, queue and time; the cursor is the last entry returned. */
  async list(query: ListDeadLettersQuery): Promise<DeadLetterList> {
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    if (query.cursor && !cursor) throw new AppError('CURSOR_INVALID');
    const max = query.until ? `(${Date.parse(query.until)}` : '+inf';
    const min = query.since ? String(Date.parse(query.since)) : '-inf';
    const items: DeadLetter[] = [];
    let from = cursor ? String(cursor.score) : max;
    let skipUntilPast = cursor;
    let examined = 0;
    while (examined < LIST_SCAN_BUDGET) {
      const batch = (await this.redis.zrevrangebyscore(
        this.keys.deadLetters(),
        from,
        min,
        'WITHSCORES',
        'LIMIT',
        0,
        LIST_BATCH,
      )) as string[];
      const pairs: Array<{ id: string; score: number }> = [];
      for (let i = 0; i < batch.length; i += 2)
        pairs.push({ id: batch[i] ?? '', score: Number(batch[i + 1]) });
      if (pairs.length === 0) return { items, next_cursor: null };
      let last: { id: string; score: number } | undefined;
      for (const pair of pairs) {
        examined++;
        last = pair;
        // Entries at the cursor's score come in reverse id order; skip those already returned.
        if (skipUntilPast && pair.score === skipUntilPast.score && pair.id >= skipUntilPast.id) continue;
        skipUntilPast = null;
        const letter = await this.get(pair.id);
        if (!letter) continue;
        if (query.error_code && letter.error_code !== query.error_code) continue;
        if (query.queue && letter.queue !== query.queue) continue;
        items.push(letter);
        if (items.length === query.limit) return { items, next_cursor: encodeCursor(pair) };
      }
      if (pairs.length < LIST_BATCH || !last) return { items, next_cursor: null };
      from = String(last.score);
      skipUntilPast = last;
    }
    const lastItem = items.at(-1);
    return {
      items,
      next_cursor: lastItem
        ? encodeCursor({ id: lastItem.job_id, score: Date.parse(lastItem.failed_at) })
        : null,
    };
  }

  /**
   * Puts a FAILED job back on its queue (FAILED → QUEUED, the only way out of FAILED), records the
   * replay in its attempt history and removes its dead letter. Replaying a job that is queued
   * again already is a no-op.
   */
  async replay(jobId: string, requestId: string): Promise<ReplayOutcome> {
    if (!this.queues) throw new Error('DeadLetterStore.replay needs the job queues');
    const record = await this.store.get(jobId);
    if (!record) return 'not_found';
    if (record.status === 'QUEUED') return 'already_queued';
    if (record.status !== 'FAILED') return 'not_failed';
    // A worker still finishing the failed attempt holds the queue entry for a moment.
    if ((await this.queues.stateOf(record.job_type, jobId)) === 'active') return 'busy';
    const moved = await this.store.transition(
      jobId,
      'QUEUED',
      {
        stage: 'replayed from dead letters',
        progress: 0,
        error_code: null,
        error_message: null,
        finished_at: null,
        next_attempt_at: null,
        // A replay comes after fixing the cause: the job gets a fresh budget of re-reads too.
        extra_work_used: null,
      },
      { onlyFrom: ['FAILED'] },
    );
    if (!moved.ok) return moved.reason === 'missing' ? 'not_found' : 'already_queued';
    await this.appendAttempt(jobId, {
      kind: 'replayed',
      attempt: record.attempts,
      at: new Date().toISOString(),
      error_code: null,
      error_class: null,
      error_message: null,
      stage: null,
      worker_id: null,
      request_id: requestId,
    });
    await this.queues.requeue({ job_id: jobId, request_id: record.request_id, job_type: record.job_type });
    await this.redis.multi().del(this.keys.deadLetter(jobId)).zrem(this.keys.deadLetters(), jobId).exec();
    return 'replayed';
  }

  /** Removes dead letters written before `until` (all when absent); their jobs stay FAILED. */
  async purge(until?: string): Promise<number> {
    const max = until ? `(${Date.parse(until)}` : '+inf';
    let purged = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(this.keys.deadLetters(), '-inf', max, 'LIMIT', 0, 500);
      if (ids.length === 0) return purged;
      const multi = this.redis.multi();
      for (const id of ids) multi.del(this.keys.deadLetter(id)).zrem(this.keys.deadLetters(), id);
      await multi.exec();
      purged += ids.length;
    }
  }

  async remove(jobId: string): Promise<boolean> {
    const [[, removed] = []] =
      (await this.redis
        .multi()
        .zrem(this.keys.deadLetters(), jobId)
        .del(this.keys.deadLetter(jobId))
        .exec()) ?? [];
    return removed === 1;
  }
}

function encodeCursor(entry: { id: string; score: number }): string {
  return Buffer.from(`${entry.score}:${entry.id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { id: string; score: number } | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  const score = Number(text.slice(0, colon));
  if (colon < 1 || !Number.isFinite(score)) return null;
  return { score, id: text.slice(colon + 1) };
}
