import type { AuthConfig } from '../../config/index.js';
import { AppError } from '../../contract/index.js';
import type { Role } from '../principal.js';
import { type AccessLists, NO_ACCESS_LISTS } from './access-list-store.js';

/** What the identity provider vouches for about the caller. */
export interface ClaimedEmail {
  email: string | null;
  emailVerified: boolean;
}

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

/**
 * Who may use the service and who administers it, from the allow, admin and block lists. An email
 * counts only when the provider says it is verified: an unverified one could be anybody's.
 */
export class AccessPolicy {
  constructor(private readonly config: AuthConfig) {}

  /**
   * The caller's roles, or an `AUTH_USER_NOT_ALLOWED` / `AUTH_EMAIL_UNVERIFIED` refusal; `stored`
   * are the lists an administrator set through the API, added to the configuration's.
   */
  rolesFor(claimed: ClaimedEmail, stored: AccessLists = NO_ACCESS_LISTS): Role[] {
    return new AccessPolicy(mergeLists(this.config, stored)).decide(claimed);
  }

  private decide(claimed: ClaimedEmail): Role[] {
    const email = claimed.email?.trim().toLowerCase() || null;
    if (email && this.isBlocked(email)) throw new AppError('AUTH_USER_NOT_ALLOWED');
    const verified = email && claimed.emailVerified ? email : null;
    const admin = verified !== null && this.config.adminEmails.includes(verified);
    const allowed =
      this.config.allowAllUsers ||
      admin ||
      (verified !== null &&
        (this.config.allowedEmails.includes(verified) ||
          this.config.allowedDomains.includes(domainOf(verified))));
    if (!allowed) {
      // Being on a list with an unverified address is the one refusal the user can fix themselves.
      if (email && !claimed.emailVerified && this.wouldBeAllowed(email)) {
        throw new AppError('AUTH_EMAIL_UNVERIFIED');
      }
      throw new AppError('AUTH_USER_NOT_ALLOWED');
    }
    return admin ? ['user', 'admin'] : ['user'];
  }

  private wouldBeAllowed(email: string): boolean {
    return (
      this.config.adminEmails.includes(email) ||
      this.config.allowedEmails.includes(email) ||
      this.config.allowedDomains.includes(domainOf(email))
    );
  }

  /** Block-list entries are addresses (`a@b.org`) or whole domains (`@b.org`). */
  private isBlocked(email: string): boolean {
    return this.config.blockedEmails.some((entry) =>
      entry.startsWith('@') ? domainOf(email) === entry.slice(1) : entry === email,
    );
  }
}

/** The configuration's lists with the stored ones added (duplicates dropped). */
export function mergeLists(config: AuthConfig, stored: AccessLists): AuthConfig {
  const merged = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  return {
    ...config,
    allowedEmails: merged(config.allowedEmails, stored.allowed_emails),
    allowedDomains: merged(config.allowedDomains, stored.allowed_domains),
    adminEmails: merged(config.adminEmails, stored.admin_emails),
    blockedEmails: merged(config.blockedEmails, stored.blocked_emails),
  };
}
