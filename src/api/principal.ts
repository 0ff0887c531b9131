import type { FastifyRequest } from 'fastify';
import { AppError } from '../contract/index.js';

export type Role = 'user' | 'admin';
/** How the caller proved who they are: nobody needs to in local mode. */
export type AuthMode = 'local' | 'oidc' | 'api_key';

/** Who is calling. Set on every `/v1` request by the auth plugin (`auth/auth-plugin.ts`). */
export interface Principal {
  /** Stable and safe as a Redis key part: job indexes, idempotency keys and API keys hang off it. */
  userId: string;
  email: string | null;
  roles: readonly Role[];
  mode: AuthMode;
}

/** Local single-user mode (no identity provider configured): the one user, who administers it too. */
export const LOCAL_PRINCIPAL: Principal = {
  userId: 'local',
  email: null,
  roles: ['user', 'admin'],
  mode: 'local',
};

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  // Only a route outside `/v1` could get here without one, and those never ask.
  if (!request.principal) throw new AppError('AUTH_REQUIRED');
  return request.principal;
}

/** For administrators' routes (queues, dead letters): 403 `AUTH_FORBIDDEN` for everyone else. */
export function requireAdmin(request: FastifyRequest): Principal {
  const principal = principalOf(request);
  if (!principal.roles.includes('admin')) throw new AppError('AUTH_FORBIDDEN');
  return principal;
}
