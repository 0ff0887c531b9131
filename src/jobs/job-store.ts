import type { Redis } from 'ioredis';
import {
  type AttemptEntry,
  allowedSourcesOf,
  attemptEntrySchema,
  type DeadLetter,
  deadLetterSchema,
  JOB_STATUSES,
  JOB_TYPES,
  type JobStatus,
  type JobType,
  QUEUE_NAMES,
} from '../contract/index.js';
import { decodeRecord, encodeFields, type JobRecord, nulledFields } from './job-record.js';
import {
  ALL_JOBS_INDEX_KEY_COUNT,
  CREATE_SCRIPT,
  PROGRESS_SCRIPT,
  REGISTER_OUTPUT_CLAIM_SCRIPT,
  REMOVE_SCRIPT,
  REQUEST_CANCEL_SCRIPT,
  SETTLE_OUTPUT_CLAIMS_SCRIPT,
  SPEND_EXTRA_WORK_SCRIPT,
  TRANSITION_SCRIPT,
} from './job-scripts.js';
import { epochMinute, THROUGHPUT_KEEP_SECONDS } from './queue-throughput.js';
import type { HistorySlice, RedisKeys } from './redis-keys.js';

/** Attempt histories outlive their job by this long, so a later dead letter still has them. */
export const ATTEMPTS_TTL_SEC = 30 * 24 * 3600;

export type TransitionResult =
  | { ok: true; from: JobStatus }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'refused'; current: JobStatus }
  /** The writer's claim token is no longer the job's: another attempt took the job over. */
  | { ok: false; reason: 'stale'; current: JobStatus };

/**
 * Told of every job that reached COMPLETED, FAILED or CANCELLED, right after the write (and again,
 * later, if it answers false or the process died before it ran): it must be idempotent.
 */
export type FinalStatusListener = (record: JobRecord) => Promise<boolean | undefined>;

const FINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export type CancelOutcome = 'cancelled' | 'requested' | 'final' | 'missing';

export interface HistoryQuery {
  jobType?: JobType | undefined;
  /** Any of these statuses; empty or absent means all. */
  statuses?: readonly JobStatus[] | undefined;
  /** Case-insensitive substring of the file name. */
  q?: string | undefined;
  /** The last job id of the previous page (or, with `q`, the last one examined). */
  after?: string | undefined;
  limit: number;
}

export interface HistoryCounts {
  /** Jobs of each type, whatever their status. */
  by_type: Record<JobType, number>;
  /** Jobs in each status, within the requested type if one was given. */
  by_status: Record<JobStatus, number>;
}

export interface JobPage {
  records: JobRecord[];
  /** Where the next page starts, or null at the end. */
  after: string | null;
  /** Jobs matching the type and status filters (the filename search is not counted). */
  total: number;
  counts: HistoryCounts;
}

/** Events kept per user for `Last-Event-ID` replay; older ones are trimmed (approximately). */
const EVENT_STREAM_LENGTH = 1000;
/** With a filename search, at most this many history entries are examined per page. */
const SEARCH_SCAN_BUDGET = 2000;
const SEARCH_BATCH = 200;
/** Owner and type never change; remembering them saves a round trip per status change. */
const IDENTITY_CACHE_SIZE = 10_000;

const nowIso = () => new Date().toISOString();

/** The `count` newest ids of several newest-first lists of disjoint indexes. */
function mergeNewest(lists: readonly string[][], count: number): string[] {
  const merged = lists.length === 1 ? (lists[0] ?? []) : lists.flat().sort().reverse();
  return merged.slice(0, count);
}

export function normaliseFilename(name: string): string {
  return name.normalize('NFC').toLocaleLowerCase('en');
}

/**
 * Job records in Redis hashes with per-user history indexes (all jobs, per type, per status, per
 * type and status) and a per-user change stream, all kept in step by Lua scripts: every status
 * change moves the job between indexes and announces the change in the same atomic step.
 */
export class JobStore {
  private readonly identities = new Map<string, { owner: string; type: JobType }>();

  constructor(
    private readonly redis: Redis,
    readonly keys: RedisKeys,
    private readonly hooks: { onFinal?: FinalStatusListener } = {},
  ) {}

  async create(record: JobRecord): Promise<void> {
    this.remember(record.job_id, record.owner_id, record.job_type);
    await this.redis.eval(
      CREATE_SCRIPT,
      16 + ALL_JOBS_INDEX_KEY_COUNT,
      ...this.indexKeys(record.job_id, record.owner_id, record.job_type),
      ...this.allJobsKeys(record.job_type),
      this.keys.eventsChannel(),
      EVENT_STREAM_LENGTH,
      record.job_id,
      normaliseFilename(record.input_filename),
      ...Object.entries(encodeFields(record)).flat(),
    );
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

  async getMany(jobIds: readonly string[]): Promise<JobRecord[]> {
    if (jobIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of jobIds) pipeline.hgetall(this.keys.job(id));
    const hashes = ((await pipeline.exec()) ?? []).map(([, hash]) => hash as Record<string, string>);
    return hashes.filter((hash) => hash.status).map(decodeRecord);
  }

  /**
   * A page of the owner's history, newest first, with counts. Costs O(log n + page) in the size of
   * the history: ids are time-ordered (UUIDv7) and the cursor is the last id seen, so new jobs
   * arriving between pages never shift, repeat or skip anything.
   */
  async listByOwner(ownerId: string, query: HistoryQuery): Promise<JobPage> {
    return this.listIndexed((slice) => this.keys.userJobs(ownerId, slice), query, ownerId);
  }

  /**
   * A page of every owner's jobs (administrators), newest first, with counts: the same paging as
   * listByOwner over the index of all jobs. No filename search.
   */
  async listAll(query: Omit<HistoryQuery, 'q'>): Promise<JobPage> {
    return this.listIndexed((slice) => this.keys.allJobs(slice), query, null);
  }

  private async listIndexed(
    indexOf: (slice: HistorySlice) => string,
    query: HistoryQuery,
    searchOwner: string | null,
  ): Promise<JobPage> {
    const statuses = query.statuses?.length ? [...new Set(query.statuses)] : undefined;
    const sources = statuses
      ? statuses.map((status) => indexOf({ jobType: query.jobType, status }))
      : [indexOf({ jobType: query.jobType })];

    // The counts and (without a search) the page's ids in one round trip, the records in a second.
    const pipeline = this.redis.pipeline();
    for (const type of JOB_TYPES) pipeline.zcard(indexOf({ jobType: type }));
    for (const status of JOB_STATUSES) pipeline.zcard(indexOf({ jobType: query.jobType, status }));
    for (const source of sources) pipeline.zcard(source);
    const countsQueued = JOB_TYPES.length + JOB_STATUSES.length + sources.length;
    const searchIn = query.q ? searchOwner : null;
    if (searchIn === null) {
      const start = query.after ? `(${query.after}` : '+';
      for (const key of sources) {
        pipeline.call('ZRANGE', key, start, '-', 'BYLEX', 'REV', 'LIMIT', '0', String(query.limit + 1));
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const [counts, total] = this.countsOf(replies.slice(0, countsQueued).map(([, value]) => Number(value)));
    let ids: string[];
    let after: string | null;
    if (searchIn !== null) {
      ({ ids, after } = await this.searchByFilename(searchIn, sources, query));
    } else {
      const lists = replies.slice(countsQueued).map(([, value]) => value as string[]);
      const batch = mergeNewest(lists, query.limit + 1);
      ids = batch.slice(0, query.limit);
      after = batch.length > query.limit ? (ids.at(-1) ?? null) : null;
    }
    return { records: await this.getMany(ids), after, total, counts };
  }

  /** ZCARD replies in the order listByOwner queues them: per type, per status, then each source. */
  private countsOf(values: readonly number[]): [HistoryCounts, number] {
    const byType = Object.fromEntries(JOB_TYPES.map((type, i) => [type, values[i] ?? 0]));
    const byStatus = Object.fromEntries(
      JOB_STATUSES.map((status, i) => [status, values[JOB_TYPES.length + i] ?? 0]),
    );
    const total = values.slice(JOB_TYPES.length + JOB_STATUSES.length).reduce((a, b) => a + b, 0);
    return [
      { by_type: byType as HistoryCounts['by_type'], by_status: byStatus as HistoryCounts['by_status'] },
      total,
    ];
  }

  /** The `count` newest ids older than `after` across the given indexes (they never overlap). */
  private async newestAfter(sources: readonly string[], after: string | undefined, count: number) {
    const start = after ? `(${after}` : '+';
    const lists = await Promise.all(
      sources.map(
        (key) =>
          this.redis.call('ZRANGE', key, start, '-', 'BYLEX', 'REV', 'LIMIT', '0', String(count)) as Promise<
            string[]
          >,
      ),
    );
    return mergeNewest(lists, count);
  }

  /**
   * Filename search examines the history in id order from the cursor, at most SEARCH_SCAN_BUDGET
   * entries per request, so a page may hold fewer matches than asked with a cursor to go on.
   */
  private async searchByFilename(
    ownerId: string,
    sources: readonly string[],
    query: HistoryQuery,
  ): Promise<{ ids: string[]; after: string | null }> {
    const needle = normaliseFilename(query.q ?? '');
    const ids: string[] = [];
    let after = query.after;
    let examined = 0;
    while (examined < SEARCH_SCAN_BUDGET) {
      const batch = await this.newestAfter(sources, after, SEARCH_BATCH);
      if (batch.length === 0) return { ids, after: null };
      const names = await this.redis.hmget(this.keys.userFilenames(ownerId), ...batch);
      for (const [i, id] of batch.entries()) {
        examined++;
        after = id;
        if (names[i]?.includes(needle)) ids.push(id);
        if (ids.length === query.limit) {
          const isLast = i === batch.length - 1 && batch.length < SEARCH_BATCH;
          return { ids, after: isLast ? null : id };
        }
      }
      if (batch.length < SEARCH_BATCH) return { ids, after: null };
    }
    return { ids, after: after ?? null };
  }

  /**
   * Moves a job to `to` if the state machine allows it from the job's current status, and writes
   * `fields` in the same atomic step. `countAttempt` marks the start of a processing attempt;
   * `onlyFrom` narrows the accepted sources further (never widens the state machine).
   * `deadLetter` (with a move to FAILED) is stored in the same atomic step, with `failed_at` the
   * job's `finished_at`; its attempt history is read from the job's history when it is read.
   * `claimToken` (a worker's writes) applies the change only while that claim is the job's current
   * one; `attemptEntry` is appended to the job's attempt history in the same step, only if the
   * change applies. COMPLETED and FAILED are counted in the per-minute throughput in that step too.
   */
  async transition(
    jobId: string,
    to: JobStatus,
    fields: Partial<JobRecord> = {},
    options: {
      countAttempt?: boolean;
      onlyFrom?: readonly JobStatus[];
      deadLetter?: Omit<DeadLetter, 'failed_at' | 'attempt_history'>;
      claimToken?: string;
      attemptEntry?: AttemptEntry;
    } = {},
  ): Promise<TransitionResult> {
    const identity = await this.identityOf(jobId);
    if (!identity) return { ok: false, reason: 'missing' };
    const sources = allowedSourcesOf(to).filter(
      (from) => !options.onlyFrom || options.onlyFrom.includes(from),
    );
    const now = nowIso();
    const letter = options.deadLetter
      ? JSON.stringify(deadLetterSchema.parse({ ...options.deadLetter, failed_at: now, attempt_history: [] }))
      : '';
    const [code, status] = (await this.redis.eval(
      TRANSITION_SCRIPT,
      21 + ALL_JOBS_INDEX_KEY_COUNT,
      ...this.indexKeys(jobId, identity.owner, identity.type),
      this.keys.deadLetter(jobId),
      this.keys.deadLetters(),
      this.keys.finalAnnouncements(),
      this.keys.jobAttempts(jobId),
      this.keys.queueThroughput(epochMinute(Date.parse(now))),
      ...this.allJobsKeys(identity.type),
      this.keys.eventsChannel(),
      EVENT_STREAM_LENGTH,
      to,
      sources.join(','),
      now,
      options.countAttempt ? '1' : '0',
      nulledFields(fields).join(','),
      letter,
      String(Date.parse(now)),
      options.claimToken ?? '',
      options.attemptEntry ? JSON.stringify(attemptEntrySchema.parse(options.attemptEntry)) : '',
      ATTEMPTS_TTL_SEC,
      QUEUE_NAMES[identity.type],
      THROUGHPUT_KEEP_SECONDS,
      ...Object.entries(encodeFields(fields)).flat(),
    )) as [number, string];
    if (code === -1) return { ok: false, reason: 'missing' };
    if (code === -2) return { ok: false, reason: 'stale', current: status as JobStatus };
    if (code === 0) return { ok: false, reason: 'refused', current: status as JobStatus };
    if (FINAL_STATUSES.includes(to)) await this.announceFinal(jobId);
    return { ok: true, from: status as JobStatus };
  }

  /**
   * Every final transition passes through this store, so this is where webhooks are queued. The
   * transition itself put the job in the announcements outbox; it leaves it once the listener has
   * taken it (a listener answering false keeps it there for `announcePending` to try again).
   */
  private async announceFinal(jobId: string): Promise<void> {
    const record = await this.get(jobId);
    const taken = record && this.hooks.onFinal ? await this.hooks.onFinal(record) : true;
    if (taken !== false) await this.redis.zrem(this.keys.finalAnnouncements(), jobId);
  }

  /**
   * Final transitions whose announcement was not taken (the process died between the transition
   * and the listener, or the listener failed) for longer than `olderThanMs`: announced again.
   * Listeners are idempotent per transition (webhook delivery ids), so a repeat is harmless.
   * Returns the job ids announced.
   */
  async announcePending(olderThanMs: number, limit = 200, now = Date.now()): Promise<string[]> {
    const jobIds = await this.redis.zrangebyscore(
      this.keys.finalAnnouncements(),
      '-inf',
      String(now - olderThanMs),
      'LIMIT',
      0,
      limit,
    );
    for (const jobId of jobIds) await this.announceFinal(jobId);
    return jobIds;
  }

  /**
   * Saves progress while the job is PROCESSING (under `claimToken`, when given); tells the caller
   * whether a cancel was requested, and whether its attempt is stale (another claim took over).
   */
  async reportProgress(
    jobId: string,
    progress: number,
    stage: string,
    facts: Partial<JobRecord> = {},
    claimToken = '',
  ): Promise<{ applied: boolean; cancelRequested: boolean; stale: boolean }> {
    const identity = await this.identityOf(jobId);
    if (!identity) return { applied: false, cancelRequested: false, stale: false };
    const [applied, cancel, stale] = (await this.redis.eval(
      PROGRESS_SCRIPT,
      2,
      this.keys.job(jobId),
      this.keys.userEvents(identity.owner),
      this.keys.eventsChannel(),
      EVENT_STREAM_LENGTH,
      String(Math.max(0, Math.min(100, Math.round(progress)))),
      stage,
      nowIso(),
      claimToken,
      ...Object.entries(encodeFields(facts)).flat(),
    )) as [number, number, number];
    return { applied: applied === 1, cancelRequested: cancel === 1, stale: stale === 1 };
  }

  /**
   * Counts one extra engine call of the job in its record, so the count spans attempts and
   * workers; returns the count so far (`used` null when the job is gone). With `claimToken` (a
   * worker's attempt) it counts only while that claim is the job's running one: a superseded
   * attempt is answered `stale` and spends nothing.
   */
  async spendExtraWork(jobId: string, claimToken = ''): Promise<{ used: number | null; stale: boolean }> {
    const used = Number(await this.redis.eval(SPEND_EXTRA_WORK_SCRIPT, 1, this.keys.job(jobId), claimToken));
    if (used === -2) return { used: null, stale: true };
    return { used: used < 0 ? null : used, stale: false };
  }

  /**
   * Lists `claimToken` among the job's output claims before its first output is written, only
   * while the job is PROCESSING under that claim; false (list nothing, write nothing) otherwise.
   */
  async registerOutputClaim(jobId: string, claimToken: string, now = Date.now()): Promise<boolean> {
    const registered = await this.redis.eval(
      REGISTER_OUTPUT_CLAIM_SCRIPT,
      3,
      this.keys.job(jobId),
      this.keys.jobOutputClaims(jobId),
      this.keys.outputClaimJobs(),
      claimToken,
      String(now),
      jobId,
    );
    return registered === 1;
  }

  /**
   * Takes `removed` (claims whose outputs are gone and under which nothing more is written) off
   * the job's output claims and settles the job when only its published claim is left (or none)
   * and it is final, or when it is gone. Otherwise answers the claims other than the published
   * one still listed, and whether the job is final (their outputs may then be removed).
   */
  async settleOutputClaims(
    jobId: string,
    removed: readonly string[] = [],
    now = Date.now(),
  ): Promise<{ settled: true } | { settled: false; final: boolean; others: string[] }> {
    const [code, ...others] = (await this.redis.eval(
      SETTLE_OUTPUT_CLAIMS_SCRIPT,
      3,
      this.keys.job(jobId),
      this.keys.jobOutputClaims(jobId),
      this.keys.outputClaimJobs(),
      jobId,
      String(now),
      ...removed,
    )) as [number, ...string[]];
    if (code === 1) return { settled: true };
    return { settled: false, final: code === 0, others };
  }

  /** Jobs with unsettled output claims last written or cleaned before `before` (ms), oldest first. */
  async unsettledOutputJobs(before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.outputClaimJobs(), '-inf', String(before), 'LIMIT', 0, limit);
  }

  async requestCancel(jobId: string): Promise<{ outcome: CancelOutcome; status: JobStatus | null }> {
    const identity = await this.identityOf(jobId);
    if (!identity) return { outcome: 'missing', status: null };
    const now = nowIso();
    const [outcome, status] = (await this.redis.eval(
      REQUEST_CANCEL_SCRIPT,
      17 + ALL_JOBS_INDEX_KEY_COUNT,
      ...this.indexKeys(jobId, identity.owner, identity.type),
      this.keys.finalAnnouncements(),
      ...this.allJobsKeys(identity.type),
      this.keys.eventsChannel(),
      EVENT_STREAM_LENGTH,
      now,
      this.keys.cancelChannel(),
      jobId,
      'The job was cancelled.',
      String(Date.parse(now)),
    )) as [CancelOutcome, string];
    if (outcome === 'cancelled') await this.announceFinal(jobId);
    return { outcome, status: status ? (status as JobStatus) : null };
  }

  /**
   * Deletes a job record with every index entry and its output-claims set (its files are the
   * caller's to delete), and announces the deletion.
   */
  async remove(record: Pick<JobRecord, 'job_id' | 'owner_id' | 'job_type'>): Promise<boolean> {
    const removed = await this.redis.eval(
      REMOVE_SCRIPT,
      18 + ALL_JOBS_INDEX_KEY_COUNT,
      ...this.indexKeys(record.job_id, record.owner_id, record.job_type),
      this.keys.jobOutputClaims(record.job_id),
      this.keys.outputClaimJobs(),
      ...this.allJobsKeys(record.job_type),
      this.keys.eventsChannel(),
      EVENT_STREAM_LENGTH,
      record.job_id,
    );
    this.identities.delete(record.job_id);
    return removed === 1;
  }

  /** The KEYS of the index-maintaining scripts, in the order job-scripts.ts documents. */
  private indexKeys(jobId: string, owner: string, jobType: JobType): string[] {
    return [
      this.keys.job(jobId),
      this.keys.userEvents(owner),
      this.keys.userFilenames(owner),
      this.keys.userJobs(owner),
      this.keys.userJobs(owner, { jobType }),
      ...JOB_STATUSES.map((status) => this.keys.userJobs(owner, { status })),
      ...JOB_STATUSES.map((status) => this.keys.userJobs(owner, { jobType, status })),
      this.keys.activeJobs(),
    ];
  }

  /** The last KEYS of those scripts: the index of every owner's jobs, in the order job-scripts.ts documents. */
  allJobsKeys(jobType: JobType): string[] {
    return [
      this.keys.allJobs(),
      this.keys.allJobs({ jobType }),
      ...JOB_STATUSES.map((status) => this.keys.allJobs({ status })),
      ...JOB_STATUSES.map((status) => this.keys.allJobs({ jobType, status })),
    ];
  }

  private async identityOf(jobId: string): Promise<{ owner: string; type: JobType } | null> {
    const known = this.identities.get(jobId);
    if (known) return known;
    const [owner, type] = await this.redis.hmget(this.keys.job(jobId), 'owner_id', 'job_type');
    if (!owner || !type) return null;
    return this.remember(jobId, owner, type as JobType);
  }

  private remember(jobId: string, owner: string, type: JobType) {
    if (this.identities.size >= IDENTITY_CACHE_SIZE) {
      const oldest = this.identities.keys().next().value;
      if (oldest !== undefined) this.identities.delete(oldest);
    }
    const identity = { owner, type };
    this.identities.set(jobId, identity);
    return identity;
  }
}
