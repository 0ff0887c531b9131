import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthConfig } from '../../config/index.js';
import { AppError } from '../../contract/index.js';
import { LOCAL_PRINCIPAL, type Principal } from '../principal.js';
import type { AccessListStore } from './access-list-store.js';
import { AccessPolicy } from './access-policy.js';
import { API_KEY_PREFIX, type ApiKeyStore } from './api-key-store.js';
import type { OidcVerifier } from './oidc-verifier.js';
import { principalFromToken } from './principal-from-token.js';
import type { RateLimitCheck } from './rate-limit-by-caller.js';

export interface AuthDeps {
  config: AuthConfig;
  apiKeys: ApiKeyStore;
  /** Null in local single-user mode. */
  verifier: OidcVerifier | null;
  rateLimit: RateLimitCheck;
  /** Lists set through `PUT /v1/admin/access`, read on every authentication (no restart needed). */
  accessLists?: AccessListStore;
}

type Credential = { kind: 'none' } | { kind: 'api_key'; key: string } | { kind: 'bearer'; token: string };

/** Under `/v1`, what the page needs before anyone has signed in. */
const PUBLIC_V1_PATHS = new Set(['/v1/auth/config', '/v1/auth/token']);

/** Everything outside `/v1` is public: health, readiness, metrics (its own token), OpenAPI, /docs and the page. */
function needsPrincipal(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0] ?? '';
  return (path === '/v1' || path.startsWith('/v1/')) && !PUBLIC_V1_PATHS.has(path);
}

function credentialOf(request: FastifyRequest): Credential {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.trim() !== '') {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new AppError('AUTH_TOKEN_INVALID', 'Use "Authorization: Bearer <token>".');
    const token = match[1];
    return token.startsWith(API_KEY_PREFIX) ? { kind: 'api_key', key: token } : { kind: 'bearer', token };
  }
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return { kind: 'api_key', key: apiKey.trim() };
  return { kind: 'none' };
}

/** Resolves the caller of a request outside `/v1` that still needs one (`/metrics`). */
export type PrincipalResolver = (request: FastifyRequest) => Promise<Principal>;

/**
 * The authenticated caller of each request under `/v1`, or a refusal with its catalog code.
 * Returns the same resolution for routes outside `/v1` that decide for themselves.
 */
export function registerAuth(app: FastifyInstance, deps: AuthDeps): PrincipalResolver {
  const policy = new AccessPolicy(deps.config);
  app.decorateRequest('principal', null);

  const authenticate = async (credential: Credential): Promise<Principal> => {
    switch (credential.kind) {
      case 'none':
        if (deps.verifier) throw new AppError('AUTH_REQUIRED');
        return LOCAL_PRINCIPAL;
      case 'api_key': {
        const owner = await deps.apiKeys.authenticate(credential.key);
        if (!owner) throw new AppError('AUTH_API_KEY_INVALID');
        // A key made in local mode belongs to the local user; otherwise the lists still apply,
        // so taking someone off them (or blocking them) stops their keys too.
        const roles =
          owner.userId === LOCAL_PRINCIPAL.userId && !deps.verifier
            ? LOCAL_PRINCIPAL.roles
            : policy.rolesFor(
                { email: owner.email, emailVerified: owner.email !== null },
                await deps.accessLists?.get(),
              );
        return { userId: owner.userId, email: owner.email, roles, mode: 'api_key' };
      }
      case 'bearer': {
        if (!deps.verifier) {
          throw new AppError('AUTH_TOKEN_INVALID', 'No identity provider is configured; use an API key.');
        }
        return principalFromToken(deps.verifier, policy, credential.token, await deps.accessLists?.get());
      }
    }
  };

  app.addHook('onRequest', async (request, reply) => {
    // Preflights carry no credentials; @fastify/cors answers them.
    if (request.method === 'OPTIONS') return;
    // Health, readiness, metrics, OpenAPI, /docs, the page and the sign-in exchange: per IP, in a
    // bucket of their own (RATE_LIMIT_PUBLIC_MAX), so they neither spend nor are spent by /v1 traffic.
    if (!needsPrincipal(request)) return deps.rateLimit(request, reply, { kind: 'public' });
    let credential: Credential = { kind: 'none' };
    let refusal: unknown = null;
    try {
      credential = credentialOf(request);
      request.principal = await authenticate(credential);
    } catch (error) {
      refusal = error;
    }
    // Counted before a refusal is answered, so guessing keys or tokens is limited per IP too.
    const userId = request.principal?.userId;
    await deps.rateLimit(request, reply, userId ? { kind: 'user', userId } : { kind: 'ip' });
    if (refusal) {
      if (refusal instanceof AppError) {
        request.log.info(
          { event: 'auth.refused', error_code: refusal.code, credential: credential.kind },
          'request refused by authentication',
        );
      }
      throw refusal;
    }
  });

  return (request) => authenticate(credentialOf(request));
}
