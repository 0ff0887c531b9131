import type { OidcConfig } from '../../config/index.js';
import { AppError, type AuthConfigView, type TokenRequest } from '../../contract/index.js';
import type { OidcVerifier } from './oidc-verifier.js';

const TOKEN_TIMEOUT_MS = 10_000;

export interface ProviderTokens {
  idToken: string;
  refreshToken: string | null;
}

/**
 * The page's sign-in (authorization code with PKCE, RFC 7636): tells the page where to send people
 * and trades the code it gets back, or a refresh token, at the provider's token endpoint. The tokens
 * go back to the page, which keeps them in memory only.
 */
export class OidcSignIn {
  constructor(
    private readonly config: OidcConfig,
    private readonly verifier: OidcVerifier,
  ) {}

  async view(): Promise<AuthConfigView> {
    const metadata = await this.verifier.discovery.get();
    return {
      mode: 'oidc',
      issuer: this.config.issuer,
      client_id: this.config.clientId,
      authorization_endpoint: metadata.authorizationEndpoint,
      scopes: this.config.scopes,
    };
  }

  async exchange(request: TokenRequest): Promise<ProviderTokens> {
    const { tokenEndpoint } = await this.verifier.discovery.get();
    if (!tokenEndpoint) {
      throw new AppError('AUTH_PROVIDER_UNAVAILABLE', 'The identity provider publishes no token endpoint.');
    }
    const form = new URLSearchParams({ client_id: this.config.clientId });
    if (this.config.clientSecret) form.set('client_secret', this.config.clientSecret);
    if (request.grant_type === 'authorization_code') {
      form.set('grant_type', 'authorization_code');
      form.set('code', request.code);
      form.set('code_verifier', request.code_verifier);
      form.set('redirect_uri', request.redirect_uri);
    } else {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', request.refresh_token);
    }
    let response: Response;
    try {
      response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
    } catch (error) {
      throw new AppError('AUTH_PROVIDER_UNAVAILABLE', undefined, { cause: error });
    }
    const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    if (response.status >= 500) {
      throw new AppError('AUTH_PROVIDER_UNAVAILABLE', `The token endpoint answered ${response.status}.`);
    }
    if (!response.ok || !body) {
      // RFC 6749 5.2: `error` is a code such as invalid_grant; it is safe to pass on, the body is not.
      const reason = typeof body?.error === 'string' ? body.error : `HTTP ${response.status}`;
      throw new AppError('AUTH_SIGN_IN_FAILED', `The identity provider refused the sign-in (${reason}).`);
    }
    if (typeof body.id_token !== 'string') {
      throw new AppError('AUTH_SIGN_IN_FAILED', 'The identity provider answered without an ID token.');
    }
    return {
      idToken: body.id_token,
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : null,
    };
  }
}
