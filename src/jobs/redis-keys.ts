import type { JobStatus, JobType } from '../contract/index.js';

/** Which slice of a user's history an index holds: everything, one type, one status, or both. */
export interface HistorySlice {
  jobType?: JobType | undefined;
  status?: JobStatus | undefined;
}

/** Every Redis key and channel name the job system uses, under one configurable prefix. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  job(jobId: string): string {
    return `${this.prefix}:job:${jobId}`;
  }

  /**
   * A user's history index (a sorted set of job ids, all scored 0 so that ordering is by the
   * time-ordered id). One index per slice keeps every filtered page and every count O(log n).
   */
  userJobs(ownerId: string, slice: HistorySlice = {}): string {
    let key = `${this.prefix}:user:${ownerId}:jobs`;
    if (slice.jobType) key += `:type:${slice.jobType}`;
    if (slice.status) key += `:status:${slice.status}`;
    return key;
  }

  /** Hash job id → normalised file name, for filename search without reading whole records. */
  userFilenames(ownerId: string): string {
    return `${this.prefix}:user:${ownerId}:filenames`;
  }

  /** Stream of the user's job changes: what an SSE client missed is replayed from here. */
  userEvents(ownerId: string): string {
    return `${this.prefix}:user:${ownerId}:events`;
  }

  /** List of the job's attempt history entries (JSON), oldest first; kept after the job ends. */
  jobAttempts(jobId: string): string {
    return `${this.prefix}:job:${jobId}:attempts`;
  }

  /** Sorted set of dead-lettered job ids, scored by the time (ms) they failed. */
  deadLetters(): string {
    return `${this.prefix}:dead-letters`;
  }

  /** The dead-letter record of one job (JSON). */
  deadLetter(jobId: string): string {
    return `${this.prefix}:dead-letter:${jobId}`;
  }

  /** Sorted set of worker process ids, scored by the time (ms) of their last heartbeat. */
  workerHeartbeats(): string {
    return `${this.prefix}:worker-heartbeats`;
  }

  /**
   * Sorted set (all scores 0, ordered by the time-ordered id) of every QUEUED or PROCESSING job of
   * all owners, kept by the status scripts: the reconciler walks it instead of every record.
   */
  activeJobs(): string {
    return `${this.prefix}:jobs:active`;
  }

  /** Lock held by the worker process that runs the reconciler (leader election). */
  reconcilerLock(): string {
    return `${this.prefix}:reconciler:leader`;
  }

  idempotencyKey(ownerId: string, keyHash: string): string {
    return `${this.prefix}:idempotency:${ownerId}:${keyHash}`;
  }

  /** JSON of the access lists an administrator set with `PUT /v1/admin/access` (merged with the config). */
  accessLists(): string {
    return `${this.prefix}:admin:access`;
  }

  /** An API key's record, found by the sha256 (hex) of the key itself: the key is never stored. */
  apiKey(keyHash: string): string {
    return `${this.prefix}:apikey:${keyHash}`;
  }

  /** Present for a minute after an API key's `last_used_at` was written: writes are throttled. */
  apiKeyTouched(keyHash: string): string {
    return `${this.prefix}:apikey:${keyHash}:touched`;
  }

  /** Hash API key id → key hash: the user's keys, for listing and revoking. */
  userApiKeys(ownerId: string): string {
    return `${this.prefix}:user:${ownerId}:apikeys`;
  }

  /** Hash: the user's webhook (url, signing secret, times). */
  userWebhook(ownerId: string): string {
    return `${this.prefix}:user:${ownerId}:webhook`;
  }

  /** List (JSON, newest first, capped): how the user's recent webhook deliveries ended. */
  userWebhookDeliveries(ownerId: string): string {
    return `${this.prefix}:user:${ownerId}:webhook:deliveries`;
  }

  /** Submits of the user that are still uploading: counted as active jobs by the quota. */
  userPendingSubmits(ownerId: string): string {
    return `${this.prefix}:user:${ownerId}:quota:pending`;
  }

  /** Jobs the user submitted on one UTC day (`YYYY-MM-DD`), kept two days. */
  userDailySubmits(ownerId: string, day: string): string {
    return `${this.prefix}:user:${ownerId}:quota:day:${day}`;
  }

  /** Namespace of the request rate-limit counters (`<ns>user:<id>`, `<ns>ip:<address>`). */
  rateLimitNamespace(): string {
    return `${this.prefix}:ratelimit:`;
  }

  /** Pub/sub channel on which cancel requests for running jobs are announced to all workers. */
  cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /** Pub/sub channel announcing every job change, so any API replica can push it to its clients. */
  eventsChannel(): string {
    return `${this.prefix}:events`;
  }

  /** BullMQ prefix; the hash tag keeps each queue's keys in one Redis Cluster slot. */
  queuePrefix(): string {
    return `{${this.prefix}}:bull`;
  }
}
