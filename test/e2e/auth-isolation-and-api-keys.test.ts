import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKey, Job } from '../../src/contract/index.js';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { connectTestRedis } from '../helpers/test-redis.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

// Role api: jobs stay QUEUED, which is all that reading, cancelling and deleting need.
let issuer: OidcLoopbackIssuer;
let svc: TestService;
let alice: Record<string, string>;
let bob: Record<string, string>;

beforeAll(async () => {
  issuer = await new OidcLoopbackIssuer().start();
  svc = await startTestService(
    'auth-isolation',
    issuer.env({ SERVICE_ROLE: 'api', AUTH_ALLOWED_DOMAINS: 'example.org' }),
  );
  alice = { authorization: `Bearer ${await issuer.mint('alice')}` };
  bob = { authorization: `Bearer ${await issuer.mint('bob')}` };
});
afterAll(async () => {
  await svc?.close();
  await issuer?.close();
});

async function send(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  return fetch(`${svc.url}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function submitAs(headers: Record<string, string>): Promise<Job> {
  const response = await submitFile(svc.url, { name: 'page.png', bytes: TINY_PNG }, {}, headers);
  expect(response.status).toBe(201);
  return (await response.json()) as Job;
}

async function expectNotFound(response: Response): Promise<void> {
  expect(response.status).toBe(404);
  expect(((await response.json()) as { error_code: string }).error_code).toBe('JOB_NOT_FOUND');
}

async function createKey(headers: Record<string, string>, name: string): Promise<ApiKey & { key: string }> {
  const response = await send('POST', '/v1/api-keys', headers, { name });
  expect(response.status).toBe(201);
  return (await response.json()) as ApiKey & { key: string };
}

describe('isolation between users', () => {
  it("never shows, changes or streams another user's job: 404, as if it did not exist", async () => {
    const job = await submitAs(alice);
    const bobKey = await createKey(bob, 'bob script');
    for (const stranger of [bob, { 'x-api-key': bobKey.key }]) {
      await expectNotFound(await send('GET', `/v1/jobs/${job.job_id}`, stranger));
      await expectNotFound(await send('GET', `/v1/jobs/${job.job_id}/input`, stranger));
      await expectNotFound(await send('GET', `/v1/jobs/${job.job_id}/result?format=txt`, stranger));
      await expectNotFound(await send('GET', `/v1/jobs/${job.job_id}/events`, stranger));
      await expectNotFound(await send('POST', `/v1/jobs/${job.job_id}/cancel`, stranger));
      await expectNotFound(await send('POST', `/v1/jobs/${job.job_id}/retry`, stranger, {}));
      await expectNotFound(await send('DELETE', `/v1/jobs/${job.job_id}`, stranger));
      const list = (await (await send('GET', '/v1/jobs', stranger)).json()) as {
        items: Job[];
        total: number;
      };
      expect(list.items.map((item) => item.job_id)).not.toContain(job.job_id);
    }
    // Still there for its owner, who can cancel it; the stranger still cannot retry it.
    expect((await send('GET', `/v1/jobs/${job.job_id}`, alice)).status).toBe(200);
    expect((await send('POST', `/v1/jobs/${job.job_id}/cancel`, alice)).status).toBe(200);
    await expectNotFound(await send('POST', `/v1/jobs/${job.job_id}/retry`, bob, {}));
    expect((await send('POST', `/v1/jobs/${job.job_id}/retry`, alice, {})).status).toBe(201);
  });

  it('gives two users the same Idempotency-Key without mixing their jobs', async () => {
    const headers = { 'idempotency-key': 'same-key-for-both' };
    const first = await submitAs({ ...alice, ...headers });
    const second = await submitAs({ ...bob, ...headers });
    expect(second.job_id).not.toBe(first.job_id);
  });
});

describe('API keys', () => {
  it('creates a key shown once, lists it without the key, accepts it both ways, and revokes it', async () => {
    const created = await createKey(alice, 'nightly upload');
    expect(created.key).toMatch(/^dt_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.last_used_at).toBeNull();

    const viaHeader = await send('GET', '/v1/jobs', { 'x-api-key': created.key });
    expect(viaHeader.status).toBe(200);
    const job = await submitAs({ authorization: `Bearer ${created.key}` });
    // The key acts as its owner: Alice sees the job submitted with it.
    expect((await send('GET', `/v1/jobs/${job.job_id}`, alice)).status).toBe(200);

    const listed = (await (await send('GET', '/v1/api-keys', alice)).json()) as { api_keys: ApiKey[] };
    const entry = listed.api_keys.find((k) => k.id === created.id);
    expect(entry).toMatchObject({ name: 'nightly upload', prefix: created.prefix });
    expect(entry?.last_used_at).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(created.key);
    // Bob sees none of Alice's keys and cannot revoke them.
    const bobs = (await (await send('GET', '/v1/api-keys', bob)).json()) as { api_keys: ApiKey[] };
    expect(bobs.api_keys.map((k) => k.id)).not.toContain(created.id);
    expect((await send('DELETE', `/v1/api-keys/${created.id}`, bob)).status).toBe(404);

    expect((await send('DELETE', `/v1/api-keys/${created.id}`, alice)).status).toBe(204);
    const refused = await send('GET', '/v1/jobs', { 'x-api-key': created.key });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error_code: string }).error_code).toBe('AUTH_API_KEY_INVALID');
    expect((await send('DELETE', `/v1/api-keys/${created.id}`, alice)).status).toBe(404);
  });

  it('stores only the hash of a key, and refuses unknown keys', async () => {
    const created = await createKey(alice, 'hash check');
    const redis = connectTestRedis();
    try {
      const prefix = String(svc.logs.find((line) => line.event === 'redis.connected')?.key_prefix);
      const keys = await redis.keys(`${prefix}:*apikey*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key).not.toContain(created.key);
        const type = await redis.type(key);
        const values = type === 'hash' ? Object.values(await redis.hgetall(key)) : [await redis.get(key)];
        expect(values.join(' ')).not.toContain(created.key);
      }
    } finally {
      await redis.quit();
    }
    const unknown = await send('GET', '/v1/jobs', { authorization: `Bearer dt_${'x'.repeat(43)}` });
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error_code: string }).error_code).toBe('AUTH_API_KEY_INVALID');
  });

  it('refuses a key name that is missing or too long', async () => {
    expect((await send('POST', '/v1/api-keys', alice, {})).status).toBe(400);
    expect((await send('POST', '/v1/api-keys', alice, { name: 'x'.repeat(101) })).status).toBe(400);
  });
});
