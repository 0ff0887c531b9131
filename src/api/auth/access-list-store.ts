import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RedisKeys } from '../../jobs/redis-keys.js';

const email = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address');
const domain = z
  .string()
  .trim()
  .toLowerCase()
  .transform((d) => d.replace(/^@/, ''))
  .pipe(z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a domain like example.org'));
const blocked = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^([^\s@]+@[^\s@]+\.[^\s@]+|@[a-z0-9-]+(\.[a-z0-9-]+)+)$/, 'an address or @domain');
const list = <T extends z.ZodType<string, string>>(item: T) => z.array(item).max(10_000).default([]);

/** `PUT /v1/admin/access`: the lists kept in Redis, each replacing what was stored before. */
export const accessListsSchema = z.strictObject({
  allowed_emails: list(email),
  allowed_domains: list(domain),
  admin_emails: list(email),
  blocked_emails: list(blocked),
});
export type AccessLists = z.infer<typeof accessListsSchema>;

export const NO_ACCESS_LISTS: AccessLists = {
  allowed_emails: [],
  allowed_domains: [],
  admin_emails: [],
  blocked_emails: [],
};

/**
 * Access lists an administrator sets through the API, in Redis so every API replica applies a
 * change on its next request, without a restart. They add to the lists from the configuration.
 */
export class AccessListStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async get(): Promise<AccessLists> {
    const raw = await this.redis.get(this.keys.accessLists());
    if (!raw) return NO_ACCESS_LISTS;
    const parsed = accessListsSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : NO_ACCESS_LISTS;
  }

  async put(lists: AccessLists): Promise<void> {
    await this.redis.set(this.keys.accessLists(), JSON.stringify(lists));
  }
}
