import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

// Role api: submitted jobs stay QUEUED, so they count as active until cancelled.
let svc: TestService;

beforeAll(async () => {
  svc = await startTestService('submit-quota', {
    SERVICE_ROLE: 'api',
    QUOTA_ACTIVE_JOBS: '2',
    QUOTA_JOBS_PER_DAY: '4',
  });
});
afterAll(async () => {
  await svc?.close();
});

const submit = () => submitFile(svc.url, { name: 'page.png', bytes: TINY_PNG });
const codeOf = async (response: Response) => ((await response.json()) as { error_code?: string }).error_code;

async function cancel(jobId: string): Promise<void> {
  expect((await fetch(`${svc.url}/v1/jobs/${jobId}/cancel`, { method: 'POST' })).status).toBe(200);
}

describe('submission quotas', () => {
  it('does not count a refused upload', async () => {
    const text = await submitFile(svc.url, {
      name: 'notes.txt',
      bytes: new TextEncoder().encode('plain text'),
    });
    expect(text.status).toBe(415);
  });

  it('lets only as many jobs be active at once as allowed, even when submitted together', async () => {
    const responses = await Promise.all(Array.from({ length: 5 }, () => submit()));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 429, 429, 429]);
    const refused = responses.filter((r) => r.status === 429);
    for (const response of refused) expect(await codeOf(response)).toBe('QUOTA_ACTIVE_JOBS');
    const created = (await Promise.all(
      responses.filter((r) => r.status === 201).map((r) => r.json()),
    )) as Job[];
    // A finished (here: cancelled) job frees its place.
    await cancel(created[0]?.job_id ?? '');
    const next = await submit();
    expect(next.status).toBe(201);
    await cancel(created[1]?.job_id ?? '');
    await cancel(((await next.json()) as Job).job_id);
  });

  it('stops at the daily quota with a Retry-After until midnight UTC', async () => {
    // 3 of 4 used above (the refused upload and the refusals gave theirs back).
    const fourth = await submit();
    expect(fourth.status).toBe(201);
    const fourthId = ((await fourth.json()) as Job).job_id;
    await cancel(fourthId);
    const fifth = await submit();
    expect(fifth.status).toBe(429);
    expect(await codeOf(fifth)).toBe('QUOTA_DAILY_JOBS');
    const retryAfter = Number(fifth.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    // A retry is a new job and counts like one.
    const retry = await fetch(`${svc.url}/v1/jobs/${fourthId}/retry`, { method: 'POST' });
    expect(retry.status).toBe(429);
    expect(await codeOf(retry)).toBe('QUOTA_DAILY_JOBS');
  });
});

describe('quotas under 50 concurrent submits', () => {
  let many: TestService;
  beforeAll(async () => {
    many = await startTestService('submit-quota-50', {
      SERVICE_ROLE: 'api',
      QUOTA_ACTIVE_JOBS: '7',
      QUOTA_JOBS_PER_DAY: '12',
    });
  });
  afterAll(async () => {
    await many?.close();
  });

  const burst = async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => submitFile(many.url, { name: 'page.png', bytes: TINY_PNG })),
    );
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<
      Job & { error_code?: string; detail?: string }
    >;
    return responses.map((r, i) => ({
      status: r.status,
      body: bodies[i] as Job & { error_code?: string; detail?: string },
    }));
  };

  it('never lets more than the active or the daily limit through, and names the limit', async () => {
    const first = await burst();
    const created = first.filter((r) => r.status === 201);
    expect(created).toHaveLength(7);
    for (const refused of first.filter((r) => r.status !== 201)) {
      expect([refused.status, refused.body.error_code]).toEqual([429, 'QUOTA_ACTIVE_JOBS']);
      expect(refused.body.detail).toContain('7 jobs');
    }
    for (const { body } of created) {
      expect((await fetch(`${many.url}/v1/jobs/${body.job_id}/cancel`, { method: 'POST' })).status).toBe(200);
    }
    // 7 of 12 used today: of the next 50 only 5 get through, the rest hit the daily quota.
    const second = await burst();
    expect(second.filter((r) => r.status === 201)).toHaveLength(5);
    for (const refused of second.filter((r) => r.status !== 201)) {
      expect([refused.status, refused.body.error_code]).toEqual([429, 'QUOTA_DAILY_JOBS']);
      expect(refused.body.detail).toContain('12 jobs');
    }
  });
});
