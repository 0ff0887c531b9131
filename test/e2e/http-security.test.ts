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
    // Health and the page are never limited.
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
});
