import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcLoopbackIssuer, unsecuredToken } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

let issuer: OidcLoopbackIssuer;
let svc: TestService;

beforeAll(async () => {
  issuer = await new OidcLoopbackIssuer().start();
  svc = await startTestService(
    'auth-oidc',
    issuer.env({
      SERVICE_ROLE: 'api',
      AUTH_ALLOWED_DOMAINS: 'example.org',
      AUTH_ADMIN_EMAILS: 'admin@example.org',
      AUTH_BLOCKED_EMAILS: 'mallory@example.org',
      AUTH_JWKS_COOLDOWN_SEC: '0',
    }),
  );
});
afterAll(async () => {
  await svc?.close();
  await issuer?.close();
});

async function call(token: string | null, path = '/v1/jobs'): Promise<Response> {
  return fetch(`${svc.url}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

async function expectRefused(response: Response, status: number, code: string): Promise<void> {
  const body = (await response.json()) as { error_code: string; status: number };
  expect({ status: response.status, code: body.error_code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="doc-transcribe"/);
  if (status === 401 && code !== 'AUTH_REQUIRED') {
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  }
}

describe('OIDC bearer tokens', () => {
  it('accepts a valid token from the configured issuer (found through discovery)', async () => {
    const response = await call(await issuer.mint('alice'));
    expect(response.status).toBe(200);
    expect(issuer.jwksFetches).toBeGreaterThan(0);
    const ready = (await (await fetch(`${svc.url}/readyz`)).json()) as { auth_mode: string };
    expect(ready.auth_mode).toBe('oidc');
  });

  it('refuses a request without credentials with AUTH_REQUIRED, but keeps health and docs public', async () => {
    await expectRefused(await call(null), 401, 'AUTH_REQUIRED');
    for (const path of ['/healthz', '/readyz', '/openapi.json'])
      expect((await call(null, path)).status).toBe(200);
  });

  it('refuses an expired token, and a token not valid yet', async () => {
    await expectRefused(
      await call(await issuer.mint('alice', { iatOffsetSec: -900, expOffsetSec: -600 })),
      401,
      'AUTH_TOKEN_EXPIRED',
    );
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(
      await call(await issuer.mint('alice', { claims: { nbf: now + 600 } })),
      401,
      'AUTH_TOKEN_NOT_YET_VALID',
    );
    await expectRefused(
      await call(await issuer.mint('alice', { iatOffsetSec: 600, expOffsetSec: 900 })),
      401,
      'AUTH_TOKEN_NOT_YET_VALID',
    );
  });

  it('accepts a token just past exp within the clock tolerance', async () => {
    const response = await call(await issuer.mint('alice', { iatOffsetSec: -60, expOffsetSec: -5 }));
    expect(response.status).toBe(200);
  });

  it('refuses a token from another issuer, or for another audience or authorised party', async () => {
    await expectRefused(
      await call(await issuer.mint('alice', { claims: { iss: 'https://evil.example' } })),
      401,
      'AUTH_TOKEN_ISSUER',
    );
    await expectRefused(
      await call(await issuer.mint('alice', { claims: { aud: 'someone-else' } })),
      401,
      'AUTH_TOKEN_AUDIENCE',
    );
    await expectRefused(
      await call(await issuer.mint('alice', { claims: { azp: 'someone-else' } })),
      401,
      'AUTH_TOKEN_AUDIENCE',
    );
    await expectRefused(
      await call(await issuer.mint('alice', { claims: { aud: [issuer.clientId, 'other'] } })),
      401,
      'AUTH_TOKEN_AUDIENCE',
    );
    const withAzp = await issuer.mint('alice', {
      claims: { aud: [issuer.clientId, 'other'], azp: issuer.clientId },
    });
    expect((await call(withAzp)).status).toBe(200);
  });

  it('refuses alg none and HS256 signed with the public key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer.issuer, aud: issuer.clientId, sub: 'alice', iat: now, exp: now + 300 };
    await expectRefused(await call(unsecuredToken(claims)), 401, 'AUTH_TOKEN_ALGORITHM');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(await issuer.publicKeyPem()));
    await expectRefused(await call(forged), 401, 'AUTH_TOKEN_ALGORITHM');
  });

  it('refuses a tampered token and a malformed one', async () => {
    const [header, payload, signature = ''] = (await issuer.mint('alice')).split('.');
    const other = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    other.sub = 'admin';
    const tampered = `${header}.${Buffer.from(JSON.stringify(other)).toString('base64url')}.${signature}`;
    await expectRefused(await call(tampered), 401, 'AUTH_TOKEN_SIGNATURE');
    await expectRefused(await call('not-a-token'), 401, 'AUTH_TOKEN_INVALID');
    for (const missing of ['sub', 'exp', 'iat']) {
      await expectRefused(
        await call(await issuer.mint('alice', { claims: { [missing]: undefined } })),
        401,
        'AUTH_TOKEN_INVALID',
      );
    }
  });

  it('refetches the keys for an unknown kid: refused before the rotation, accepted after', async () => {
    const kid = await issuer.prepareKey('ES256');
    const token = await issuer.mint('alice', { kid });
    const fetchesBefore = issuer.jwksFetches;
    await expectRefused(await call(token), 401, 'AUTH_TOKEN_SIGNATURE');
    expect(issuer.jwksFetches).toBeGreaterThan(fetchesBefore);
    issuer.publish(kid);
    expect((await call(token)).status).toBe(200);
  });

  it('refuses unverified, unlisted and blocked accounts with 403', async () => {
    await expectRefused(
      await call(await issuer.mint('bob', { claims: { email_verified: false } })),
      403,
      'AUTH_EMAIL_UNVERIFIED',
    );
    await expectRefused(
      await call(await issuer.mint('eve', { claims: { email: 'eve@elsewhere.example' } })),
      403,
      'AUTH_USER_NOT_ALLOWED',
    );
    await expectRefused(await call(await issuer.mint('mallory')), 403, 'AUTH_USER_NOT_ALLOWED');
  });

  it('lets administrators only see the queues and the dead letters', async () => {
    for (const path of ['/v1/queues', '/v1/admin/dead-letters']) {
      await expectRefused(await call(await issuer.mint('alice'), path), 403, 'AUTH_FORBIDDEN');
      expect((await call(await issuer.mint('admin'), path)).status).toBe(200);
    }
  });

  it('logs each refusal with its code and never a token', async () => {
    const token = await issuer.mint('alice', { claims: { aud: 'someone-else' } });
    await call(token);
    const refusals = svc.logs.filter((line) => line.event === 'auth.refused');
    expect(refusals.map((line) => line.error_code)).toEqual(
      expect.arrayContaining([
        'AUTH_REQUIRED',
        'AUTH_TOKEN_EXPIRED',
        'AUTH_TOKEN_AUDIENCE',
        'AUTH_TOKEN_ALGORITHM',
      ]),
    );
    const written = JSON.stringify(svc.logs);
    expect(written).not.toContain(token.split('.')[2]);
    expect(written).not.toContain('Bearer ey');
  });
});

describe('JWKS refetch cooldown (AUTH_JWKS_COOLDOWN_SEC)', () => {
  let cooled: TestService;
  let cooledIssuer: OidcLoopbackIssuer;

  beforeAll(async () => {
    cooledIssuer = await new OidcLoopbackIssuer().start();
    cooled = await startTestService(
      'auth-oidc-cooldown',
      cooledIssuer.env({
        SERVICE_ROLE: 'api',
        AUTH_ALLOWED_DOMAINS: 'example.org',
        AUTH_JWKS_COOLDOWN_SEC: '600',
      }),
    );
  });
  afterAll(async () => {
    await cooled?.close();
    await cooledIssuer?.close();
  });

  /** `count` tokens, each signed with a key of its own that the issuer never publishes. */
  async function unknownKidTokens(on: OidcLoopbackIssuer, count: number): Promise<string[]> {
    const tokens: string[] = [];
    for (let i = 0; i < count; i += 1)
      tokens.push(await on.mint(`guess-${i}`, { kid: await on.prepareKey('ES256') }));
    return tokens;
  }

  async function refuseAll(url: string, tokens: string[]): Promise<void> {
    const answers = await Promise.all(
      tokens.map((token) => fetch(`${url}/v1/jobs`, { headers: { authorization: `Bearer ${token}` } })),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(((await answer.json()) as { error_code: string }).error_code).toBe('AUTH_TOKEN_SIGNATURE');
    }
  }

  it('does not fetch the JWKS once per token naming an unknown kid, however many arrive', async () => {
    expect(
      (
        await fetch(`${cooled.url}/v1/jobs`, {
          headers: { authorization: `Bearer ${await cooledIssuer.mint('alice')}` },
        })
      ).status,
    ).toBe(200);
    const before = cooledIssuer.jwksFetches;
    expect(before).toBeGreaterThan(0);
    await refuseAll(cooled.url, await unknownKidTokens(cooledIssuer, 25));
    // Sequentially too: each one would be a refetch without the cooldown.
    for (const token of await unknownKidTokens(cooledIssuer, 5)) await refuseAll(cooled.url, [token]);
    expect(cooledIssuer.jwksFetches - before).toBeLessThanOrEqual(1);
    // A valid token still passes from the cached keys.
    expect(
      (
        await fetch(`${cooled.url}/v1/jobs`, {
          headers: { authorization: `Bearer ${await cooledIssuer.mint('bob')}` },
        })
      ).status,
    ).toBe(200);
  });

  it('without a cooldown (AUTH_JWKS_COOLDOWN_SEC=0), each unknown kid costs a fetch: the setting is what holds them back', async () => {
    const before = issuer.jwksFetches;
    for (const token of await unknownKidTokens(issuer, 5)) await refuseAll(svc.url, [token]);
    expect(issuer.jwksFetches - before).toBeGreaterThanOrEqual(5);
  });
});
