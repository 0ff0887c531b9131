import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ERROR_CATALOG, JOB_TYPES, type JobType, OUTPUT_FORMATS } from '../contract/index.js';
import type { JobQueues } from '../jobs/job-queues.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { JobStore } from '../jobs/job-store.js';
import { storageKeys } from '../jobs/storage-keys.js';
import { errorFields, type Logger } from '../observability/logger.js';
import type { ObjectStorage } from '../storage/object-storage.js';

/** Active job records examined per run; the walk goes on from where it stopped at the next run. */
const RECORDS_PER_RUN = 2000;
/** Queue entries examined per queue per run. */
const QUEUE_ENTRIES_PER_RUN = 1000;
/** Jobs with unsettled output claims examined per run (the oldest first). */
const OUTPUT_JOBS_PER_RUN = 200;

/** Renews the lock only while we hold it; releases it the same way. */
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export type RepairKind =
  | 'requeued_missing_entry'
  | 'handed_back_orphaned_processing'
  | 'removed_entry_of_final_job'
  | 'announced_final_status'
  | 'removed_stale_outputs';

export interface ReconcilerOptions {
  redis: Redis;
  store: JobStore;
  queues: JobQueues;
  /** Where outputs of claims that are not a job's result are removed from. */
  storage: ObjectStorage;
  intervalMs: number;
  /** Records changed more recently than this are left alone (a submit between its two writes). */
  graceMs: number;
  logger: Logger;
}

/**
 * Finds jobs whose record and queue disagree and repairs them: a QUEUED or PROCESSING record with
 * no live queue entry is put back on its queue; a waiting queue entry whose record is final (or
 * gone) is removed; outputs of a final job's claims other than its published one (all of them for
 * FAILED and CANCELLED) are removed. One reconciler runs per deployment: the worker holding a
 * Redis lock.
 */
export class Reconciler {
  private readonly token = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Last active job id examined by the previous run ('' to start from the beginning). */
  private indexCursor = '';

  constructor(private readonly options: ReconcilerOptions) {}

  start(): void {
    if (this.options.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.running !== undefined) return;
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.options.redis
      .eval(RELEASE_SCRIPT, 1, this.options.store.keys.reconcilerLock(), this.token)
      .catch(() => undefined);
  }

  /** Takes or keeps the leader lock; only the leader reconciles. */
  async isLeader(): Promise<boolean> {
    const key = this.options.store.keys.reconcilerLock();
    const ttl = String(Math.max(3 * this.options.intervalMs, 10_000));
    const taken = await this.options.redis.set(key, this.token, 'PX', ttl, 'NX');
    if (taken === 'OK') return true;
    return (await this.options.redis.eval(RENEW_SCRIPT, 1, key, this.token, ttl)) === 1;
  }

  private async tick(): Promise<void> {
    try {
      if (await this.isLeader()) await this.runOnce();
    } catch (error) {
      this.options.logger.error(
        { event: 'reconciler.error', ...errorFields(error) },
        'reconciler run failed',
      );
    }
  }

  /** One pass over (a slice of) the records and the queues; returns the repairs made. */
  async runOnce(now = Date.now()): Promise<Array<{ job_id: string; repair: RepairKind }>> {
    const repairs: Array<{ job_id: string; repair: RepairKind }> = [];
    for (const record of await this.nextRecords()) {
      const repair = await this.reconcileRecord(record, now);
      if (repair) repairs.push({ job_id: record.job_id, repair });
    }
    // Final transitions whose webhooks were never queued (a crash right after the transition).
    for (const jobId of await this.options.store.announcePending(this.options.graceMs)) {
      this.logRepair(jobId, 'announced_final_status', {});
      repairs.push({ job_id: jobId, repair: 'announced_final_status' });
    }
    for (const type of JOB_TYPES) {
      for (const jobId of await this.finalJobsStillWaiting(type)) {
        await this.options.queues.removeWaiting(type, jobId);
        this.logRepair(jobId, 'removed_entry_of_final_job', { job_type: type });
        repairs.push({ job_id: jobId, repair: 'removed_entry_of_final_job' });
      }
    }
    // Outputs of lost or superseded attempts whose cleanup never ran (a completer killed between
    // its transition and the cleanup, a cancel while queued) or that were written after it.
    const unsettled = await this.options.store.unsettledOutputJobs(
      now - this.options.graceMs,
      OUTPUT_JOBS_PER_RUN,
    );
    for (const jobId of unsettled) {
      if (await this.removeStaleOutputs(jobId, now)) {
        repairs.push({ job_id: jobId, repair: 'removed_stale_outputs' });
      }
    }
    return repairs;
  }

  /**
   * A job listed with unsettled output claims, untouched for the grace period: once it is final,
   * every claim but the published one (COMPLETED) has its `output/<claim>/` folder removed and
   * leaves the list, and the job is settled. A job not final yet is looked at again later. True
   * when outputs were actually found (the repair is logged).
   */
  private async removeStaleOutputs(jobId: string, now: number): Promise<boolean> {
    try {
      const claims = await this.options.store.settleOutputClaims(jobId, [], now);
      if (claims.settled || !claims.final) return false;
      const found: string[] = [];
      for (const claim of claims.others) {
        if (await this.hasOutputs(jobId, claim)) found.push(claim);
        await this.options.storage.deletePrefix(storageKeys.outputPrefix(jobId, claim));
      }
      await this.options.store.settleOutputClaims(jobId, claims.others, now);
      if (found.length === 0) return false;
      this.logRepair(jobId, 'removed_stale_outputs', { claims: found });
      return true;
    } catch (error) {
      this.options.logger.warn(
        { event: 'job.outputs_cleanup_failed', job_id: jobId, ...errorFields(error) },
        'outputs of other attempts could not be removed; tried again at the next run',
      );
      return false;
    }
  }

  private async hasOutputs(jobId: string, claim: string): Promise<boolean> {
    for (const format of OUTPUT_FORMATS) {
      if (await this.options.storage.exists(storageKeys.output(jobId, format, claim))) return true;
    }
    return false;
  }

  private async reconcileRecord(record: JobRecord, now: number): Promise<RepairKind | null> {
    if (record.status !== 'QUEUED' && record.status !== 'PROCESSING') return null;
    if (now - Date.parse(record.updated_at) < this.options.graceMs) return null;
    const state = await this.options.queues.stateOf(record.job_type, record.job_id);
    // waiting, delayed, prioritized, waiting-children or active: the queue will deal with it.
    if (state !== null && state !== 'failed' && state !== 'completed') return null;
    const payload = { job_id: record.job_id, request_id: record.request_id, job_type: record.job_type };
    if (record.status === 'PROCESSING') {
      // Only while the claim read here is still the job's; its attempt is recorded as lost in the
      // same step, as a worker's recovering claim does, so the history keeps one entry per attempt.
      const handed = await this.options.store.transition(
        record.job_id,
        'QUEUED',
        { stage: 'recovered by the reconciler' },
        {
          onlyFrom: ['PROCESSING'],
          ...(record.claim_token ? { claimToken: record.claim_token } : {}),
          attemptEntry: {
            kind: 'failed',
            attempt: record.attempts,
            at: new Date(now).toISOString(),
            next_attempt_at: null,
            error_code: 'WORKER_LOST',
            error_class: ERROR_CATALOG.WORKER_LOST.errorClass,
            error_message: ERROR_CATALOG.WORKER_LOST.message.en,
            stage: record.stage,
            worker_id: null,
            request_id: null,
          },
        },
      );
      if (!handed.ok) return null;
      await this.options.queues.requeue(payload);
      this.logRepair(record.job_id, 'handed_back_orphaned_processing', { queue_state: state });
      return 'handed_back_orphaned_processing';
    }
    await this.options.queues.requeue(payload);
    this.logRepair(record.job_id, 'requeued_missing_entry', { queue_state: state });
    return 'requeued_missing_entry';
  }

  /** Ids of waiting or delayed queue entries whose job record is final or gone. */
  private async finalJobsStillWaiting(type: JobType): Promise<string[]> {
    const queue = this.options.queues.queueFor(type);
    const jobs = await queue.getJobs(
      ['wait', 'delayed', 'prioritized', 'paused'],
      0,
      QUEUE_ENTRIES_PER_RUN - 1,
    );
    const ids = jobs.map((job) => job?.id).filter((id): id is string => Boolean(id));
    if (ids.length === 0) return [];
    const pipeline = this.options.redis.pipeline();
    for (const id of ids) pipeline.hget(this.options.store.keys.job(id), 'status');
    const statuses = ((await pipeline.exec()) ?? []).map(([, status]) => status as string | null);
    return ids.filter((_, i) => {
      const status = statuses[i];
      return status === null || status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED';
    });
  }

  /**
   * The next slice of active (QUEUED or PROCESSING) records, from the index the status scripts keep
   * (`jobs:active`), resuming after the last id of the previous run: finished jobs cost nothing.
   */
  private async nextRecords(): Promise<JobRecord[]> {
    const start = this.indexCursor === '' ? '-' : `(${this.indexCursor}`;
    const ids = (await this.options.redis.call(
      'ZRANGE',
      this.options.store.keys.activeJobs(),
      start,
      '+',
      'BYLEX',
      'LIMIT',
      '0',
      String(RECORDS_PER_RUN),
    )) as string[];
    this.indexCursor = ids.length < RECORDS_PER_RUN ? '' : (ids.at(-1) ?? '');
    return this.options.store.getMany(ids);
  }

  private logRepair(jobId: string, repair: RepairKind, extra: Record<string, unknown>): void {
    this.options.logger.warn(
      { event: 'reconciler.repaired', job_id: jobId, repair, ...extra },
      'job repaired',
    );
  }
}
