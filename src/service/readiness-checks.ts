import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { storageKeys } from '../jobs/storage-keys.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { RunningWorker } from '../worker/start-worker.js';

/** Redis answers a PING. */
export function redisCheck(redis: Redis): () => Promise<void> {
  return async () => {
    await redis.ping();
  };
}

/** Storage takes a small object, gives the same bytes back and deletes it. */
export function storageCheck(storage: ObjectStorage): () => Promise<void> {
  return async () => {
    const id = randomUUID();
    const body = `readiness ${id}`;
    try {
      await storage.put(storageKeys.readinessProbe(id), body);
      const chunks: Buffer[] = [];
      for await (const chunk of await storage.get(storageKeys.readinessProbe(id)))
        chunks.push(Buffer.from(chunk));
      if (Buffer.concat(chunks).toString('utf8') !== body)
        throw new Error('storage returned other bytes than written');
    } finally {
      await storage.deletePrefix(storageKeys.readinessPrefix(id));
    }
  };
}

/** The worker's scratch directory takes a file: jobs download their input and render pages there. */
export function scratchDirCheck(tmpDir: string): () => Promise<void> {
  return async () => {
    const probe = path.join(tmpDir, `.readiness-${randomUUID()}`);
    try {
      await writeFile(probe, 'ok');
    } finally {
      await rm(probe, { force: true });
    }
  };
}

/** Every BullMQ consumer of this worker runs (not closed, not paused unexpectedly). */
export function consumersCheck(worker: RunningWorker): () => Promise<void> {
  return () => worker.checkConsumers();
}
