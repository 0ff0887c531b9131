import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>;

interface Key {
  kid: string;
  alg: 'RS256' | 'ES256';
  pair: SigningKey;
  jwk: JWK;
}

export interface MintOptions {
  /** Claims to add or override (`undefined` removes a default claim). */
  claims?: Record<string, unknown>;
  /** Sign with this key id instead of the newest published key. */
  kid?: string;
  /** Seconds from now: defaults iat = now, exp = now + 300. */
  iatOffsetSec?: number;
  expOffsetSec?: number;
}

/** A code handed out by `/authorize`, waiting for its exchange at `/token`. */
interface PendingCode {
  subject: string;
  nonce: string | null;
  redirectUri: string;
  codeChallenge: string;
}

/**
 * A real OpenID Connect issuer on loopback for tests: discovery document, JWKS, tokens signed
 * with key pairs made here, and the authorization-code flow with PKCE (`/authorize` signs in
 * `signInSubject` at once, `/token` checks the verifier and issues ID and refresh tokens).
 * Counts JWKS fetches and token grants so key rotation and session renewal can be observed.
 */
export class OidcLoopbackIssuer {
  readonly clientId = 'doc-transcribe-test';
  jwksFetches = 0;
  /** Who `/authorize` signs in. */
  signInSubject = 'page-user';
  /** Lifetime of the ID tokens `/token` issues, in seconds. */
  tokenLifetimeSec = 300;
  /** Grants answered by `/token`, by grant type. */
  readonly grants = { authorization_code: 0, refresh_token: 0 };
  /** Client secret `/token` insists on, when set. */
  requiredClientSecret: string | null = null;
  private codes = new Map<string, PendingCode>();
  private refreshTokens = new Map<string, string>();
  private published: Key[] = [];
  private unpublished: Key[] = [];
  private server: Server | null = null;
  private base = '';

  get issuer(): string {
    return this.base;
  }

  get jwksUrl(): string {
    return `${this.base}/jwks`;
  }

  async start(): Promise<this> {
    this.published.push(await this.makeKey('RS256'));
    this.server = createServer((request, response) => {
      const send = (body: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      const url = new URL(request.url ?? '/', 'http://issuer');
      if (url.pathname === '/.well-known/openid-configuration') {
        send({
          issuer: this.base,
          jwks_uri: this.jwksUrl,
          authorization_endpoint: `${this.base}/authorize`,
          token_endpoint: `${this.base}/token`,
          code_challenge_methods_supported: ['S256'],
          id_token_signing_alg_values_supported: ['RS256'],
        });
      } else if (url.pathname === '/jwks') {
        this.jwksFetches += 1;
        send({ keys: this.published.map((key) => key.jwk) });
      } else if (url.pathname === '/authorize') {
        this.authorize(url, response);
      } else if (url.pathname === '/token' && request.method === 'POST') {
        let body = '';
        request.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        request.on('end', () => {
          this.token(new URLSearchParams(body)).then(
            ({ status, json }) => {
              response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
              response.end(JSON.stringify(json));
            },
            () => response.writeHead(500).end(),
          );
        });
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Env for a service that trusts this issuer. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { AUTH_OIDC_ISSUER: this.issuer, AUTH_OIDC_CLIENT_ID: this.clientId, ...extra };
  }

  /** A key the issuer has made but not published yet; `publish` adds it to the JWKS. */
  async prepareKey(alg: 'RS256' | 'ES256' = 'ES256'): Promise<string> {
    const key = await this.makeKey(alg);
    this.unpublished.push(key);
    return key.kid;
  }

  publish(kid: string): void {
    const key = this.unpublished.find((k) => k.kid === kid);
    if (!key) throw new Error(`no prepared key ${kid}`);
    this.published.push(key);
    this.unpublished = this.unpublished.filter((k) => k !== key);
  }

  /** The published public key as PEM: what an HS256 forger would use as the HMAC secret. */
  async publicKeyPem(): Promise<string> {
    const key = this.published[0];
    if (!key) throw new Error('no key');
    return exportSPKI(key.pair.publicKey);
  }

  async mint(subject: string, options: MintOptions = {}): Promise<string> {
    const key = [...this.published, ...this.unpublished].find((k) =>
      options.kid ? k.kid === options.kid : true,
    );
    if (!key) throw new Error('no key');
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      iss: this.base,
      aud: this.clientId,
      sub: subject,
      iat: now + (options.iatOffsetSec ?? 0),
      exp: now + (options.expOffsetSec ?? 300),
      email: `${subject}@example.org`,
      email_verified: true,
      ...options.claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.pair.privateKey);
  }

  /** Signs `signInSubject` in without asking and sends the browser back with a code. */
  private authorize(url: URL, response: ServerResponse): void {
    const redirectUri = url.searchParams.get('redirect_uri');
    const challenge = url.searchParams.get('code_challenge');
    if (
      url.searchParams.get('client_id') !== this.clientId ||
      url.searchParams.get('response_type') !== 'code' ||
      url.searchParams.get('code_challenge_method') !== 'S256' ||
      !redirectUri ||
      !challenge ||
      !(url.searchParams.get('scope') ?? '').split(' ').includes('openid')
    ) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('bad authorization request');
      return;
    }
    const code = randomUUID();
    this.codes.set(code, {
      subject: this.signInSubject,
      nonce: url.searchParams.get('nonce'),
      redirectUri,
      codeChallenge: challenge,
    });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', url.searchParams.get('state') ?? '');
    response.writeHead(302, { location: back.toString() }).end();
  }

  /** RFC 6749 token endpoint: authorization_code (with the PKCE check) and refresh_token grants. */
  private async token(form: URLSearchParams): Promise<{ status: number; json: unknown }> {
    const refuse = (error: string) => ({ status: 400, json: { error } });
    if (form.get('client_id') !== this.clientId) return { status: 401, json: { error: 'invalid_client' } };
    if (this.requiredClientSecret && form.get('client_secret') !== this.requiredClientSecret) {
      return { status: 401, json: { error: 'invalid_client' } };
    }
    let subject: string | undefined;
    let nonce: string | null = null;
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const pending = this.codes.get(form.get('code') ?? '');
      if (!pending) return refuse('invalid_grant');
      this.codes.delete(form.get('code') ?? '');
      const challenge = createHash('sha256')
        .update(form.get('code_verifier') ?? '')
        .digest('base64url');
      if (challenge !== pending.codeChallenge || form.get('redirect_uri') !== pending.redirectUri) {
        return refuse('invalid_grant');
      }
      subject = pending.subject;
      nonce = pending.nonce;
      this.grants.authorization_code += 1;
    } else if (grant === 'refresh_token') {
      subject = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!subject) return refuse('invalid_grant');
      this.refreshTokens.delete(form.get('refresh_token') ?? '');
      this.grants.refresh_token += 1;
    } else {
      return refuse('unsupported_grant_type');
    }
    const refreshToken = randomUUID();
    this.refreshTokens.set(refreshToken, subject);
    const idToken = await this.mint(subject, {
      expOffsetSec: this.tokenLifetimeSec,
      ...(nonce ? { claims: { nonce } } : {}),
    });
    return {
      status: 200,
      json: {
        id_token: idToken,
        access_token: randomUUID(),
        token_type: 'Bearer',
        expires_in: this.tokenLifetimeSec,
        refresh_token: refreshToken,
      },
    };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async makeKey(alg: 'RS256' | 'ES256'): Promise<Key> {
    const pair = await generateKeyPair(alg, { extractable: true });
    const kid = randomUUID();
    const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
    return { kid, alg, pair, jwk };
  }
}

/** `alg: none`: header and payload only, an empty signature. */
export function unsecuredToken(payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}
