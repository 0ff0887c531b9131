import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Problem } from '../../src/contract/index.js';
import { makeScannedPng } from '../helpers/make-document-fixtures.js';
import { type NginxBalancer, startNginxBalancer } from '../helpers/nginx-balancer.js';
import { type EventStreamClient, openEventStream, type SseEvent } from '../helpers/sse-client.js';
import { testKeyPrefix } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';

// compose.yaml's topology on one machine: the shipped deploy/nginx.conf in a real nginx in front
// of two API replicas (as compose configures them: HTTP_TRUST_PROXY=1) and a worker, all on one
// Redis prefix and one data directory.
const UPLOAD_MAX_BYTES = 4 * 1024 * 1024;
let lb: NginxBalancer;
let apiA: TestService;
let apiB: TestService;
let worker: TestService;
let dir: string;
let scannedPng: Buffer;
const streams: EventStreamClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-lb-'));
  scannedPng = await readFile((await makeScannedPng(dir)).path);
  const env = {
    REDIS_KEY_PREFIX: testKeyPrefix('lb'),
    SSE_HEARTBEAT_SEC: '1',
    UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES),
  };
  const api = { ...env, SERVICE_ROLE: 'api', HTTP_TRUST_PROXY: '1' };
  apiA = await startTestService('lb-api-a', api);
  apiB = await startTestService('lb-api-b', { ...api, DATA_DIR: apiA.dataDir });
  worker = await startTestService('lb-worker', { ...env, SERVICE_ROLE: 'worker', DATA_DIR: apiA.dataDir });
  lb = await startNginxBalancer([apiA.url, apiB.url].map((url) => new URL(url).host));
});
afterAll(async () => {
  for (const stream of streams) stream.close();
  await lb?.close();
  await Promise.all([apiA?.close(), apiB?.close(), worker?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const requestLines = (svc: TestService) => svc.logs.filter((line) => line.event === 'http.request');

describe('the shipped nginx load balancer in front of two API replicas', () => {
  it('is a configuration nginx accepts', () => {
    expect(lb.configTest).toContain('syntax is ok');
    expect(lb.configTest).toContain('test is successful');
  });

  it('spreads requests over both replicas without sticky sessions', async () => {
    const before = [requestLines(apiA).length, requestLines(apiB).length];
    for (let i = 0; i < 10; i++) expect((await fetch(`${lb.url}/v1/jobs`)).status).toBe(200);
    expect(requestLines(apiA).length).toBeGreaterThan(before[0] as number);
    expect(requestLines(apiB).length).toBeGreaterThan(before[1] as number);
  });

  it('passes the client request id through, to the answer and to the replica log', async () => {
    const response = await fetch(`${lb.url}/v1/jobs`, { headers: { 'x-request-id': 'lb-trace-0001' } });
    expect(response.headers.get('x-request-id')).toBe('lb-trace-0001');
    const logged = [...requestLines(apiA), ...requestLines(apiB)].filter(
      (line) => line.request_id === 'lb-trace-0001',
    );
    expect(logged).toHaveLength(1);
  });

  it('delivers live progress event by event, and the result, through the balancer', async () => {
    const stream = await openEventStream(`${lb.url}/v1/events`);
    streams.push(stream);
    expect(stream.status).toBe(200);
    const submitted = await submitFile(lb.url, { name: 'page.png', bytes: scannedPng });
    expect(submitted.status).toBe(201);
    const job = (await submitted.json()) as Job;
    const mine = (e: SseEvent) => e.event === 'job' && (JSON.parse(e.data) as Job).job_id === job.job_id;
    // Each event must pass as it comes (proxy_buffering off; the API also sends X-Accel-Buffering).
    const done = await stream.waitFor((e) => mine(e) && (JSON.parse(e.data) as Job).status === 'COMPLETED');
    expect(done.id).toBeTruthy();
    const text = await fetch(`${lb.url}/v1/jobs/${job.job_id}/result?format=txt`);
    expect(text.status).toBe(200);
    expect((await text.text()).length).toBeGreaterThan(0);
    const original = await fetch(`${lb.url}/v1/jobs/${job.job_id}/input`);
    expect(Buffer.from(await original.arrayBuffer()).equals(scannedPng)).toBe(true);
  });

  // nginx's own limit is 1 MB unless client_max_body_size raises it above UPLOAD_MAX_BYTES.
  it("lets the API itself refuse an oversize upload, in problem+json, not nginx's HTML page", async () => {
    const response = await submitFile(lb.url, {
      name: 'too-big.png',
      bytes: Buffer.concat([scannedPng, Buffer.alloc(UPLOAD_MAX_BYTES)]),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(((await response.json()) as Problem).error_code).toBe('FILE_TOO_LARGE');
    expect(await lb.errorLog()).not.toMatch(/\[(error|crit|alert|emerg)\]/);
  });
});
