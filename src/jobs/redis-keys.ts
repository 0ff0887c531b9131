/** Every Redis key and channel name the job store uses, under one configurable prefix. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  job(jobId: string): string {
    return `${this.prefix}:job:${jobId}`;
  }

  userJobs(ownerId: string): string {
    return `${this.prefix}:user:${ownerId}:jobs`;
  }

  /** Pub/sub channel on which cancel requests for running jobs are announced to all workers. */
  cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /** BullMQ prefix; the hash tag keeps each queue's keys in one Redis Cluster slot. */
  queuePrefix(): string {
    return `{${this.prefix}}:bull`;
  }
}
