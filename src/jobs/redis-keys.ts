import type { JobStatus, JobType } from '../contract/index.js';

/** Which slice of a user's history an index holds: everything, one type, one status, or both. */
export interface HistorySlice {
  jobType?: JobType | undefined;
  status?: JobStatus | undefined;
}

/** `{dt}`: the whole prefix is a Redis Cluster hash tag, so all keys under it share one slot. */
export function isHashTagged(prefix: string): boolean {
  return prefix.startsWith('{') && prefix.endsWith('}');
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

  /** Hash worker process id → JSON `{host, pid, concurrency}` written with each heartbeat. */
  workerInfo(): string {
    return `${this.prefix}:worker-info`;
  }

  /** Hash queue name → jobs each worker runs at once, set by `PUT /v1/admin/queues/:queue/concurrency`. */
  queueConcurrency(): string {
    return `${this.prefix}:queue-concurrency`;
  }

  /** Hash of the jobs that ended in one UTC minute (epoch minute): `<outcome>:<queue>`, `code:<error_code>`. */
  queueThroughput(minute: number): string {
    return `${this.prefix}:throughput:${minute}`;
  }

  /**
   * Sorted set (all scores 0, ordered by the time-ordered id) of every QUEUED or PROCESSING job of
   * all owners, kept by the status scripts: the reconciler walks it instead of every record.
   */
  activeJobs(): string {
    return `${this.prefix}:jobs:active`;
  }

  /**
   * The index of every owner's jobs (sorted sets, all scores 0, ordered by the time-ordered id), one
   * per slice like a user's history: all, per type, per status, per type and status. Kept by the
   * same scripts as the owners' indexes; `GET /v1/admin/jobs` pages through it.
   */
  allJobs(slice: HistorySlice = {}): string {
    let key = `${this.prefix}:jobs:all`;
    if (slice.jobType) key += `:type:${slice.jobType}`;
    if (slice.status) key += `:status:${slice.status}`;
    return key;
  }

  /** Set once the index of every owner's jobs was filled from older jobs (see backfill-all-jobs-index.ts). */
  allJobsBackfilled(): string {
    return `${this.prefix}:jobs:all:backfilled`;
  }

  /** Set once the active-job index was filled from older jobs' records (see backfill-active-index.ts). */
  activeJobsBackfilled(): string {
    return `${this.prefix}:jobs:active:backfilled`;
  }

  /**
   * Sorted set job id → time (ms) it reached a final status, written inside the final transition
   * and cleared once its webhooks are queued: a crash in between leaves the id here, and the
   * reconciler queues them again (an outbox, so no final transition goes unannounced).
   */
  finalAnnouncements(): string {
    return `${this.prefix}:jobs:final-unannounced`;
  }

  /** Lock held by the worker process that runs the reconciler (leader election). */
  reconcilerLock(): string {
    return `${this.prefix}:reconciler:leader`;
  }

  idempotencyKey(ownerId: string, keyHash: string): string {
    return `${this.prefix}:idempotency:${ownerId}:${keyHash}`;
  }

  /**
   * Hash: a resumable upload session (`POST /v1/uploads`): owner, file name, declared size, the
   * offset of its stored parts, expiry, state; expires with the session (a consumed one later).
   */
  uploadSession(uploadId: string): string {
    return `${this.prefix}:upload:${uploadId}`;
  }

  /** List of the storage keys of a session's fully received parts, in offset order. */
  uploadSessionParts(uploadId: string): string {
    return `${this.prefix}:upload:${uploadId}:parts`;
  }

  /** Sorted set upload id → expiry (ms) of every open session: the sweep removes the expired ones' parts. */
  uploadSessionsExpiring(): string {
    return `${this.prefix}:uploads:expiring`;
  }

  /** Sorted set upload id → expiry (ms) of the user's open sessions: the per-user cap counts it. */
  userUploadSessions(ownerId: string): string {
    return `${this.prefix}:user:${ownerId}:uploads`;
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

  /**
   * What the user's jobs measured on one UTC day (`YYYY-MM-DD`), kept two days: `pages` read by OCR
   * or `audio-sec` (whole seconds) transcribed, added by the worker (`jobs/usage-quota.ts`).
   */
  userDailyUsage(ownerId: string, unit: 'pages' | 'audio-sec', day: string): string {
    return `${this.prefix}:user:${ownerId}:usage:${unit}:${day}`;
  }

  /**
   * Set of the claim tokens of the job's attempts that began writing outputs
   * (`jobs/<id>/output/<claim>/`), each added before its first output write, under its claim. A
   * claim leaves it when its own run removed its outputs, or when the job is settled (see
   * `outputClaimJobs`); the set goes with the job's record when it is deleted.
   */
  jobOutputClaims(jobId: string): string {
    return `${this.prefix}:job:${jobId}:output-claims`;
  }

  /**
   * Sorted set job id → time (ms) its outputs were last written or cleaned: every job whose
   * output claims are not yet settled (only the published claim left, or none). The completing
   * attempt settles its job at once when no other claim wrote; otherwise the reconciler removes
   * the other claims' outputs once this time is older than its grace period.
   */
  outputClaimJobs(): string {
    return `${this.prefix}:jobs:output-claims`;
  }

  /** Present (30 days) once the job's pages or seconds were added to its owner's daily usage: once per job. */
  jobUsageCounted(jobId: string): string {
    return `${this.prefix}:job:${jobId}:usage`;
  }

  /** Namespace of the request rate-limit counters (`<ns>user:<id>`, `<ns>ip:<address>`). */
  rateLimitNamespace(): string {
    return `${this.prefix}:ratelimit:`;
  }

  /** Hash flag name → `1`/`0`: administrators' runtime overrides of the feature flags. */
  featureFlagOverrides(): string {
    return `${this.prefix}:flags`;
  }

  /** Pub/sub channel announcing a flag change, so every process re-reads the overrides at once. */
  featureFlagsChannel(): string {
    return `${this.prefix}:flags:changed`;
  }

  /** Pub/sub channel on which cancel requests for running jobs are announced to all workers. */
  cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /** Pub/sub channel on which per-worker concurrency changes are announced to all workers. */
  queueControlChannel(): string {
    return `${this.prefix}:queue-control`;
  }

  /** Pub/sub channel announcing every job change, so any API replica can push it to its clients. */
  eventsChannel(): string {
    return `${this.prefix}:events`;
  }

  /**
   * BullMQ prefix; the hash tag keeps each queue's keys in one Redis Cluster slot. A prefix that is
   * itself a hash tag (`{dt}`) puts every key of the deployment, the queues' too, in one slot.
   */
  queuePrefix(): string {
    return isHashTagged(this.prefix) ? `${this.prefix}:bull` : `{${this.prefix}}:bull`;
  }
}
