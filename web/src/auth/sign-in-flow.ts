import type { ApiClient } from '../api/api-client.js';
import type { AuthConfigView, TokenSet } from '../api/contract.js';
import { authorizeUrl, createPkcePair, randomUrlSafe } from './pkce.js';

/**
 * What must survive the round trip to the identity provider: the PKCE verifier, state and nonce
 * (never a token). sessionStorage is per tab and gone when the tab closes.
 */
const PENDING_KEY = 'doc-transcribe.sign-in';

interface PendingSignIn {
  verifier: string;
  state: string;
  nonce: string;
  redirectUri: string;
}

export interface BrowserPlace {
  location: Pick<Location, 'href' | 'origin' | 'pathname' | 'search' | 'assign'>;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Takes the code out of the address bar once used. */
  replaceUrl(url: string): void;
}

export class SignInError extends Error {
  constructor(readonly reason: string) {
    super(`sign-in failed: ${reason}`);
    this.name = 'SignInError';
  }
}

/** The page's own address, without query: where the provider sends people back. */
function redirectUriOf(place: BrowserPlace): string {
  return `${place.location.origin}${place.location.pathname}`;
}

/** Sends the browser to the identity provider (authorization code with PKCE). */
export async function beginSignIn(config: AuthConfigView, place: BrowserPlace): Promise<void> {
  if (!config.authorization_endpoint || !config.client_id) {
    throw new SignInError('the identity provider publishes no authorization endpoint');
  }
  if (typeof crypto.subtle === 'undefined') throw new SignInError('insecure-context');
  const { verifier, challenge } = await createPkcePair();
  const pending: PendingSignIn = {
    verifier,
    state: randomUrlSafe(16),
    nonce: randomUrlSafe(16),
    redirectUri: redirectUriOf(place),
  };
  place.storage.setItem(PENDING_KEY, JSON.stringify(pending));
  place.location.assign(
    authorizeUrl({
      authorizationEndpoint: config.authorization_endpoint,
      clientId: config.client_id,
      scopes: config.scopes,
      redirectUri: pending.redirectUri,
      state: pending.state,
      nonce: pending.nonce,
      challenge,
    }),
  );
}

function nonceOf(idToken: string): string | null {
  try {
    const payload = idToken.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const nonce = (JSON.parse(json) as { nonce?: unknown }).nonce;
    return typeof nonce === 'string' ? nonce : null;
  } catch {
    return null;
  }
}

/**
 * On the way back from the provider: trades the code for tokens through the API. Null when the
 * address carries no sign-in answer.
 */
export async function completeSignIn(api: ApiClient, place: BrowserPlace): Promise<TokenSet | null> {
  const params = new URLSearchParams(place.location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return null;
  const raw = place.storage.getItem(PENDING_KEY);
  place.storage.removeItem(PENDING_KEY);
  place.replaceUrl(redirectUriOf(place));
  if (error) throw new SignInError(params.get('error_description') ?? error);
  const pending = raw ? (JSON.parse(raw) as PendingSignIn) : null;
  // A code this tab did not ask for (or asked for in another tab) is not used: login CSRF.
  if (!pending || params.get('state') !== pending.state) throw new SignInError('state-mismatch');
  const tokens = await api.exchangeToken({
    grant_type: 'authorization_code',
    code: code ?? '',
    code_verifier: pending.verifier,
    redirect_uri: pending.redirectUri,
  });
  const nonce = nonceOf(tokens.id_token);
  if (nonce !== null && nonce !== pending.nonce) throw new SignInError('nonce-mismatch');
  return tokens;
}
