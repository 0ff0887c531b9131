import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminJobList, adminJobListSchema, type Job } from '../../src/contract/index.js';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { TINY_PNG, tinyWav } from '../helpers/tiny-files.js';

// Role api: jobs stay QUEUED unless cancelled, which is all a list of them needs.
let issuer: OidcLoopbackIssuer;
let svc: TestService;
let root: Record<string, string>;
let ann: Record<string, string>;
let bob: Record<string, string>;
const ids = { annScan: '', annTalk: '', bobScan: '', bobTalk: '' };
let annId = '';
let bobId = '';

const as = async (subject: string, email: string) => ({
  authorization: `Bearer ${await issuer.mint(subject, { claims: { email } })}`,
});

async function submit(headers: Record<string, string>, name: string, bytes: Uint8Array): Promise<string> {
  const response = await submitFile(svc.url, { name, bytes }, {}, headers);
  expect(response.status).toBe(201);
  return ((await response.json()) as Job).job_id;
}

async function adminJobs(query: string, headers = root): Promise<{ status: number; body: AdminJobList }> {
  const response = await fetch(`${svc.url}/v1/admin/jobs${query}`, { headers });
  return { status: response.status, body: (await response.json()) as AdminJobList };
}

/** Every page of a listing, following next_cursor. */
async function allPages(query: string): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await adminJobs(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.status).toBe(200);
    expect(page.body.items.length).toBeLessThanOrEqual(1);
    seen.push(...page.body.items.map((job) => job.job_id));
    cursor = page.body.next_cursor;
  } while (cursor);
  return seen;
}

beforeAll(async () => {
  issuer = await new OidcLoopbackIssuer().start();
  svc = await startTestService(
    'admin-jobs',
    issuer.env({
      SERVICE_ROLE: 'api',
      AUTH_ADMIN_EMAILS: 'root@example.org',
      AUTH_ALLOWED_DOMAINS: 'staff.example.org',
    }),
  );
  root = await as('root', 'root@example.org');
  ann = await as('ann', 'ann@staff.example.org');
  bob = await as('bob', 'bob@staff.example.org');
  ids.annScan = await submit(ann, 'ann-scan.png', TINY_PNG);
  ids.bobScan = await submit(bob, 'bob-scan.png', TINY_PNG);
  ids.annTalk = await submit(ann, 'ann-talk.wav', tinyWav());
  ids.bobTalk = await submit(bob, 'bob-talk.wav', tinyWav());
  const cancel = await fetch(`${svc.url}/v1/jobs/${ids.bobScan}/cancel`, { method: 'POST', headers: bob });
  expect(cancel.status).toBe(200);
  annId = ((await (await fetch(`${svc.url}/v1/me`, { headers: ann })).json()) as { user_id: string }).user_id;
  bobId = ((await (await fetch(`${svc.url}/v1/me`, { headers: bob })).json()) as { user_id: string }).user_id;
});
afterAll(async () => {
  await svc?.close();
  await issuer?.close();
});

describe('GET /v1/admin/jobs', () => {
  it('is for administrators only', async () => {
    const refused = await fetch(`${svc.url}/v1/admin/jobs`, { headers: ann });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error_code: string }).error_code).toBe('AUTH_FORBIDDEN');
    expect((await fetch(`${svc.url}/v1/admin/jobs`)).status).toBe(401);
    // Ann's own history still shows only her jobs.
    const own = (await (await fetch(`${svc.url}/v1/jobs`, { headers: ann })).json()) as { items: Job[] };
    expect(own.items.map((job) => job.job_id).sort()).toEqual([ids.annScan, ids.annTalk].sort());
  });

  it("shows an administrator both users' jobs, newest first, with owners and counts", async () => {
    const { status, body } = await adminJobs('');
    expect(status).toBe(200);
    adminJobListSchema.parse(body);
    expect(body.items.map((job) => [job.job_id, job.owner_id])).toEqual([
      [ids.bobTalk, bobId],
      [ids.annTalk, annId],
      [ids.bobScan, bobId],
      [ids.annScan, annId],
    ]);
    expect(body.total).toBe(4);
    expect(body.counts.by_type).toEqual({ OCR: 2, TRANSCRIPTION: 2 });
    expect(body.counts.by_status).toMatchObject({ QUEUED: 3, CANCELLED: 1 });
    expect(body.next_cursor).toBeNull();
    const logged = svc.logs.filter((line) => line.event === 'admin.jobs_listed');
    expect(logged.at(-1)).toMatchObject({ by_user_id: expect.any(String), owner: null, count: 4 });
  });

  it('filters by status, job type and owner, together too', async () => {
    const ofQuery = async (query: string) => (await adminJobs(query)).body.items.map((job) => job.job_id);
    expect(await ofQuery('?status=CANCELLED')).toEqual([ids.bobScan]);
    expect(await ofQuery('?status=QUEUED,CANCELLED&job_type=OCR')).toEqual([ids.bobScan, ids.annScan]);
    expect(await ofQuery('?job_type=TRANSCRIPTION')).toEqual([ids.bobTalk, ids.annTalk]);
    expect(await ofQuery(`?owner=${encodeURIComponent(annId)}`)).toEqual([ids.annTalk, ids.annScan]);
    const bobQueued = await adminJobs(`?owner=${encodeURIComponent(bobId)}&status=QUEUED`);
    expect(bobQueued.body.items.map((job) => [job.job_id, job.owner_id])).toEqual([[ids.bobTalk, bobId]]);
    expect(bobQueued.body.total).toBe(1);
    expect(await ofQuery('?owner=nobody')).toEqual([]);
  });

  it('pages with a cursor bound to its filters, and refuses what it does not take', async () => {
    expect(await allPages('?limit=1')).toEqual([ids.bobTalk, ids.annTalk, ids.bobScan, ids.annScan]);
    expect(await allPages('?limit=1&status=QUEUED')).toEqual([ids.bobTalk, ids.annTalk, ids.annScan]);
    expect(await allPages(`?limit=1&owner=${encodeURIComponent(bobId)}`)).toEqual([ids.bobTalk, ids.bobScan]);

    const first = await adminJobs('?limit=1');
    const cursor = encodeURIComponent(first.body.next_cursor ?? '');
    const crossed = await adminJobs(`?limit=1&status=QUEUED&cursor=${cursor}`);
    expect(crossed.status).toBe(400);
    expect((crossed.body as unknown as { error_code: string }).error_code).toBe('CURSOR_INVALID');
    // A user's own history cursor is not an admin cursor either.
    const own = (await (await fetch(`${svc.url}/v1/jobs?limit=1`, { headers: ann })).json()) as {
      next_cursor: string;
    };
    const foreign = await adminJobs(`?limit=1&cursor=${encodeURIComponent(own.next_cursor)}`);
    expect((foreign.body as unknown as { error_code: string }).error_code).toBe('CURSOR_INVALID');
    for (const query of ['?q=scan', '?status=DONE', '?limit=0', '?job_type=VIDEO']) {
      const response = await adminJobs(query);
      expect(response.status).toBe(400);
      expect((response.body as unknown as { error_code: string }).error_code).toBe('VALIDATION_FAILED');
    }
  });
});
