import type { AuthConfig } from '../../config/index.js';
import { AppError } from '../../contract/index.js';
import type { Role } from '../principal.js';

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

  /** The caller's roles, or an `AUTH_USER_NOT_ALLOWED` / `AUTH_EMAIL_UNVERIFIED` refusal. */
  rolesFor(claimed: ClaimedEmail): Role[] {
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
