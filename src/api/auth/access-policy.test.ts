import { describe, expect, it } from 'vitest';
import type { AuthConfig } from '../../config/index.js';
import type { AppError } from '../../contract/index.js';
import { AccessPolicy } from './access-policy.js';

const config: AuthConfig = {
  oidc: null,
  allowedEmails: ['guest@other.example'],
  allowedDomains: ['example.org'],
  adminEmails: ['boss@elsewhere.example'],
  blockedEmails: ['mallory@example.org', '@spam.example.org'],
  allowAllUsers: false,
  allowInsecureLocal: false,
};

function refusal(policy: AccessPolicy, email: string | null, emailVerified = true): string | null {
  try {
    policy.rolesFor({ email, emailVerified });
    return null;
  } catch (error) {
    return (error as AppError).code;
  }
}

describe('AccessPolicy', () => {
  const policy = new AccessPolicy(config);

  it('lets in listed addresses and domains, as users; admins anywhere, as admins', () => {
    expect(policy.rolesFor({ email: 'Alice@Example.org', emailVerified: true })).toEqual(['user']);
    expect(policy.rolesFor({ email: 'guest@other.example', emailVerified: true })).toEqual(['user']);
    expect(policy.rolesFor({ email: 'boss@elsewhere.example', emailVerified: true })).toEqual([
      'user',
      'admin',
    ]);
  });

  it('refuses unlisted, blocked and email-less accounts', () => {
    expect(refusal(policy, 'eve@other.example')).toBe('AUTH_USER_NOT_ALLOWED');
    expect(refusal(policy, 'mallory@example.org')).toBe('AUTH_USER_NOT_ALLOWED');
    expect(refusal(policy, 'bot@spam.example.org')).toBe('AUTH_USER_NOT_ALLOWED');
    expect(refusal(policy, null)).toBe('AUTH_USER_NOT_ALLOWED');
  });

  it('never trusts an unverified email, not even for admin', () => {
    expect(refusal(policy, 'alice@example.org', false)).toBe('AUTH_EMAIL_UNVERIFIED');
    expect(refusal(policy, 'boss@elsewhere.example', false)).toBe('AUTH_EMAIL_UNVERIFIED');
    const open = new AccessPolicy({ ...config, allowAllUsers: true });
    expect(open.rolesFor({ email: 'boss@elsewhere.example', emailVerified: false })).toEqual(['user']);
    expect(open.rolesFor({ email: null, emailVerified: false })).toEqual(['user']);
  });
});
