import { createHash } from 'node:crypto';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { OidcConfig } from '../../config/index.js';
import { AppError, type ErrorCode } from '../../contract/index.js';
import { OidcDiscovery } from './oidc-discovery.js';

/** A token's identity once its signature, issuer, audience and times have been checked. */
export interface VerifiedIdentity {
  /** `oidc_<hash of issuer and subject>` (or of the verified email): stable, opaque, key-safe. */
  userId: string;
  email: string | null;
  emailVerified: boolean;
}

/** jose's error codes → catalog codes; each refusal has its own. */
function codeForJoseError(error: unknown): ErrorCode {
  const { code, claim, reason } = error as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'AUTH_TOKEN_EXPIRED';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      // A required claim that is missing or not of its type is a malformed token, whichever claim.
      if (reason !== 'check_failed') return 'AUTH_TOKEN_INVALID';
      if (claim === 'iss') return 'AUTH_TOKEN_ISSUER';
      if (claim === 'aud') return 'AUTH_TOKEN_AUDIENCE';
      if (claim === 'nbf' || claim === 'iat') return 'AUTH_TOKEN_NOT_YET_VALID';
      return 'AUTH_TOKEN_INVALID';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'AUTH_TOKEN_ALGORITHM';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'AUTH_TOKEN_SIGNATURE';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return 'AUTH_PROVIDER_UNAVAILABLE';
    default:
      // fetch() failing to reach the JWKS URL surfaces as a plain TypeError.
      return error instanceof TypeError ? 'AUTH_PROVIDER_UNAVAILABLE' : 'AUTH_TOKEN_INVALID';
  }
}

function opaqueId(kind: string, ...parts: string[]): string {
  return `${kind}_${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32)}`;
}

/**
 * Verifies OpenID Connect tokens (ID tokens, or JWT access tokens whose audience is our client id)
 * against the issuer's published keys. The JWKS is cached by jose and fetched again, at most once
 * per cooldown, when a token names a key id it has not seen (key rotation).
 */
export class OidcVerifier {
  private keys: Promise<JWTVerifyGetKey> | null = null;

  constructor(
    private readonly config: OidcConfig,
    /** Shared with the page's sign-in (`oidc-sign-in.ts`), which needs the same provider metadata. */
    readonly discovery: OidcDiscovery = new OidcDiscovery(config.issuer),
  ) {}

  async verify(token: string): Promise<VerifiedIdentity> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new AppError('AUTH_TOKEN_INVALID');
    }
    // Refused before any key is looked up: `none` and HS* (signed with our public key) never pass.
    if (typeof alg !== 'string' || !(this.config.algorithms as readonly string[]).includes(alg)) {
      throw new AppError('AUTH_TOKEN_ALGORITHM', `Tokens signed with ${String(alg)} are not accepted.`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.jwks(), {
        issuer: this.config.issuer,
        audience: this.config.clientId,
        algorithms: this.config.algorithms,
        clockTolerance: this.config.clockToleranceSec,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError(codeForJoseError(error), undefined, { cause: error });
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat === 'number' && payload.iat > now + this.config.clockToleranceSec) {
      throw new AppError('AUTH_TOKEN_NOT_YET_VALID');
    }
    // OIDC Core 3.1.3.7: with several audiences the authorised party must be present and be us.
    const audiences = [payload.aud ?? []].flat();
    if (payload.azp !== undefined ? payload.azp !== this.config.clientId : audiences.length > 1) {
      throw new AppError('AUTH_TOKEN_AUDIENCE');
    }
    const email = typeof payload.email === 'string' ? payload.email.trim().toLowerCase() : null;
    const emailVerified = payload.email_verified === true || payload.email_verified === 'true';
    if (this.config.identityClaim === 'email') {
      if (!email) throw new AppError('AUTH_TOKEN_INVALID', 'The token carries no email claim.');
      if (!emailVerified) throw new AppError('AUTH_EMAIL_UNVERIFIED');
      return { userId: opaqueId('email', email), email, emailVerified };
    }
    return { userId: opaqueId('oidc', this.config.issuer, String(payload.sub)), email, emailVerified };
  }

  private jwks(): Promise<JWTVerifyGetKey> {
    if (!this.keys) {
      this.keys = this.resolveJwksUrl().then((url) =>
        createRemoteJWKSet(url, {
          cooldownDuration: this.config.jwksCooldownMs,
          cacheMaxAge: 10 * 60_000,
          timeoutDuration: 5_000,
        }),
      );
      // A failed discovery is tried again on the next token rather than remembered.
      this.keys.catch(() => {
        this.keys = null;
      });
    }
    return this.keys;
  }

  private async resolveJwksUrl(): Promise<URL> {
    if (this.config.jwksUrl) return new URL(this.config.jwksUrl);
    return new URL((await this.discovery.get()).jwksUri);
  }
}
