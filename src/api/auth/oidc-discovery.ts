import { AppError } from '../../contract/index.js';

const DISCOVERY_TIMEOUT_MS = 5_000;

/** The parts of an issuer's OpenID Provider Metadata this service uses. */
export interface ProviderMetadata {
  jwksUri: string;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
}

function optionalUrl(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? new URL(value).toString() : null;
}

/**
 * The issuer's `/.well-known/openid-configuration`, fetched once and shared by token checks and
 * the page's sign-in. A failed fetch is not remembered: the next caller tries again.
 */
export class OidcDiscovery {
  private metadata: Promise<ProviderMetadata> | null = null;

  constructor(private readonly issuer: string) {}

  get(): Promise<ProviderMetadata> {
    if (!this.metadata) {
      this.metadata = this.fetchMetadata();
      this.metadata.catch(() => {
        this.metadata = null;
      });
    }
    return this.metadata;
  }

  private async fetchMetadata(): Promise<ProviderMetadata> {
    const url = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`discovery answered ${response.status}`);
      const document = (await response.json()) as Record<string, unknown>;
      // OIDC Discovery 4.3: the document must name exactly the issuer it was fetched for.
      if (document.issuer !== this.issuer) throw new Error('discovery names another issuer');
      if (typeof document.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
      return {
        jwksUri: new URL(document.jwks_uri).toString(),
        authorizationEndpoint: optionalUrl(document.authorization_endpoint),
        tokenEndpoint: optionalUrl(document.token_endpoint),
      };
    } catch (error) {
      throw new AppError('AUTH_PROVIDER_UNAVAILABLE', undefined, { cause: error });
    }
  }
}
