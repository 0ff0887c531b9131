import type { Redis } from 'ioredis';

/** A key prefix as a literal inside a SCAN MATCH pattern. */
function globLiteral(text: string): string {
  return text.replace(/[\\*?[\]]/g, '\\$&');
}

/**
 * Visits every job id in every owner's history index under `prefix` whose key ends with `suffix`
 * (`''`: all of an owner's jobs; `':status:QUEUED'`: one status), one at a time: SCAN for the
 * indexes, then each index's members. For upgrade backfills, which must reach jobs that no newer
 * index lists yet.
 */
export async function forEachOwnerIndexedJob(
  redis: Redis,
  prefix: string,
  suffix: string,
  visit: (jobId: string) => Promise<void>,
): Promise<void> {
  const pattern = `${globLiteral(prefix)}:user:*:jobs${globLiteral(suffix)}`;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const index of found) {
      for (const jobId of await redis.zrange(index, 0, -1)) await visit(jobId);
    }
  } while (cursor !== '0');
}
