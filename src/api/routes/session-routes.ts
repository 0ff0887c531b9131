import type { FastifyInstance } from 'fastify';
import type { AuthConfig } from '../../config/index.js';
import { AppError, type AuthConfigView, tokenRequestSchema, type WhoAmI } from '../../contract/index.js';
import { AccessPolicy } from '../auth/access-policy.js';
import type { OidcSignIn } from '../auth/oidc-sign-in.js';
import type { OidcVerifier } from '../auth/oidc-verifier.js';
import { principalFromToken } from '../auth/principal-from-token.js';
import { type Principal, principalOf } from '../principal.js';
import { parseOrThrow } from './route-params.js';

const LOCAL_VIEW: AuthConfigView = {
  mode: 'local',
  issuer: null,
  client_id: null,
  authorization_endpoint: null,
  scopes: [],
};

function whoAmI(principal: Principal): WhoAmI {
  return {
    user_id: principal.userId,
    email: principal.email,
    roles: [...principal.roles],
    mode: principal.mode,
  };
}

/** How the page signs in (`/v1/auth/*`, public) and who the caller is (`/v1/me`). */
export function registerSessionRoutes(
  app: FastifyInstance,
  deps: { auth: AuthConfig; verifier: OidcVerifier | null; signIn: OidcSignIn | null },
): void {
  const policy = new AccessPolicy(deps.auth);

  app.get('/v1/auth/config', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return deps.signIn ? deps.signIn.view() : LOCAL_VIEW;
  });

  app.post('/v1/auth/token', async (request, reply) => {
    const { signIn, verifier } = deps;
    if (!signIn || !verifier) throw new AppError('AUTH_NOT_CONFIGURED');
    const grant = parseOrThrow(tokenRequestSchema, request.body ?? {});
    const tokens = await signIn.exchange(grant);
    // Checked like any request's token, so a user the lists refuse is told now, not on first use.
    const principal = await principalFromToken(verifier, policy, tokens.idToken);
    // jose is already loaded by the verifier (there is none in local mode, see above).
    const { decodeJwt } = await import('jose');
    const exp = decodeJwt(tokens.idToken).exp ?? 0;
    request.log.info(
      { event: 'auth.signed_in', grant_type: grant.grant_type, user_id: principal.userId },
      grant.grant_type === 'refresh_token' ? 'session renewed' : 'signed in',
    );
    return reply.header('cache-control', 'no-store').send({
      id_token: tokens.idToken,
      expires_at: new Date(exp * 1000).toISOString(),
      refresh_token: tokens.refreshToken,
      user: whoAmI(principal),
    });
  });

  app.get('/v1/me', async (request) => whoAmI(principalOf(request)));
}
