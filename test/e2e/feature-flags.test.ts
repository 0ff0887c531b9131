import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import type { FeatureFlagState } from '../../src/jobs/feature-flags.js';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { testKeyPrefix } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

// An API process and a separate, running worker process of one deployment (shared Redis prefix):
// a flag changed through the API must change what the worker does, without a restart.
let issuer: OidcLoopbackIssuer;
let api: TestService;
let worker: TestService;
let receiver: WebhookReceiver;
let admin: Record<string, string>;
let user: Record<string, string>;

beforeAll(async () => {
  issuer = await new OidcLoopbackIssuer().start();
  const env = issuer.env({
    REDIS_KEY_PREFIX: testKeyPrefix('feature-flags'),
    AUTH_ALLOWED_DOMAINS: 'example.org',
    AUTH_ADMIN_EMAILS: 'admin@example.org',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  });
  api = await startTestService('feature-flags-api', { ...env, SERVICE_ROLE: 'api' });
  worker = await startTestService('feature-flags-worker', { ...env, SERVICE_ROLE: 'worker' });
  receiver = await startWebhookReceiver();
  admin = {
    authorization: `Bearer ${await issuer.mint('admin', { claims: { email: 'admin@example.org' } })}`,
  };
  user = { authorization: `Bearer ${await issuer.mint('bob', { claims: { email: 'bob@example.org' } })}` };
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
  await receiver?.close();
  await issuer?.close();
});

async function send(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  return fetch(`${api.url}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The worker process logs `flag.applied` when its cached value changes. */
async function workerApplied(flag: string, enabled: boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  const seen = () =>
    worker.logs.some((l) => l.event === 'flag.applied' && l.flag === flag && l.enabled === enabled);
  while (!seen()) {
    if (Date.now() > deadline) throw new Error(`worker never applied ${flag}=${enabled}`);
    await sleep(50);
  }
}

async function finishedJob(): Promise<Job> {
  const response = await submitFile(api.url, { name: 'dot.png', bytes: TINY_PNG }, {}, user);
  expect(response.status).toBe(201);
  const { job_id: jobId } = (await response.json()) as Job;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = (await (await send('GET', `/v1/jobs/${jobId}`, user)).json()) as Job;
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} never finished: ${job.status}`);
    await sleep(100);
  }
}

describe('feature flags', () => {
  it('lists flags for an administrator and refuses everyone else with 403', async () => {
    const list = await send('GET', '/v1/admin/flags', admin);
    expect(list.status).toBe(200);
    const flags = ((await list.json()) as { flags: FeatureFlagState[] }).flags;
    expect(flags.map((f) => f.name)).toEqual([
      'legacy_api',
      'ocr_psm_retry',
      'transcription_repetition_rerun',
      'webhooks',
    ]);
    expect(flags.find((f) => f.name === 'legacy_api')).toMatchObject({ enabled: false, source: 'env' });
    for (const [method, body] of [['GET'], ['PUT', { enabled: true }], ['DELETE']] as const) {
      const path = method === 'GET' ? '/v1/admin/flags' : '/v1/admin/flags/webhooks';
      const refused = await send(method, path, user, body);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error_code: string }).error_code).toBe('AUTH_FORBIDDEN');
    }
    expect((await send('PUT', '/v1/admin/flags/nope', admin, { enabled: true })).status).toBe(404);
    expect((await send('PUT', '/v1/admin/flags/webhooks', admin, { enabled: 'yes' })).status).toBe(400);
  });

  it('turns webhook delivery off and on in the running worker through the admin API', async () => {
    expect((await send('PUT', '/v1/webhook', user, { url: receiver.url })).ok).toBe(true);

    const off = await send('PUT', '/v1/admin/flags/webhooks', admin, { enabled: false });
    expect(await off.json()).toMatchObject({ name: 'webhooks', enabled: false, source: 'override' });
    await workerApplied('webhooks', false);
    const settings = (await (await send('GET', '/v1/config', user)).json()) as {
      flags: Record<string, boolean>;
    };
    expect(settings).toMatchObject({ flags: { webhooks: false } });
    expect(settings.flags).not.toHaveProperty('legacy_api');

    const quiet = await finishedJob();
    await sleep(1000);
    expect(receiver.received.filter((w) => w.body.includes(quiet.job_id))).toEqual([]);

    const back = await send('DELETE', '/v1/admin/flags/webhooks', admin);
    expect(await back.json()).toMatchObject({ name: 'webhooks', enabled: true, source: 'env' });
    await workerApplied('webhooks', true);
    const heard = await finishedJob();
    const [delivery] = await receiver.waitFor(1, 20_000);
    expect(delivery?.body).toContain(heard.job_id);
    expect(api.logs.some((l) => l.event === 'flag.changed' && l.flag === 'webhooks')).toBe(true);
  });
});
