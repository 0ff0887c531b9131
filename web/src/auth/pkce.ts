/** RFC 7636 proof key: a random verifier and its S256 challenge. */
export interface PkcePair {
  verifier: string;
  challenge: string;
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A random URL-safe string of `bytes` random bytes (43 characters for 32). */
export function randomUrlSafe(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Needs a secure context (https, or http on localhost/127.0.0.1) for crypto.subtle. */
export async function createPkcePair(): Promise<PkcePair> {
  const verifier = randomUrlSafe(32);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url(new Uint8Array(digest)) };
}

export interface AuthorizeRequest {
  authorizationEndpoint: string;
  clientId: string;
  scopes: readonly string[];
  redirectUri: string;
  state: string;
  nonce: string;
  challenge: string;
}

/** Where the browser goes to sign in: authorization code flow with PKCE. */
export function authorizeUrl(request: AuthorizeRequest): string {
  const url = new URL(request.authorizationEndpoint);
  url.searchParams.set('client_id', request.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', request.scopes.join(' '));
  url.searchParams.set('redirect_uri', request.redirectUri);
  url.searchParams.set('state', request.state);
  url.searchParams.set('nonce', request.nonce);
  url.searchParams.set('code_challenge', request.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  // Google issues a refresh token only when asked this way; other providers ignore the parameter.
  url.searchParams.set('access_type', 'offline');
  return url.toString();
}
