import { ApiError } from '../api/api-failure.js';
import type { TokenSet, WhoAmI } from '../api/contract.js';

export type SessionState =
  | { kind: 'signed-out' }
  | { kind: 'signed-in'; user: WhoAmI; expiresAt: number }
  | { kind: 'expired'; user: WhoAmI };

export interface SessionDeps {
  /** `POST /v1/auth/token` with a refresh token. */
  refresh(refreshToken: string): Promise<TokenSet>;
  now?: () => number;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/** Tries of a renewal that failed on the network, before the session is given up. */
const RENEW_TRIES = 4;
const RENEW_RETRY_MS = [2_000, 5_000, 10_000];

/**
 * When to renew a token that lives `lifetimeMs`: a minute before it expires, or half-way through
 * a short-lived one, so a page left open for a three-hour job never finds itself signed out.
 */
export function renewDelayMs(lifetimeMs: number): number {
  if (lifetimeMs <= 0) return 0;
  return lifetimeMs > 120_000 ? lifetimeMs - 60_000 : lifetimeMs / 2;
}

/**
 * The signed-in person's tokens, in memory only (never localStorage or cookies: a script that
 * reads storage finds nothing), renewed with the refresh token before they expire.
 */
export class Session {
  private idToken: string | null = null;
  private refreshToken: string | null = null;
  private timer: unknown = null;
  private renewing = false;
  private current: SessionState = { kind: 'signed-out' };
  private readonly listeners = new Set<(state: SessionState) => void>();
  private readonly now: () => number;
  private readonly setTimer: (run: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;

  constructor(private readonly deps: SessionDeps) {
    this.now = deps.now ?? Date.now;
    this.setTimer = deps.setTimer ?? ((run, ms) => setTimeout(run, ms));
    this.clearTimer = deps.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  }

  get state(): SessionState {
    return this.current;
  }

  /** The value of the Authorization header, while signed in. */
  authorization(): string | null {
    return this.current.kind === 'signed-in' && this.idToken ? `Bearer ${this.idToken}` : null;
  }

  subscribe(listener: (state: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(tokens: TokenSet): void {
    this.idToken = tokens.id_token;
    this.refreshToken = tokens.refresh_token;
    const expiresAt = Date.parse(tokens.expires_at);
    this.set({ kind: 'signed-in', user: tokens.user, expiresAt });
    this.schedule(expiresAt);
  }

  /** The server refused the token (401): renew now if we can, else the session is over. */
  tokenRefused(): void {
    if (this.current.kind !== 'signed-in' || this.renewing) return;
    if (this.refreshToken) void this.renew(1);
    else this.expire();
  }

  signOut(): void {
    this.cancelTimer();
    this.idToken = null;
    this.refreshToken = null;
    this.set({ kind: 'signed-out' });
  }

  private schedule(expiresAt: number): void {
    this.cancelTimer();
    const left = expiresAt - this.now();
    if (!this.refreshToken) {
      // Without a refresh token the session ends with the token; the page says so then.
      this.timer = this.setTimer(() => this.expire(), Math.max(0, left));
      return;
    }
    this.timer = this.setTimer(() => void this.renew(1), renewDelayMs(left));
  }

  private async renew(attempt: number): Promise<void> {
    const refreshToken = this.refreshToken;
    if (!refreshToken || this.current.kind !== 'signed-in') return;
    this.renewing = true;
    try {
      this.start(await this.deps.refresh(refreshToken));
    } catch (error) {
      const network = error instanceof ApiError && error.failure.kind === 'network';
      const expiresAt = this.current.kind === 'signed-in' ? this.current.expiresAt : 0;
      const wait = RENEW_RETRY_MS[attempt - 1] ?? 0;
      // The network may come back before the token runs out; a refusal will not change.
      if (network && attempt < RENEW_TRIES && this.now() + wait < expiresAt) {
        this.cancelTimer();
        this.timer = this.setTimer(() => void this.renew(attempt + 1), wait);
      } else {
        this.expire();
      }
    } finally {
      this.renewing = false;
    }
  }

  private expire(): void {
    this.cancelTimer();
    this.idToken = null;
    this.refreshToken = null;
    if (this.current.kind === 'signed-in') this.set({ kind: 'expired', user: this.current.user });
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  private set(state: SessionState): void {
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}
