import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import { storageKeys } from '../jobs/storage-keys.js';
import type { ReadinessChecks } from '../observability/readiness.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { RunningWorker } from '../worker/start-worker.js';
import { chooseTesseract, createSpeechEngine } from './build-pipelines.js';

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

/**
 * The engines this worker's queues use, with the languages and models they are configured for:
 * tesseract must have every default OCR language installed, a speech engine must say it is ready.
 * Success is remembered: installed languages and models do not vanish while the process runs.
 */
export function engineChecks(config: Config): ReadinessChecks {
  const checks: ReadinessChecks = {};
  if (config.worker.queues.includes('ocr')) {
    const tesseract = chooseTesseract(config.ocr.tesseractRuntime);
    checks.ocr_engine = onceOk(async () => {
      await tesseract.version();
      await tesseract.assertLanguages(config.ocr.languages);
    });
  }
  if (config.worker.queues.includes('transcription')) {
    const speech = createSpeechEngine(config);
    checks.speech_engine = onceOk(async () => {
      if (speech.checkReady) await speech.checkReady();
      else await speech.version();
    });
  }
  return checks;
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

function onceOk(check: () => Promise<void>): () => Promise<void> {
  let passed = false;
  return async () => {
    if (passed) return;
    await check();
    passed = true;
  };
}
