import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

let issuer: OidcLoopbackIssuer;
let svc: TestService;

beforeAll(async () => {
  issuer = await new OidcLoopbackIssuer().start();
  svc = await startTestService(
    'admin-access',
    issuer.env({
      SERVICE_ROLE: 'api',
      AUTH_ADMIN_EMAILS: 'root@example.org',
      AUTH_ALLOWED_DOMAINS: 'staff.example.org',
    }),
  );
});
afterAll(async () => {
  await svc?.close();
  await issuer?.close();
});

const as = async (subject: string, email: string) => ({
  authorization: `Bearer ${await issuer.mint(subject, { claims: { email } })}`,
});

async function status(subject: string, email: string): Promise<number> {
  return (await fetch(`${svc.url}/v1/jobs`, { headers: await as(subject, email) })).status;
}

async function putAccess(headers: Record<string, string>, body: unknown): Promise<Response> {
  return fetch(`${svc.url}/v1/admin/access`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('GET/PUT /v1/admin/access', () => {
  it('lets an administrator allow, promote and block people without a restart', async () => {
    const root = await as('root', 'root@example.org');
    expect(await status('bob', 'bob@outside.org')).toBe(403);
    expect(await status('ann', 'ann@staff.example.org')).toBe(200);

    const put = await putAccess(root, {
      allowed_emails: ['Bob@Outside.org'],
      admin_emails: ['eve@partner.org'],
    });
    expect(put.status).toBe(200);
    const view = (await put.json()) as Record<string, Record<string, string[]>>;
    expect(view.stored?.allowed_emails).toEqual(['bob@outside.org']);
    expect(view.config?.allowed_domains).toEqual(['staff.example.org']);
    expect(view.effective?.admin_emails).toEqual(['root@example.org', 'eve@partner.org']);
    expect(await status('bob', 'bob@outside.org')).toBe(200);
    // eve is now an administrator.
    const eve = await as('eve', 'eve@partner.org');
    expect((await fetch(`${svc.url}/v1/admin/access`, { headers: eve })).status).toBe(200);

    // A block wins over every list, the configuration's included; bob's and ann's access ends at once.
    expect(
      (
        await putAccess(root, {
          allowed_emails: ['bob@outside.org'],
          blocked_emails: ['@staff.example.org', 'bob@outside.org'],
        })
      ).status,
    ).toBe(200);
    expect(await status('bob', 'bob@outside.org')).toBe(403);
    expect(await status('ann', 'ann@staff.example.org')).toBe(403);
    const got = (await (await fetch(`${svc.url}/v1/admin/access`, { headers: root })).json()) as Record<
      string,
      Record<string, string[]>
    >;
    expect(got.stored?.blocked_emails).toEqual(['@staff.example.org', 'bob@outside.org']);
    expect(got.stored?.admin_emails).toEqual([]);
    // Replaced, not added: eve is no longer an administrator.
    expect((await fetch(`${svc.url}/v1/admin/access`, { headers: eve })).status).toBe(403);
    expect(svc.logs.some((line) => line.event === 'admin.access_updated' && line.by_user_id)).toBe(true);
  });

  it('is for administrators only, and refuses malformed lists', async () => {
    await putAccess(await as('root', 'root@example.org'), {});
    const ann = await as('ann', 'ann@staff.example.org');
    for (const response of [
      await fetch(`${svc.url}/v1/admin/access`, { headers: ann }),
      await putAccess(ann, { admin_emails: ['ann@staff.example.org'] }),
    ]) {
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error_code: string }).error_code).toBe('AUTH_FORBIDDEN');
    }
    const root = await as('root', 'root@example.org');
    for (const body of [{ allowed_emails: ['not an email'] }, { blocked_emails: ['x'] }, { extra: [] }]) {
      const response = await putAccess(root, body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error_code: string }).error_code).toBe('VALIDATION_FAILED');
    }
    expect((await fetch(`${svc.url}/v1/admin/access`)).status).toBe(401);
  });
});
