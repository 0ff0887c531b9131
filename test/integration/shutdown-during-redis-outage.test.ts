import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ShutdownSafeRedis } from '../../src/jobs/shutdown-safe-redis.js';
import { type OwnRedisServer, ownRedisServer } from '../helpers/own-redis-server.js';
import { startTestService } from '../helpers/test-service.js';

// A shutdown that hangs is the failure here, so each close races a generous deadline and a hang
// fails with a message instead of the hook timeout. No assertion is about how fast it closes.
const HANG_MS = 15_000;

async function settlesWithin<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} never finished`)), HANG_MS);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

async function statusBecomes(client: Redis, status: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (client.status !== status) {
    if (Date.now() > deadline) throw new Error(`client stayed ${client.status}, never ${status}`);
    await sleep(2);
  }
}

let redis: OwnRedisServer | undefined;
afterEach(async () => {
  await redis?.dispose();
  redis = undefined;
});

describe('a Redis connection closed between two reconnect attempts', () => {
  it('ends, so whoever waits for its end event is not left waiting', async () => {
    redis = await ownRedisServer();
    const client = new ShutdownSafeRedis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    await once(client, 'ready');
    await redis.stop();
    await statusBecomes(client, 'reconnecting');

    const ended = once(client, 'end');
    client.disconnect();
    await settlesWithin(ended, 'the disconnect');
    expect(client.status).toBe('end');
  });

  it('keeps that behaviour in every duplicate, as BullMQ makes for its blocking connection', async () => {
    redis = await ownRedisServer();
    const base = new ShutdownSafeRedis(redis.url, { lazyConnect: true });
    const copy = base.duplicate({ maxRetriesPerRequest: null });
    expect(copy).toBeInstanceOf(ShutdownSafeRedis);
    expect(copy.options.maxRetriesPerRequest).toBeNull();
    copy.disconnect();
    base.disconnect();
  });
});

describe('a BullMQ worker closed while Redis is away', () => {
  const startWorker = async (url: string, retryDelayMs?: number) => {
    const connection = new ShutdownSafeRedis(url, {
      maxRetriesPerRequest: null,
      ...(retryDelayMs ? { retryStrategy: () => retryDelayMs } : {}),
    });
    connection.on('error', () => undefined);
    const worker = new Worker('outage-close', async () => undefined, { connection });
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
    // Let the worker park in its blocking wait for a job.
    await sleep(300);
    return { worker, connection };
  };

  it('closes during the outage', async () => {
    redis = await ownRedisServer();
    const { worker, connection } = await startWorker(redis.url);
    await redis.stop();
    await statusBecomes(connection, 'reconnecting');
    await settlesWithin(worker.close(), 'Worker.close()');
    connection.disconnect();
  });

  it('closes just after Redis is back, while its connections still wait to reconnect', async () => {
    redis = await ownRedisServer();
    // A long retry delay holds the connections between two attempts after Redis is back, the
    // window a loaded machine opens with ioredis's default delays.
    const { worker, connection } = await startWorker(redis.url, 4_000);
    await redis.stop();
    await statusBecomes(connection, 'reconnecting');
    await redis.start();
    expect(connection.status).toBe('reconnecting');
    await settlesWithin(worker.close(), 'Worker.close()');
    connection.disconnect();
  });
});

describe('the whole service', () => {
  it('stops on close while Redis is down, with its API, worker and subscribers', async () => {
    redis = await ownRedisServer();
    const svc = await startTestService('outage-close', { REDIS_URL: redis.url, WORKER_QUEUES: 'ocr' });
    await svc.service.worker?.checkConsumers();
    await redis.stop();
    const deadline = Date.now() + 10_000;
    while ((await fetch(`${svc.url}/readyz`)).status !== 503) {
      if (Date.now() > deadline) throw new Error('/readyz never noticed the outage');
      await sleep(100);
    }
    await settlesWithin(svc.close(), 'service.close()');
    expect(svc.logs.some((line) => line.event === 'service.stopped')).toBe(true);
  });
});
