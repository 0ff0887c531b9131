import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix that belongs to one test file only; `cleanup` deletes exactly its keys. */
export function testKeyPrefix(name: string): string {
  return `dt-test:${name}:${randomBytes(4).toString('hex')}`;
}

export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  // Plain keys (`<prefix>:…`) and the hash-tagged queue keys (`{<prefix>}:…`).
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  }
}

export function connectTestRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
}
