import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

let issuer: OidcLoopbackIssuer;
let direct: TestService;
let proxied: TestService;

beforeAll(async () => {
  issuer = await new OidcLoopbackIssuer().start();
  const env = {
    SERVICE_ROLE: 'api',
    AUTH_ALLOW_ALL_USERS: 'true',
    RATE_LIMIT_MAX: '100',
    RATE_LIMIT_ANONYMOUS_MAX: '2',
    RATE_LIMIT_WINDOW_SEC: '600',
  };
  [direct, proxied] = await Promise.all([
    startTestService('trust-proxy-off', issuer.env(env)),
    // The test itself plays the proxy, on loopback.
    startTestService('trust-proxy-on', issuer.env({ ...env, HTTP_TRUST_PROXY: '127.0.0.1,::1' })),
  ]);
});
afterAll(async () => {
  await Promise.all([direct?.close(), proxied?.close()]);
  await issuer?.close();
});

async function anonymousStatuses(url: string, forwardedFor: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const address of forwardedFor) {
    const response = await fetch(`${url}/v1/jobs`, { headers: { 'x-forwarded-for': address } });
    statuses.push(response.status);
  }
  return statuses;
}

describe('HTTP_TRUST_PROXY', () => {
  it('ignores X-Forwarded-For by default: every anonymous caller shares the peer address', async () => {
    expect(await anonymousStatuses(direct.url, ['203.0.113.1', '203.0.113.2', '203.0.113.3'])).toEqual([
      401, 401, 429,
    ]);
    const limited = direct.logs.filter((line) => line.event === 'http.request' && line.status === 429);
    expect(limited.length).toBeGreaterThan(0);
  });

  it('behind a configured proxy, counts each forwarded client address separately', async () => {
    expect(await anonymousStatuses(proxied.url, ['203.0.113.1', '203.0.113.2', '203.0.113.3'])).toEqual([
      401, 401, 401,
    ]);
    // The same client through the proxy still runs out; a spoofed chain counts by its last hop.
    expect(await anonymousStatuses(proxied.url, ['198.51.100.7', '198.51.100.7', '198.51.100.7'])).toEqual([
      401, 401, 429,
    ]);
    expect(
      await anonymousStatuses(proxied.url, [
        '1.1.1.1, 198.51.100.9',
        '2.2.2.2, 198.51.100.9',
        '198.51.100.9',
      ]),
    ).toEqual([401, 401, 429]);
  });
});
