import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SavedWebhook, WebhookDelivery, WebhookPayload } from '../../src/contract/index.js';
import { RedisKeys } from '../../src/jobs/redis-keys.js';
import { isForbiddenAddress } from '../../src/webhooks/check-webhook-target.js';
import { verifyWebhook } from '../../src/webhooks/webhook-signature.js';
import { freePort } from '../helpers/free-port.js';
import { connectTestRedis } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';
import { type ReceivedWebhook, startWebhookReceiver } from '../helpers/webhook-receiver.js';

const FAST_RETRIES = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_BASE_DELAY_MS: '100',
  WEBHOOK_MAX_DELAY_MS: '3000',
  WEBHOOK_MAX_ATTEMPTS: '6',
};

let service: TestService;

beforeAll(async () => {
  service = await startTestService('webhooks', FAST_RETRIES);
});
afterAll(async () => {
  await service?.close();
});

async function putWebhook(baseUrl: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${baseUrl}/v1/webhook`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function submitPng(baseUrl: string, fields: Record<string, string> = {}) {
  const response = await submitFile(baseUrl, { name: 'dot.png', bytes: TINY_PNG }, fields);
  expect(response.status).toBe(201);
  return (await response.json()) as { job_id: string };
}

function signedBy(secret: string, webhook: ReceivedWebhook): boolean {
  return verifyWebhook(
    secret,
    {
      id: String(webhook.headers['webhook-id']),
      timestamp: String(webhook.headers['webhook-timestamp']),
      signature: String(webhook.headers['webhook-signature']),
    },
    webhook.body,
  );
}

async function deliveries(baseUrl: string): Promise<WebhookDelivery[]> {
  return ((await (await fetch(`${baseUrl}/v1/webhook/deliveries`)).json()) as { items: WebhookDelivery[] })
    .items;
}

async function waitForDelivery(baseUrl: string, deliveryId: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = (await deliveries(baseUrl)).find((d) => d.delivery_id === deliveryId);
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`delivery ${deliveryId} was never recorded`);
}

describe('webhooks', () => {
  it('retries a 500 and a 429 (honouring Retry-After) with the same signed delivery until it is accepted', async () => {
    const receiver = await startWebhookReceiver([
      { status: 500 },
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200 },
    ]);
    try {
      const saved = (await (await putWebhook(service.url, { url: receiver.url })).json()) as SavedWebhook;
      expect(saved.secret).toMatch(/^whsec_/);
      expect(JSON.stringify(await (await fetch(`${service.url}/v1/webhook`)).json())).not.toContain(
        saved.secret,
      );

      const job = await submitPng(service.url);
      const finished = await waitForJob(service.url, job.job_id);
      const attempts = await receiver.waitFor(3);

      const ids = new Set(attempts.map((a) => a.headers['webhook-id']));
      expect(ids.size).toBe(1);
      for (const attempt of attempts) expect(signedBy(saved.secret ?? '', attempt)).toBe(true);
      expect(
        signedBy('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', attempts[0] as ReceivedWebhook),
      ).toBe(false);
      const body = JSON.parse(attempts[2]?.body ?? '{}') as WebhookPayload;
      expect(body).toEqual({
        type: `job.${finished.status.toLowerCase()}`,
        timestamp: finished.finished_at,
        data: { job_id: job.job_id, status: finished.status, error_code: finished.error_code },
      });
      // The 429's Retry-After of 1 s is the floor of the delay before the third attempt.
      const scheduled = service.logs.filter(
        (line) => line.event === 'webhook.retry_scheduled' && line.job_id === job.job_id,
      );
      expect(scheduled.map((line) => line.status)).toEqual([500, 429]);
      expect(scheduled[1]?.delay_ms).toBeGreaterThanOrEqual(1000);

      const delivery = await waitForDelivery(service.url, String([...ids][0]));
      expect(delivery).toMatchObject({
        outcome: 'delivered',
        attempts: 3,
        last_status: 200,
        job_id: job.job_id,
      });
    } finally {
      await receiver.close();
      await fetch(`${service.url}/v1/webhook`, { method: 'DELETE' });
    }
  });

  it('stops at a 400: one attempt, recorded as failed and logged', async () => {
    const receiver = await startWebhookReceiver([{ status: 400 }]);
    try {
      await putWebhook(service.url, { url: null });
      const job = await submitPng(service.url, { callback_url: receiver.url });
      expect(
        ((await (await fetch(`${service.url}/v1/jobs/${job.job_id}`)).json()) as { callback_url: string })
          .callback_url,
      ).toBe(receiver.url);
      const [attempt] = await receiver.waitFor(1);
      const delivery = await waitForDelivery(service.url, String(attempt?.headers['webhook-id']));
      expect(delivery).toMatchObject({ outcome: 'failed', attempts: 1, last_status: 400 });
      expect(receiver.received).toHaveLength(1);
      expect(
        service.logs.some((line) => line.event === 'webhook.delivery_failed' && line.job_id === job.job_id),
      ).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it('retries a 408 with the same delivery id', async () => {
    const receiver = await startWebhookReceiver([{ status: 408 }, { status: 200 }]);
    try {
      await putWebhook(service.url, { url: null });
      const job = await submitPng(service.url, { callback_url: receiver.url });
      const attempts = await receiver.waitFor(2);
      const ids = new Set(attempts.map((a) => a.headers['webhook-id']));
      expect(ids.size).toBe(1);
      expect(JSON.parse(attempts[0]?.body ?? '{}')).toEqual(JSON.parse(attempts[1]?.body ?? '{}'));
      const delivery = await waitForDelivery(service.url, String([...ids][0]));
      expect(delivery).toMatchObject({
        outcome: 'delivered',
        attempts: 2,
        last_status: 200,
        job_id: job.job_id,
      });
      expect(
        service.logs
          .filter((line) => line.event === 'webhook.retry_scheduled' && line.job_id === job.job_id)
          .map((line) => line.status),
      ).toEqual([408]);
    } finally {
      await receiver.close();
    }
  });

  it('delivers job.failed with the error code of a job that failed, and job.cancelled for a cancelled one', async () => {
    // Every page read fails for good (INPUT_UNREADABLE), after 2 s: long enough to cancel a job first.
    const faulty = await startTestService('webhooks-outcomes', {
      ...FAST_RETRIES,
      OCR_TEST_FAULT_ENGINE: 'permanent=1,page_ms=2000',
    });
    const receiver = await startWebhookReceiver();
    try {
      const saved = (await (await putWebhook(faulty.url, { url: receiver.url })).json()) as SavedWebhook;
      const failing = await submitPng(faulty.url);
      const cancelled = await submitPng(faulty.url);
      const cancel = await fetch(`${faulty.url}/v1/jobs/${cancelled.job_id}/cancel`, { method: 'POST' });
      expect([200, 202]).toContain(cancel.status);
      const failed = await waitForJob(faulty.url, failing.job_id);
      const stopped = await waitForJob(faulty.url, cancelled.job_id);
      expect(failed).toMatchObject({ status: 'FAILED', error_code: 'INPUT_UNREADABLE' });
      expect(stopped.status).toBe('CANCELLED');

      const received = await receiver.waitFor(2);
      for (const webhook of received) expect(signedBy(saved.secret ?? '', webhook)).toBe(true);
      const bodies = received.map((webhook) => JSON.parse(webhook.body) as WebhookPayload);
      expect(bodies.find((body) => body.data.job_id === failing.job_id)).toEqual({
        type: 'job.failed',
        timestamp: failed.finished_at,
        data: { job_id: failing.job_id, status: 'FAILED', error_code: 'INPUT_UNREADABLE' },
      });
      expect(bodies.find((body) => body.data.job_id === cancelled.job_id)).toEqual({
        type: 'job.cancelled',
        timestamp: stopped.finished_at,
        data: { job_id: cancelled.job_id, status: 'CANCELLED', error_code: stopped.error_code },
      });
    } finally {
      await receiver.close();
      await faulty.close();
    }
  });

  it('delivers a webhook that was still pending when the service restarted', async () => {
    const port = await freePort();
    const name = 'webhooks-restart';
    const first = await startTestService(name, FAST_RETRIES);
    const prefix = String(first.logs.find((line) => line.event === 'redis.connected')?.key_prefix ?? '');
    let second: TestService | undefined;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;
    try {
      await putWebhook(first.url, { url: `http://127.0.0.1:${port}/hooks` });
      const job = await submitPng(first.url);
      // Nobody listens yet: the first attempt fails with a network error and is scheduled again.
      const deadline = Date.now() + 30_000;
      while (!first.logs.some((l) => l.event === 'webhook.retry_scheduled' && l.job_id === job.job_id)) {
        if (Date.now() > deadline) throw new Error('no retry was scheduled');
        await sleep(50);
      }
      await first.service.close();
      receiver = await startWebhookReceiver([], port);
      second = await startTestService(name, { ...FAST_RETRIES, REDIS_KEY_PREFIX: prefix });
      const [delivered] = await receiver.waitFor(1);
      expect(JSON.parse(delivered?.body ?? '{}')).toMatchObject({ data: { job_id: job.job_id } });
    } finally {
      await receiver?.close();
      await second?.close();
    }
  });

  it('refuses loopback, private and metadata targets unless allowed, with WEBHOOK_TARGET_FORBIDDEN', async () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.0.5',
      '169.254.169.254',
      '::1',
      '::ffff:10.0.0.1',
      'fd00::1',
    ])
      expect(isForbiddenAddress(address)).toBe(true);
    for (const address of ['93.184.216.34', '2606:4700::1111'])
      expect(isForbiddenAddress(address)).toBe(false);

    const guarded = await startTestService('webhooks-ssrf');
    try {
      const put = await putWebhook(guarded.url, { url: 'http://127.0.0.1:9/hooks' });
      expect(put.status).toBe(400);
      expect(((await put.json()) as { error_code: string }).error_code).toBe('WEBHOOK_TARGET_FORBIDDEN');
      await putWebhook(guarded.url, { url: null });
      const submit = await submitFile(
        guarded.url,
        { name: 'dot.png', bytes: TINY_PNG },
        { callback_url: 'http://169.254.169.254/latest/meta-data' },
      );
      expect(submit.status).toBe(400);
      expect(((await submit.json()) as { error_code: string }).error_code).toBe('WEBHOOK_TARGET_FORBIDDEN');
      const scheme = await putWebhook(guarded.url, { url: 'file:///etc/passwd' });
      expect(((await scheme.json()) as { error_code: string }).error_code).toBe('WEBHOOK_URL_INVALID');
    } finally {
      await guarded.close();
    }
  });
  it('refuses at send time a host name that resolves to loopback, though the URL passed when it was saved', async () => {
    const guarded = await startTestService('webhooks-ssrf-send');
    const prefix = String(guarded.logs.find((line) => line.event === 'redis.connected')?.key_prefix ?? '');
    const receiver = await startWebhookReceiver();
    const redis = connectTestRedis();
    try {
      // Saved while its name answered with a public address (checked then)...
      expect((await putWebhook(guarded.url, { url: 'http://93.184.216.34/hooks' })).status).toBe(200);
      const { user_id: userId } = (await (await fetch(`${guarded.url}/v1/me`)).json()) as {
        user_id: string;
      };
      // ...and answering with loopback by the time a job finishes, as a rebinding name would.
      const rebound = `http://localhost:${receiver.port}/hooks`;
      await redis.hset(new RedisKeys(prefix).userWebhook(userId), 'url', rebound);

      const job = await submitPng(guarded.url);
      await waitForJob(guarded.url, job.job_id);
      const deadline = Date.now() + 30_000;
      let delivery: WebhookDelivery | undefined;
      while (!delivery) {
        if (Date.now() > deadline) throw new Error('the delivery was never recorded');
        delivery = (await deliveries(guarded.url)).find((d) => d.job_id === job.job_id);
        if (!delivery) await sleep(100);
      }
      expect(delivery).toMatchObject({
        url: rebound,
        outcome: 'failed',
        attempts: 1,
        last_status: null,
        last_error: 'WEBHOOK_TARGET_FORBIDDEN',
      });
      expect(receiver.received).toHaveLength(0);
      expect(
        guarded.logs.some(
          (line) =>
            line.event === 'webhook.delivery_failed' && line.job_id === job.job_id && line.gave_up === true,
        ),
      ).toBe(true);
    } finally {
      await redis.quit();
      await receiver.close();
      await guarded.close();
    }
  });
});
