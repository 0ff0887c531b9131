import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
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

/**
 * A real OpenID Connect issuer on loopback for tests: discovery document, JWKS, and tokens signed
 * with key pairs made here. Counts JWKS fetches so key rotation can be observed.
 */
export class OidcLoopbackIssuer {
  readonly clientId = 'doc-transcribe-test';
  jwksFetches = 0;
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
      if (request.url === '/.well-known/openid-configuration') {
        send({ issuer: this.base, jwks_uri: this.jwksUrl, id_token_signing_alg_values_supported: ['RS256'] });
      } else if (request.url === '/jwks') {
        this.jwksFetches += 1;
        send({ keys: this.published.map((key) => key.jwk) });
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
