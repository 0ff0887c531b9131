import { generateKeyPairSync } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import type { Job as BullJob } from 'bullmq';
import { ReplyError } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/contract/index.js';
import { IdempotencyStore } from '../../src/jobs/idempotency-store.js';
import { JobService } from '../../src/jobs/job-service.js';
import type { JobStore } from '../../src/jobs/job-store.js';
import { storageKeys } from '../../src/jobs/storage-keys.js';
import type { Pipeline, PipelineResult } from '../../src/pipelines/pipeline.js';
import { GcsStorage } from '../../src/storage/gcs-storage.js';
import type { ObjectStorage } from '../../src/storage/object-storage.js';
import { S3Storage } from '../../src/storage/s3-storage.js';
import { CancellationRegistry } from '../../src/worker/cancellation-registry.js';
import { JobProcessor } from '../../src/worker/job-processor.js';
import { Reconciler } from '../../src/worker/reconciler.js';
import { RetryPolicy } from '../../src/worker/retry-policy.js';
import { type GcsLoopbackServer, startGcsLoopbackServer } from '../helpers/gcs-loopback-server.js';
import { type S3LoopbackServer, startS3LoopbackServer } from '../helpers/s3-loopback-server.js';
import { FAST_RETRY, startWorkerHarness, type WorkerHarness } from '../helpers/worker-harness.js';
import { waitUntil } from '../helpers/worker-process.js';

// No orphaned outputs: every attempt writes under `jobs/<id>/output/<claim>/`, and whatever a lost
// or superseded attempt wrote is gone once the job is settled — removed by the completer, by the
// run that wrote it, by the run or request that ended the job, or by the reconciler. Runs are
// driven by hand on real Redis against each storage driver (local disk, S3 and GCS loopbacks), so
// the interleavings happen every time. "Killed" runs stop at a write that throws, as a SIGKILLed
// worker stops: nothing after that point runs.

let harness: WorkerHarness;
let s3: S3LoopbackServer;
let gcs: GcsLoopbackServer;
const closers: Array<() => void> = [];

interface Backend {
  name: string;
  storage: ObjectStorage;
  /** Every stored key under `prefix`, sorted (read from the store's own side, not through the driver). */
  keysUnder(prefix: string): Promise<string[]>;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

const backends: Record<string, () => Backend> = {
  local: () => ({
    name: 'local',
    storage: harness.storage,
    async keysUnder(prefix) {
      const files = await filesUnder(path.join(harness.storageDir, prefix));
      return files.map((file) => path.relative(harness.storageDir, file)).sort();
    },
  }),
  s3: () => {
    const storage = new S3Storage({
      bucket: s3.bucket,
      prefix: 'tenant-a/',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      partSizeBytes: 5 * 1024 * 1024,
      signedUrlTtlSec: 0,
      credentials: { accessKeyId: 'loopback', secretAccessKey: 'loopback-secret' },
    });
    closers.push(() => storage.close());
    return {
      name: 's3',
      storage,
      async keysUnder(prefix) {
        const full = `tenant-a/${prefix}`;
        return [...s3.objects.keys()]
          .filter((k) => k.startsWith(full))
          .map((k) => k.slice('tenant-a/'.length))
          .sort();
      },
    };
  },
  gcs: () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const storage = new GcsStorage({
      bucket: gcs.bucket,
      prefix: 'tenant-a/',
      endpoint: gcs.endpoint,
      chunkSizeBytes: 256 * 1024,
      signedUrlTtlSec: 0,
      projectId: 'test-project',
      credentials: {
        client_email: 'doc-transcribe@test-project.iam.gserviceaccount.com',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    return {
      name: 'gcs',
      storage,
      async keysUnder(prefix) {
        const full = `tenant-a/${prefix}`;
        return [...gcs.objects.keys()]
          .filter((k) => k.startsWith(full))
          .map((k) => k.slice('tenant-a/'.length))
          .sort();
      },
    };
  },
};

beforeAll(async () => {
  harness = await startWorkerHarness('orphaned-outputs', async () => ({
    outputs: {},
    engine: 'unused',
    quality: null,
  }));
  s3 = await startS3LoopbackServer();
  gcs = await startGcsLoopbackServer();
});
afterAll(async () => {
  for (const close of closers) close();
  await s3?.close();
  await gcs?.close();
  await harness?.close();
});

/** A gate a run waits at until the test opens it. */
function gate() {
  let open = () => {};
  let reached = false;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    open,
    get reached() {
      return reached;
    },
    async pass() {
      reached = true;
      await opened;
    },
  };
}

/** What BullMQ hands a processor: the n-th delivery of the job. */
function delivery(jobId: string, n: number): BullJob {
  return {
    data: { job_id: jobId, request_id: `req-${jobId}`, job_type: 'OCR' },
    attemptsStarted: n,
    attemptsMade: n - 1,
    queueName: 'ocr',
    moveToDelayed: async () => undefined,
  } as unknown as BullJob;
}

function processor(name: string, pipeline: Pipeline, deps: { storage: ObjectStorage; store?: JobStore }) {
  return new JobProcessor({
    store: deps.store ?? harness.store,
    storage: deps.storage,
    pipelines: { OCR: pipeline, TRANSCRIPTION: pipeline },
    // Never started: cancels reach the runs through the record's flag (progress writes).
    cancellations: new CancellationRegistry(harness.redis, harness.keys.cancelChannel(), harness.logger),
    retryPolicy: new RetryPolicy(FAST_RETRY),
    extraWork: { min: 20, perUnit: 0.5 },
    deadLetters: harness.deadLetters,
    tmpDir: path.join(os.tmpdir(), `dt-orphaned-outputs-${name}-${process.pid}`),
    workerId: name,
    logger: harness.logger.child({ worker_id: name }),
  });
}

/** Run `run`'s outputs: a text and a JSON result. */
const result = (run: string): PipelineResult => ({
  outputs: { txt: `output of run ${run}`, json: JSON.stringify({ run }) },
  engine: `run ${run}`,
  quality: null,
});

/** The job store of a worker killed (SIGKILL) at its COMPLETED write: it never lands, nothing after it runs. */
function storeKilledAt(method: 'completion' | 'cleanup'): JobStore {
  return new Proxy(harness.store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (method === 'completion' && property === 'transition') {
        return (...args: Parameters<JobStore['transition']>) =>
          args[1] === 'COMPLETED'
            ? Promise.reject(new ReplyError('killed (SIGKILL) before its completion'))
            : target.transition(...args);
      }
      if (method === 'cleanup' && property === 'settleOutputClaims') {
        return () => Promise.reject(new ReplyError('killed (SIGKILL) before its cleanup'));
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Storage whose output writes wait at `outputGate` first (the run is between its check and its write). */
function storageHeldAt(storage: ObjectStorage, outputGate: ReturnType<typeof gate>): ObjectStorage {
  return new Proxy(storage, {
    get(target, property, receiver) {
      if (property === 'put') {
        return async (key: string, body: Parameters<ObjectStorage['put']>[1]) => {
          if (key.includes('/output/')) await outputGate.pass();
          return target.put(key, body);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const logsOf = (jobId: string, event: string) =>
  harness.logs.filter((l) => l.job_id === jobId && l.event === event);

const claimOf = async (jobId: string) => (await harness.store.get(jobId))?.claim_token ?? '';

const outputKeys = (jobId: string, claim: string) => [
  storageKeys.output(jobId, 'json', claim),
  storageKeys.output(jobId, 'txt', claim),
];

/** The job's output claims are settled: no set, no entry in the index of unsettled outputs. */
async function expectSettled(jobId: string): Promise<void> {
  expect(await harness.redis.exists(harness.keys.jobOutputClaims(jobId))).toBe(0);
  expect(await harness.redis.zscore(harness.keys.outputClaimJobs(), jobId)).toBeNull();
}

describe.each(Object.keys(backends))('outputs of lost and superseded attempts (%s storage)', (driver) => {
  let backend: Backend;
  let service: JobService;
  let reconciler: Reconciler;
  beforeAll(() => {
    backend = (backends[driver] as () => Backend)();
    service = new JobService(
      harness.store,
      harness.queues,
      backend.storage,
      { ocrLanguages: 'eng', transcriptionLanguage: 'en' },
      new IdempotencyStore(harness.redis, harness.keys, { ttlSec: 60, lockSec: 60 }),
      harness.logger,
    );
    reconciler = new Reconciler({
      redis: harness.redis,
      store: harness.store,
      queues: harness.queues,
      storage: backend.storage,
      intervalMs: 60_000,
      graceMs: 0,
      logger: harness.logger,
    });
  });
  afterAll(async () => {
    await reconciler?.stop();
  });

  /** A QUEUED job (off the queue: runs are driven by hand) whose input is in this backend. */
  async function createJob(): Promise<string> {
    const jobId = await harness.createJob({ enqueue: false });
    if (backend.name !== 'local') await backend.storage.put(storageKeys.input(jobId), 'input bytes');
    return jobId;
  }

  /** Attempt A claims the job, writes both outputs and is killed before its completion lands. */
  async function lostAttemptWrote(jobId: string): Promise<string> {
    const lost = processor('A', async () => result('A'), {
      storage: backend.storage,
      store: storeKilledAt('completion'),
    });
    await expect(lost.process(delivery(jobId, 1))).rejects.toThrow(/SIGKILL/);
    const claimA = await claimOf(jobId);
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId, claimA))).toEqual(
      outputKeys(jobId, claimA),
    );
    return claimA;
  }

  async function reconcilerRepairsOf(jobId: string) {
    return (await reconciler.runOnce(Date.now() + 1000)).filter((r) => r.job_id === jobId);
  }

  async function downloaded(jobId: string): Promise<string> {
    const opened = await service.openResult(jobId, 'tester', 'txt');
    if (opened.redirectUrl !== undefined) throw new Error('signed downloads are off here');
    return text(opened.body);
  }

  it(`a lost attempt's outputs go once another attempt completes the job; the result stays downloadable`, async () => {
    const jobId = await createJob();
    const claimA = await lostAttemptWrote(jobId);

    await processor('B', async () => result('B'), { storage: backend.storage }).process(delivery(jobId, 2));
    const done = await harness.store.get(jobId);
    expect(done).toMatchObject({ status: 'COMPLETED', engine: 'run B', attempts: 2 });
    const claimB = done?.claim_token ?? '';
    expect(claimB).not.toBe(claimA);
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId))).toEqual(outputKeys(jobId, claimB));
    expect(await downloaded(jobId)).toBe('output of run B');
    expect(logsOf(jobId, 'job.stale_outputs_removed').map((l) => l.claims)).toEqual([[claimA]]);

    // Its claim stays listed until the reconciler's pass (A might still have been writing): that
    // pass finds nothing left to remove, logs no repair and settles the job.
    expect(await harness.redis.smembers(harness.keys.jobOutputClaims(jobId))).toHaveLength(2);
    expect(await reconcilerRepairsOf(jobId)).toEqual([]);
    await expectSettled(jobId);
    expect(await downloaded(jobId)).toBe('output of run B');
  });

  it('a superseded attempt whose write lands after the other one completed removes it itself', async () => {
    const jobId = await createJob();
    const held = gate();
    const firstRun = processor('A', async () => result('A'), {
      storage: storageHeldAt(backend.storage, held),
    }).process(delivery(jobId, 1));
    await waitUntil(() => held.reached, 'the first run at its output write');
    const claimA = await claimOf(jobId);

    await processor('B', async () => result('B'), { storage: backend.storage }).process(delivery(jobId, 2));
    const claimB = await claimOf(jobId);
    held.open();
    await firstRun;
    expect(logsOf(jobId, 'job.stale_attempt').map((l) => l.write)).toEqual(['completion']);
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId))).toEqual(outputKeys(jobId, claimB));
    expect(await backend.storage.exists(storageKeys.output(jobId, 'txt', claimA))).toBe(false);
    // A took its own claim off the list: the job is settled without the reconciler.
    await expectSettled(jobId);
    expect(await downloaded(jobId)).toBe('output of run B');
  });

  it('the reconciler removes what a superseded attempt wrote after the cleanup and was killed before its refused write', async () => {
    const jobId = await createJob();
    const held = gate();
    const firstRun = processor('A', async () => result('A'), {
      storage: storageHeldAt(backend.storage, held),
      store: storeKilledAt('completion'),
    }).process(delivery(jobId, 1));
    await waitUntil(() => held.reached, 'the first run at its output write');
    const claimA = await claimOf(jobId);

    await processor('B', async () => result('B'), { storage: backend.storage }).process(delivery(jobId, 2));
    const claimB = await claimOf(jobId);
    held.open();
    await expect(firstRun).rejects.toThrow(/SIGKILL/);
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId, claimA))).toEqual(
      outputKeys(jobId, claimA),
    );

    expect(await reconcilerRepairsOf(jobId)).toEqual([{ job_id: jobId, repair: 'removed_stale_outputs' }]);
    const repaired = harness.logs.filter((l) => l.event === 'reconciler.repaired' && l.job_id === jobId);
    expect(repaired).toEqual([
      expect.objectContaining({ repair: 'removed_stale_outputs', claims: [claimA] }),
    ]);
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId))).toEqual(outputKeys(jobId, claimB));
    expect(await downloaded(jobId)).toBe('output of run B');
    await expectSettled(jobId);
    expect(await reconcilerRepairsOf(jobId)).toEqual([]);
  });

  it('the reconciler removes the other claims’ outputs when the completer was killed between its transition and its cleanup', async () => {
    const jobId = await createJob();
    const claimA = await lostAttemptWrote(jobId);
    await processor('B', async () => result('B'), {
      storage: backend.storage,
      store: storeKilledAt('cleanup'),
    }).process(delivery(jobId, 2));
    const claimB = await claimOf(jobId);
    expect((await harness.store.get(jobId))?.status).toBe('COMPLETED');
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId, claimA))).toHaveLength(2);

    expect(await reconcilerRepairsOf(jobId)).toEqual([{ job_id: jobId, repair: 'removed_stale_outputs' }]);
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId))).toEqual(outputKeys(jobId, claimB));
    expect(await downloaded(jobId)).toBe('output of run B');
    await expectSettled(jobId);
  });

  it('a job its worker cancels loses the outputs of every claim', async () => {
    const jobId = await createJob();
    const claimA = await lostAttemptWrote(jobId);
    const running = gate();
    const secondRun = processor(
      'B',
      async (_input, context) => {
        await running.pass();
        await context.reportProgress({ stage: 'page 1 of 1', progress: 50 });
        if (context.signal.aborted) throw context.signal.reason;
        return result('B');
      },
      { storage: backend.storage },
    ).process(delivery(jobId, 2));
    await waitUntil(() => running.reached, 'the second run');
    expect((await harness.store.requestCancel(jobId)).outcome).toBe('requested');
    running.open();
    await secondRun;
    expect((await harness.store.get(jobId))?.status).toBe('CANCELLED');
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId))).toEqual([]);
    expect(logsOf(jobId, 'job.stale_outputs_removed').map((l) => l.claims)).toEqual([[claimA]]);
    expect(await reconcilerRepairsOf(jobId)).toEqual([]);
    await expectSettled(jobId);
  });

  it('a queued job cancelled through the API loses a lost attempt’s outputs', async () => {
    const jobId = await createJob();
    const claimA = await lostAttemptWrote(jobId);
    // The lost claim was handed back (as the next claim or the reconciler does): QUEUED, waiting.
    const handed = await harness.store.transition(
      jobId,
      'QUEUED',
      { stage: 'recovered after worker loss' },
      { onlyFrom: ['PROCESSING'], claimToken: claimA },
    );
    expect(handed.ok).toBe(true);

    expect((await service.cancel(jobId, 'tester', 'req-cancel')).status).toBe('CANCELLED');
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId))).toEqual([]);
    expect(logsOf(jobId, 'job.stale_outputs_removed').map((l) => l.claims)).toEqual([[claimA]]);
    expect(await reconcilerRepairsOf(jobId)).toEqual([]);
    await expectSettled(jobId);
  });

  it('a job that fails loses the outputs of every claim, and is settled', async () => {
    const jobId = await createJob();
    await lostAttemptWrote(jobId);
    await expect(
      processor(
        'B',
        async () => {
          throw new AppError('INPUT_UNREADABLE');
        },
        { storage: backend.storage },
      ).process(delivery(jobId, 2)),
    ).rejects.toThrow(/INPUT_UNREADABLE/);
    expect((await harness.store.get(jobId))?.status).toBe('FAILED');
    expect(await backend.keysUnder(storageKeys.outputPrefix(jobId))).toEqual([]);
    expect(await reconcilerRepairsOf(jobId)).toEqual([]);
    await expectSettled(jobId);
  });

  it('deleting a job removes everything under jobs/<id>/ and its output claims', async () => {
    const jobId = await createJob();
    await lostAttemptWrote(jobId);
    await processor('B', async () => result('B'), { storage: backend.storage }).process(delivery(jobId, 2));
    // Not settled yet (the lost claim stays listed until the reconciler's pass).
    expect(await harness.redis.exists(harness.keys.jobOutputClaims(jobId))).toBe(1);
    expect(await backend.keysUnder(storageKeys.jobPrefix(jobId))).not.toEqual([]);

    await service.delete(jobId, 'tester', 'req-delete');
    expect(await harness.store.get(jobId)).toBeNull();
    expect(await backend.keysUnder(storageKeys.jobPrefix(jobId))).toEqual([]);
    await expectSettled(jobId);
  });
});

describe('the per-job extra-work budget', () => {
  it('is not spent by a superseded attempt: its spend is refused and it stops', async () => {
    const jobId = await harness.createJob({ enqueue: false });
    const spendingRun = (run: string, at: ReturnType<typeof gate>): Pipeline => {
      return async (_input, context) => {
        await at.pass();
        await context.extraWork?.spend('ocr_psm_retry');
        return result(run);
      };
    };
    const firstGate = gate();
    const firstRun = processor('A', spendingRun('A', firstGate), { storage: harness.storage }).process(
      delivery(jobId, 1),
    );
    await waitUntil(() => firstGate.reached, 'the first run');
    const secondGate = gate();
    const secondRun = processor('B', spendingRun('B', secondGate), { storage: harness.storage }).process(
      delivery(jobId, 2),
    );
    await waitUntil(() => secondGate.reached, 'the second run');

    firstGate.open();
    await firstRun;
    expect(logsOf(jobId, 'job.stale_attempt').map((l) => l.write)).toEqual(['extra_work']);
    expect((await harness.store.get(jobId))?.extra_work_used ?? 0).toBe(0);
    expect(logsOf(jobId, 'job.attempt_failed')).toHaveLength(0);

    secondGate.open();
    await secondRun;
    expect(await harness.store.get(jobId)).toMatchObject({
      status: 'COMPLETED',
      engine: 'run B',
      extra_work_used: 1,
    });
  });
});
