import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { JOB_TYPES, type JobType, QUEUE_NAMES, type QueueOverview } from '../contract/index.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * What travels through the queue: ids only. The job record in Redis and the file in storage hold
 * the rest, so a payload never carries user content. Validated when enqueued and when consumed.
 */
export const queuePayloadSchema = z.object({
  job_id: z.string(),
  request_id: z.string(),
  job_type: z.enum(JOB_TYPES),
});
export type QueuePayload = z.infer<typeof queuePayloadSchema>;

/**
 * Each id's place in the wait list (length − index, as `positionOf`), 0 when it is not waiting. A
 * waiting job's position (1 = next to run) in BullMQ's wait list, where new jobs are pushed at
 * the head and workers take from the tail. LPOS scans, so the near end is tried first: a job close
 * to running (the one people watch) is found from the tail in a few steps, one just submitted from
 * the head; only a job in the middle of a long queue costs a scan of its length. LPOS answers the
 * index from the head whichever end it starts from.
 */
const POSITIONS_SCRIPT = `
local length = redis.call('LLEN', KEYS[1])
local near = tonumber(ARGV[1])
local positions = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local index = redis.call('LPOS', KEYS[1], id, 'RANK', -1, 'MAXLEN', near)
  if not index then index = redis.call('LPOS', KEYS[1], id) end
  positions[i - 1] = index and (length - index) or 0
end
return positions
`;
/** How far from the tail a position is looked for before the whole wait list is scanned from the head. */
const NEAR_TAIL = 256;
/**
 * The script as an ioredis command: sent by its SHA1 (EVALSHA), its source only once per Redis
 * server (ioredis falls back to EVAL on NOSCRIPT, after a restart or failover). EVAL with the
 * source on every status poll cost the API a SHA1 of it per call on both sides.
 */
const POSITIONS_COMMAND = 'dtQueuePositions';
type PositionsCommand = (
  key: string,
  near: number,
  ...ids: string[]
) => Promise<Array<number | false | null>>;

/** The BullMQ queues, one per workload (`ocr`, `transcription`), so each scales on its own. */
export class JobQueues {
  private readonly queues: Map<JobType, Queue>;

  private readonly positionsScript: PositionsCommand;

  constructor(
    private readonly connection: Redis,
    private readonly keys: RedisKeys,
  ) {
    if (!(POSITIONS_COMMAND in connection)) {
      connection.defineCommand(POSITIONS_COMMAND, { numberOfKeys: 1, lua: POSITIONS_SCRIPT });
    }
    const command = (connection as unknown as Record<string, PositionsCommand>)[POSITIONS_COMMAND];
    if (!command) throw new Error(`ioredis did not define ${POSITIONS_COMMAND}`);
    this.positionsScript = command.bind(connection);
    this.queues = new Map(
      JOB_TYPES.map((type) => [
        type,
        new Queue(QUEUE_NAMES[type], { connection, prefix: keys.queuePrefix() }),
      ]),
    );
  }

  get prefix(): string {
    return this.keys.queuePrefix();
  }

  queueFor(type: JobType): Queue {
    const queue = this.queues.get(type);
    if (!queue) throw new Error(`no queue for job type ${type}`);
    return queue;
  }

  async enqueue(payload: QueuePayload): Promise<void> {
    const data = queuePayloadSchema.parse(payload);
    await this.queueFor(data.job_type).add('process', data, {
      // The BullMQ job id is our job id: adding the same job twice is a no-op.
      jobId: data.job_id,
      // One BullMQ attempt: the worker's retry policy (worker/retry-policy.ts) schedules retries
      // itself by moving the job to delayed, with a delay per error class.
      attempts: 1,
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  /** The BullMQ state of a job's queue entry, or null when it has none. */
  async stateOf(type: JobType, jobId: string): Promise<string | null> {
    const job = await this.queueFor(type).getJob(jobId);
    if (!job) return null;
    const state = await job.getState();
    return state === 'unknown' ? null : state;
  }

  /**
   * Puts a job on its queue again (a dead-letter replay, a reconciler repair): a finished queue
   * entry under the same id is removed first, since adding over it would be a no-op.
   */
  async requeue(payload: QueuePayload): Promise<void> {
    const state = await this.stateOf(payload.job_type, payload.job_id);
    if (state === 'failed' || state === 'completed')
      await this.queueFor(payload.job_type).remove(payload.job_id);
    await this.enqueue(payload);
  }

  /** Takes a waiting job off its queue; a job a worker already holds is left to the worker. */
  async removeWaiting(type: JobType, jobId: string): Promise<void> {
    const job = await this.queueFor(type).getJob(jobId);
    if (!job) return;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') await job.remove();
  }

  /** Removes the queue entry whatever its state (used when a stopped job is deleted). */
  async remove(type: JobType, jobId: string): Promise<void> {
    await this.queueFor(type).remove(jobId);
  }

  /**
   * 1 for the job its queue starts next, null when the job is not waiting. Workers take from the
   * right end of the wait list (BullMQ pushes new jobs on the left), so position = length − index.
   */
  async positionOf(type: JobType, jobId: string): Promise<number | null> {
    return (await this.positionsOf(type, [jobId]))[0] ?? null;
  }

  /**
   * The positions of several jobs of one queue (as `positionOf`, in the order asked), read in one
   * script call: one round trip for a whole history page instead of one transaction per job.
   */
  async positionsOf(type: JobType, jobIds: readonly string[]): Promise<Array<number | null>> {
    if (jobIds.length === 0) return [];
    const reply = await this.positionsScript(this.queueFor(type).toKey('wait'), NEAR_TAIL, ...jobIds);
    return jobIds.map((_, i) => {
      const position = reply[i];
      return typeof position === 'number' && position > 0 ? position : null;
    });
  }

  /** Counts of every queue and the age of its oldest waiting job, for `GET /v1/queues`. */
  async overview(now = Date.now()): Promise<QueueOverview[]> {
    return Promise.all(
      JOB_TYPES.map(async (type) => {
        const queue = this.queueFor(type);
        const counts = await queue.getJobCounts(
          'waiting',
          'active',
          'delayed',
          'failed',
          'paused',
          'prioritized',
        );
        // A paused queue keeps its waiting jobs in `paused`: they wait too, and age there.
        const oldestIds = await Promise.all(
          (['wait', 'paused'] as const).map((list) => this.connection.lindex(queue.toKey(list), -1)),
        );
        const candidates = await Promise.all(
          oldestIds.filter((id): id is string => id !== null).map((id) => queue.getJob(id)),
        );
        const oldest = candidates
          .filter((job) => job !== undefined)
          .sort((a, b) => a.timestamp - b.timestamp)[0];
        return {
          name: queue.name,
          job_type: type,
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.paused ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
          oldest_waiting_age_sec: oldest ? Math.max(0, Math.round((now - oldest.timestamp) / 1000)) : null,
        };
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
