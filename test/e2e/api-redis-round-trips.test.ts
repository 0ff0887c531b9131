import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, JobList } from '../../src/contract/index.js';
import { connectTestRedis } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { TINY_PNG, tinyWav } from '../helpers/tiny-files.js';

// The Redis commands one request costs, seen through MONITOR: the hot read paths must not grow
// with the page (one transaction per queued job) nor pay MULTI/EXEC for a single lookup.
let svc: TestService;
let prefix: string;
let monitorClient: Redis;
let sentinelClient: Redis;
const jobs: Job[] = [];

interface SeenCommand {
  source: string;
  args: string[];
}

/** Every command the service sent while `action` ran (other clients of the server are left out). */
async function commandsOf(action: () => Promise<void>): Promise<string[][]> {
  const monitor = await monitorClient.monitor();
  const seen: SeenCommand[] = [];
  const sentinel = `${prefix}:sentinel:${Math.random()}`;
  let resolveSentinel: () => void = () => undefined;
  const sentinelSeen = new Promise<void>((resolve) => {
    resolveSentinel = resolve;
  });
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args.includes(sentinel)) resolveSentinel();
    else seen.push({ source, args: args.map(String) });
  });
  try {
    await action();
    // MONITOR lists commands in the order they ran: once the sentinel is seen, all of them are in.
    await sentinelClient.get(sentinel);
    await sentinelSeen;
  } finally {
    monitor.disconnect();
  }
  // The service's connections are those that touched its keys; MULTI/EXEC name no key. Commands
  // run by scripts (source `lua`) are part of the script's one command.
  const sent = seen.filter((c) => c.source !== 'lua');
  const mentions = (c: SeenCommand) => c.args.some((arg) => arg.includes(prefix));
  const sources = new Set(sent.filter(mentions).map((c) => c.source));
  return sent.filter((c) => sources.has(c.source)).map((c) => c.args);
}

const name = (command: string[]) => (command[0] ?? '').toLowerCase();

beforeAll(async () => {
  // Rate limits on: their counter is part of every request's cost.
  svc = await startTestService('round-trips', {
    SERVICE_ROLE: 'api',
    RATE_LIMIT_MAX: '10000',
    RATE_LIMIT_ANONYMOUS_MAX: '10000',
  });
  prefix = svc.service.store.keys.prefix;
  monitorClient = connectTestRedis();
  sentinelClient = connectTestRedis();
  for (let i = 0; i < 4; i++) {
    const response = await submitFile(svc.url, { name: `scan-${i}.png`, bytes: TINY_PNG });
    jobs.push((await response.json()) as Job);
  }
  for (let i = 0; i < 2; i++) {
    const response = await submitFile(svc.url, { name: `talk-${i}.wav`, bytes: tinyWav() });
    jobs.push((await response.json()) as Job);
  }
});
afterAll(async () => {
  await monitorClient?.quit();
  await sentinelClient?.quit();
  await svc?.close();
});

describe('Redis commands per request', () => {
  it('answers GET /v1/jobs/:id of a queued job with the rate limit, the record and one position lookup', async () => {
    const job = jobs[1] as Job;
    let body: Job | undefined;
    const commands = await commandsOf(async () => {
      body = (await (await fetch(`${svc.url}/v1/jobs/${job.job_id}`)).json()) as Job;
    });
    expect(body?.queue_position).toBe(2);
    expect(commands.map(name)).not.toContain('multi');
    expect(commands.length).toBeLessThanOrEqual(3);
  });

  it('looks the position up by the SHA of its script (EVALSHA), not by sending its source on every poll', async () => {
    const job = jobs[0] as Job;
    // The first call may load the script (EVAL after NOSCRIPT); every later poll sends only its SHA.
    await fetch(`${svc.url}/v1/jobs/${job.job_id}`);
    let body: Job | undefined;
    const commands = await commandsOf(async () => {
      body = (await (await fetch(`${svc.url}/v1/jobs/${job.job_id}`)).json()) as Job;
    });
    expect(body?.queue_position).toBe(1);
    const lookups = commands.filter((command) => command.some((arg) => /:bull:ocr:wait$/.test(arg)));
    expect(lookups.map(name)).toEqual(['evalsha']);
    expect(commands.filter((command) => name(command) === 'eval')).toEqual([]);
  });

  it('reads the queue positions of a whole history page in one command per queue', async () => {
    let page: JobList | undefined;
    const commands = await commandsOf(async () => {
      page = (await (await fetch(`${svc.url}/v1/jobs?limit=50`)).json()) as JobList;
    });
    expect(page?.items).toHaveLength(6);
    expect(page?.items.map((item) => item.queue_position)).toEqual([2, 1, 4, 3, 2, 1]);
    const waitListReads = commands.filter((command) => command.some((arg) => /:bull:[a-z]+:wait$/.test(arg)));
    expect(waitListReads).toHaveLength(2);
    expect(commands.map(name)).not.toContain('multi');
  });
});
