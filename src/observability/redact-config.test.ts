import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { redactConfig } from './redact-config.js';

const SECRETS = {
  GEMINI_API_KEY: 'gemini-secret-value-1',
  OPENAI_API_KEY: 'openai-secret-value-2',
  METRICS_TOKEN: 'metrics-secret-value-3',
  AUTH_OIDC_CLIENT_SECRET: 'oidc-secret-value-4',
  REDIS_URL: 'redis://default:redis-secret-value-5@127.0.0.1:6379/0',
};

function environment(role: string): Record<string, string> {
  return {
    ...SECRETS,
    SERVICE_ROLE: role,
    AUTH_OIDC_ISSUER: 'https://issuer.example.com',
    AUTH_OIDC_CLIENT_ID: 'doc-transcribe',
    AUTH_ALLOW_ALL_USERS: 'true',
    TRANSCRIPTION_ENGINE: 'openai',
    GEMINI_BASE_URL: 'https://gemini.example.com/v1?key=gemini-query-secret-6',
  };
}

describe('redactConfig', () => {
  for (const role of ['all', 'api', 'worker']) {
    it(`removes every secret from the ${role} role's start-up dump but keeps the rest`, () => {
      const config = loadConfig(environment(role));
      const dump = JSON.stringify(redactConfig(config));
      const secrets = Object.values(SECRETS).filter((value) => !value.startsWith('redis://'));
      for (const secret of [...secrets, 'redis-secret-value-5', 'gemini-query-secret-6']) {
        expect(dump).not.toContain(secret);
      }
      expect(dump).toContain('[redacted]');
      // What the process runs with is still there.
      expect(dump).toContain(`"role":"${role}"`);
      expect(dump).toContain('127.0.0.1:6379');
      expect(dump).toContain('doc-transcribe');
      expect(dump).toContain('https://issuer.example.com');
    });
  }

  it('redacts secret-named strings at any depth, URL passwords, lone Redis users and PEM keys', () => {
    const redacted = redactConfig({
      a: { b: [{ apiKey: 'k1', clientSecret: 's1', accessToken: 't1', password: 'p1' }] },
      redis: 'redis://onlypassword@host:6379',
      db: 'postgres://user:pw@host/db',
      signed: 'https://bucket.example.com/x?X-Amz-Signature=abc&size=3',
      pem: '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----',
    });
    expect(redacted).toEqual({
      a: {
        b: [
          {
            apiKey: '[redacted]',
            clientSecret: '[redacted]',
            accessToken: '[redacted]',
            password: '[redacted]',
          },
        ],
      },
      redis: 'redis://%5Bredacted%5D@host:6379',
      db: 'postgres://user:%5Bredacted%5D@host/db',
      signed: 'https://bucket.example.com/x?X-Amz-Signature=%5Bredacted%5D&size=3',
      pem: '[redacted]',
    });
  });

  it('keeps counts and switches whose names merely mention tokens or credentials', () => {
    expect(
      redactConfig({ maxOutputTokens: 8192, allowCredentials: true, keyPrefix: 'dt', tokenTtl: 5 }),
    ).toEqual({
      maxOutputTokens: 8192,
      allowCredentials: true,
      keyPrefix: 'dt',
      tokenTtl: 5,
    });
  });
});
