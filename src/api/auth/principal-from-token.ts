import type { Principal } from '../principal.js';
import type { AccessLists } from './access-list-store.js';
import type { AccessPolicy } from './access-policy.js';
import type { OidcVerifier } from './oidc-verifier.js';

/** The caller an OIDC token names, once verified and let in by the access lists. */
export async function principalFromToken(
  verifier: OidcVerifier,
  policy: AccessPolicy,
  token: string,
  stored?: AccessLists,
): Promise<Principal> {
  const identity = await verifier.verify(token);
  const roles = policy.rolesFor(identity, stored);
  const email = identity.emailVerified ? identity.email : null;
  return { userId: identity.userId, email, roles, mode: 'oidc' };
}
