import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

const APP_ORIGIN = 'https://app.example.org';
let local: TestService;
let issuer: OidcLoopbackIssuer;
let oidc: TestService;

beforeAll(async () => {
  issuer = await new OidcLoopbackIssuer().start();
  [local, oidc] = await Promise.all([
    startTestService('http-security', {
      SERVICE_ROLE: 'api',
      CORS_ORIGINS: APP_ORIGIN,
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_WINDOW_SEC: '600',
    }),
    startTestService(
      'http-security-oidc',
      issuer.env({
        SERVICE_ROLE: 'api',
        AUTH_ALLOW_ALL_USERS: 'true',
        RATE_LIMIT_MAX: '100',
        RATE_LIMIT_ANONYMOUS_MAX: '3',
        RATE_LIMIT_PUBLIC_MAX: '6',
        RATE_LIMIT_WINDOW_SEC: '600',
      }),
    ),
  ]);
});
afterAll(async () => {
  await Promise.all([local?.close(), oidc?.close()]);
  await issuer?.close();
});

function preflight(origin: string): Promise<Response> {
  return fetch(`${local.url}/v1/jobs`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,idempotency-key',
    },
  });
}

describe('CORS', () => {
  it('answers a preflight from a configured origin', async () => {
    const response = await preflight(APP_ORIGIN);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('gives another origin no permission, on preflight or on a request', async () => {
    const response = await preflight('https://evil.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${local.url}/healthz`, { headers: { origin: 'https://evil.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await fetch(`${local.url}/healthz`, { headers: { origin: APP_ORIGIN } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(allowed.headers.get('access-control-expose-headers')).toContain('ratelimit');
  });
});

describe('security headers', () => {
  it('sends a CSP that allows only its own scripts, nosniff and frame denial', async () => {
    for (const path of ['/healthz', '/openapi.json', '/']) {
      const response = await fetch(`${local.url}${path}`, { headers: { accept: 'text/html' } });
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      // A chosen recording's length is read from a blob: URL before upload.
      expect(csp).toContain("media-src 'self' blob:");
      expect(csp).not.toContain('unsafe-eval');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
  });
});

describe('rate limits', () => {
  it('counts requests per user and answers 429 RATE_LIMITED with RateLimit headers and Retry-After', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i += 1) {
      last = await fetch(`${local.url}/v1/jobs`);
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get('ratelimit-policy')).toBe('"user";q=5;w=600');
        expect(last.headers.get('ratelimit')).toMatch(/^"user";r=4;t=\d+$/);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const response = last as Response;
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(((await response.json()) as { error_code: string }).error_code).toBe('RATE_LIMITED');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(5);
    expect(response.headers.get('ratelimit')).toMatch(/^"user";r=0;t=\d+$/);
    // The public routes have a bucket of their own (off here): a spent user budget does not close them.
    expect((await fetch(`${local.url}/healthz`)).status).toBe(200);
  });

  it('counts refused credentials per IP, separately from signed-in users', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await fetch(`${oidc.url}/v1/jobs`, { headers: { 'x-api-key': 'dt_guess' } })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const token = await issuer.mint('carol');
    const signedIn = await fetch(`${oidc.url}/v1/jobs`, { headers: { authorization: `Bearer ${token}` } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('ratelimit-policy')).toBe('"user";q=100;w=600');
  });

  it('counts the public routes per IP in a bucket of their own, which signed-in /v1 traffic does not spend', async () => {
    const first = await fetch(`${oidc.url}/healthz`);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"public";q=6;w=600');
    expect(first.headers.get('ratelimit')).toMatch(/^"public";r=5;t=\d+$/);
    const signedIn = { authorization: `Bearer ${await issuer.mint('dave')}` };
    for (let i = 0; i < 8; i += 1) {
      const response = await fetch(`${oidc.url}/v1/jobs`, { headers: signedIn });
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-policy')).toBe('"user";q=100;w=600');
    }
    const remaining: Array<string | null> = [];
    for (const path of ['/readyz', '/openapi.json', '/v1/auth/config', '/metrics', '/']) {
      const response = await fetch(`${oidc.url}${path}`);
      expect(response.status).not.toBe(429);
      remaining.push(response.headers.get('ratelimit')?.split(';')[1] ?? null);
    }
    // Eight /v1 requests in between did not count: the next public one had 4 left.
    expect(remaining).toEqual(['r=4', 'r=3', 'r=2', 'r=1', 'r=0']);
    const refused = await fetch(`${oidc.url}/healthz`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(((await refused.json()) as { error_code: string }).error_code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(5);
    expect(refused.headers.get('ratelimit')).toMatch(/^"public";r=0;t=\d+$/);
    // The signed-in user goes on working.
    expect((await fetch(`${oidc.url}/v1/jobs`, { headers: signedIn })).status).toBe(200);
  });
});
