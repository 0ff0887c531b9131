import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Problem } from '../../src/contract/index.js';
import { makeScannedPng } from '../helpers/make-document-fixtures.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { type EventStreamClient, openEventStream, type SseEvent } from '../helpers/sse-client.js';
import { testKeyPrefix } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';

// One deployment spread over three processes' worth of roles sharing one Redis: a worker with no
// API, and two API replicas without workers. Events written by the worker must reach clients of
// either replica; a cancel sent to one replica must stop the work on the worker.
let worker: TestService;
let apiA: TestService;
let apiB: TestService;
let dir: string;
const streams: EventStreamClient[] = [];

const jobOf = (event: SseEvent) => JSON.parse(event.data) as Job;

async function open(url: string, headers: Record<string, string> = {}) {
  const stream = await openEventStream(url, headers);
  streams.push(stream);
  return stream;
}

let scannedPng: Buffer;

/** A small real scan, so the job really runs through the worker. */
async function submitPng(baseUrl: string, name = 'page.png'): Promise<Job> {
  const response = await submitFile(baseUrl, { name, bytes: scannedPng });
  expect(response.status).toBe(201);
  return (await response.json()) as Job;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-events-'));
  scannedPng = await readFile((await makeScannedPng(dir)).path);
  const env = { REDIS_KEY_PREFIX: testKeyPrefix('events'), SSE_HEARTBEAT_SEC: '1' };
  worker = await startTestService('events-worker', { ...env, SERVICE_ROLE: 'worker' });
  apiA = await startTestService('events-api-a', { ...env, SERVICE_ROLE: 'api' });
  // The replicas share storage, as replicas do (local disk here, object storage in production).
  apiB = await startTestService('events-api-b', { ...env, SERVICE_ROLE: 'api', DATA_DIR: apiA.dataDir });
  // The worker must read what the API stored: give it the same data directory too.
  await worker.close();
  worker = await startTestService('events-worker', {
    ...env,
    SERVICE_ROLE: 'worker',
    DATA_DIR: apiA.dataDir,
  });
});
afterAll(async () => {
  for (const stream of streams) stream.close();
  await apiB?.close();
  await apiA?.close();
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('live progress over Server-Sent Events', () => {
  it('pushes every change of a job submitted on one replica to a client of the other', async () => {
    const stream = await open(`${apiB.url}/v1/events`);
    expect(stream.status).toBe(200);
    const job = await submitPng(apiA.url);
    const mine = (e: SseEvent) => e.event === 'job' && jobOf(e).job_id === job.job_id;
    const done = await stream.waitFor((e) => mine(e) && ['COMPLETED', 'FAILED'].includes(jobOf(e).status));
    expect(jobOf(done).status).toBe('COMPLETED');
    const statuses = stream.events.filter(mine).map((e) => jobOf(e).status);
    expect(statuses[0]).toBe('QUEUED');
    expect(statuses).toContain('PROCESSING');
    expect(jobOf(done).outputs).toHaveProperty('txt');
    // Progress never goes backwards on the wire either.
    const progress = stream.events.filter(mine).map((e) => jobOf(e).progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(stream.events.filter(mine).every((e) => e.id)).toBe(true);
  });

  it('replays what a reconnecting client missed after its Last-Event-ID, newest state per job', async () => {
    const stream = await open(`${apiA.url}/v1/events`);
    const job = await submitPng(apiB.url);
    const first = await stream.waitFor((e) => e.event === 'job' && jobOf(e).job_id === job.job_id);
    stream.close();
    // Changes happen while the client is away.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const current = (await (await fetch(`${apiA.url}/v1/jobs/${job.job_id}`)).json()) as Job;
      if (current.status === 'COMPLETED') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const resumed = await open(`${apiB.url}/v1/events`, { 'last-event-id': first.id ?? '' });
    const replayed = await resumed.waitFor((e) => e.event === 'job' && jobOf(e).job_id === job.job_id);
    expect(jobOf(replayed).status).toBe('COMPLETED');
    expect(resumed.events.filter((e) => e.event === 'job' && jobOf(e).job_id === job.job_id)).toHaveLength(1);
  });

  it('asks the client to reload when it cannot replay from the given id', async () => {
    const stream = await open(`${apiA.url}/v1/events`, { 'last-event-id': 'not-an-event-id' });
    await stream.waitFor((e) => e.event === 'resync');
  });

  it('streams one job from its current state, announces its deletion, and answers 404 for strangers', async () => {
    const job = await submitPng(apiA.url);
    const stream = await open(`${apiB.url}/v1/jobs/${job.job_id}/events`);
    const snapshot = await stream.waitFor((e) => e.event === 'job');
    expect(jobOf(snapshot).job_id).toBe(job.job_id);
    await stream.waitFor((e) => e.event === 'job' && jobOf(e).status === 'COMPLETED');
    expect((await fetch(`${apiA.url}/v1/jobs/${job.job_id}`, { method: 'DELETE' })).status).toBe(204);
    const deleted = await stream.waitFor((e) => e.event === 'job.deleted');
    expect(JSON.parse(deleted.data)).toEqual({ job_id: job.job_id });

    const missing = await fetch(`${apiB.url}/v1/jobs/${job.job_id}/events`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Problem).error_code).toBe('JOB_NOT_FOUND');
  });

  it('keeps idle streams open with heartbeats', async () => {
    const stream = await open(`${apiA.url}/v1/events`);
    const deadline = Date.now() + 10_000;
    while (stream.comments.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stream.comments).toContain('heartbeat');
  });

  it('delivers a cancel sent to a replica to the worker holding the job, which stops before it ends CANCELLED', async () => {
    const { path: pdf } = await makeScannedPdf(dir, 12);
    const response = await submitFile(apiA.url, { name: 'long.pdf', bytes: await readFile(pdf) });
    const job = (await response.json()) as Job;
    const stream = await open(`${apiB.url}/v1/jobs/${job.job_id}/events`);
    await stream.waitFor(
      (e) => e.event === 'job' && jobOf(e).status === 'PROCESSING' && jobOf(e).progress > 0,
    );
    const cancel = await fetch(`${apiB.url}/v1/jobs/${job.job_id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    const ended = await stream.waitFor((e) => e.event === 'job' && jobOf(e).status === 'CANCELLED');
    expect(jobOf(ended)).toMatchObject({ error_code: 'JOB_CANCELLED', outputs: {} });
    expect(
      worker.logs.some(
        (l) => l.event === 'job.transition' && l.to === 'CANCELLED' && l.job_id === job.job_id,
      ),
    ).toBe(true);
  });
});
