import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthConfigView, TokenSet, WhoAmI } from '../../src/contract/index.js';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

// The page's sign-in through the API: authorization code with PKCE against a real loopback
// issuer, code and refresh-token exchange, and the local mode that has nothing to sign in to.
let issuer: OidcLoopbackIssuer;
let oidc: TestService;
let local: TestService;
const REDIRECT = 'http://127.0.0.1:9/';

beforeAll(async () => {
  issuer = await new OidcLoopbackIssuer().start();
  oidc = await startTestService(
    'auth-sign-in',
    issuer.env({
      SERVICE_ROLE: 'api',
      AUTH_ALLOWED_DOMAINS: 'example.org',
      AUTH_OIDC_CLIENT_SECRET: 's3cret',
    }),
  );
  local = await startTestService('auth-sign-in-local', { SERVICE_ROLE: 'api' });
});
afterAll(async () => {
  await oidc?.close();
  await local?.close();
  await issuer?.close();
});

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** What the browser does: follow the authorization endpoint to the redirect and read the code. */
async function authorize(config: AuthConfigView, challenge: string): Promise<string> {
  const url = new URL(config.authorization_endpoint ?? '');
  url.search = new URLSearchParams({
    client_id: config.client_id ?? '',
    response_type: 'code',
    scope: config.scopes.join(' '),
    redirect_uri: REDIRECT,
    state: 'xyz',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const back = new URL(response.headers.get('location') ?? '');
  expect(back.searchParams.get('state')).toBe('xyz');
  return back.searchParams.get('code') ?? '';
}

async function exchange(body: unknown): Promise<Response> {
  return fetch(`${oidc.url}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function config(): Promise<AuthConfigView> {
  const response = await fetch(`${oidc.url}/v1/auth/config`);
  expect(response.status).toBe(200);
  return (await response.json()) as AuthConfigView;
}

describe('sign-in with the identity provider', () => {
  it('tells the page, without credentials, where to sign in', async () => {
    const view = await config();
    expect(view).toEqual({
      mode: 'oidc',
      issuer: issuer.issuer,
      client_id: issuer.clientId,
      authorization_endpoint: `${issuer.issuer}/authorize`,
      scopes: ['openid', 'email', 'profile'],
    });
  });

  it('trades a code and its PKCE verifier for an ID token that the API accepts, sending the client secret', async () => {
    issuer.requiredClientSecret = 's3cret';
    const { verifier, challenge } = pkce();
    const code = await authorize(await config(), challenge);
    const response = await exchange({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const tokens = (await response.json()) as TokenSet;
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.user).toMatchObject({ email: 'page-user@example.org', roles: ['user'], mode: 'oidc' });
    expect(Date.parse(tokens.expires_at)).toBeGreaterThan(Date.now());

    const me = await fetch(`${oidc.url}/v1/me`, { headers: { authorization: `Bearer ${tokens.id_token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as WhoAmI).user_id).toBe(tokens.user.user_id);

    // The session goes on with the refresh token; the old refresh token is spent.
    const renewed = await exchange({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(renewed.status).toBe(200);
    const next = (await renewed.json()) as TokenSet;
    expect(next.user.user_id).toBe(tokens.user.user_id);
    const replay = await exchange({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error_code: 'AUTH_SIGN_IN_FAILED' });
    const logged = oidc.logs.filter((line) => line.event === 'auth.signed_in');
    expect(logged.map((line) => line.grant_type)).toEqual(['authorization_code', 'refresh_token']);
    expect(JSON.stringify(oidc.logs)).not.toContain(tokens.id_token);
    expect(JSON.stringify(oidc.logs)).not.toContain(next.refresh_token ?? 'none');
  });

  it('refuses a code with the wrong verifier, and a code used twice', async () => {
    const { verifier, challenge } = pkce();
    const code = await authorize(await config(), challenge);
    const wrong = await exchange({
      grant_type: 'authorization_code',
      code,
      code_verifier: pkce().verifier,
      redirect_uri: REDIRECT,
    });
    expect(wrong.status).toBe(401);
    const problem = (await wrong.json()) as { error_code: string; detail: string };
    expect(problem.error_code).toBe('AUTH_SIGN_IN_FAILED');
    expect(problem.detail).toContain('invalid_grant');
    const again = await exchange({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
    });
    expect(again.status).toBe(401);
  });

  it('refuses, at sign-in already, someone the access lists do not let in', async () => {
    issuer.signInSubject = 'mallory';
    try {
      // mallory@example.org is in the allowed domain; make the issuer name another domain.
      const { verifier, challenge } = pkce();
      const code = await authorize(await config(), challenge);
      const original = issuer.mint.bind(issuer);
      issuer.mint = (subject, options = {}) =>
        original(subject, { ...options, claims: { email: 'mallory@elsewhere.test' } });
      const response = await exchange({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      });
      issuer.mint = original;
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error_code: 'AUTH_USER_NOT_ALLOWED' });
    } finally {
      issuer.signInSubject = 'page-user';
    }
  });

  it('answers a malformed exchange with VALIDATION_FAILED', async () => {
    const response = await exchange({
      grant_type: 'authorization_code',
      code: 'x',
      code_verifier: 'short',
      redirect_uri: REDIRECT,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error_code: 'VALIDATION_FAILED' });
  });
});

describe('local mode', () => {
  it('says there is nothing to sign in to, and who the local user is', async () => {
    const view = (await (await fetch(`${local.url}/v1/auth/config`)).json()) as AuthConfigView;
    expect(view.mode).toBe('local');
    const token = await fetch(`${local.url}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'x' }),
    });
    expect(token.status).toBe(404);
    expect(await token.json()).toMatchObject({ error_code: 'AUTH_NOT_CONFIGURED' });
    const me = (await (await fetch(`${local.url}/v1/me`)).json()) as WhoAmI;
    expect(me).toEqual({ user_id: 'local', email: null, roles: ['user', 'admin'], mode: 'local' });
  });
});
