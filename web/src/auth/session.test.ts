import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/api-failure.js';
import type { TokenSet } from '../api/contract.js';
import { renewDelayMs, Session } from './session.js';

const USER = { user_id: 'oidc_1', email: 'a@example.org', roles: ['user' as const], mode: 'oidc' as const };

/** A clock and timers the test moves by hand. */
function fakeTime(start = 1_000_000) {
  let now = start;
  let timers: Array<{ at: number; run: () => void; id: number }> = [];
  let next = 0;
  return {
    now: () => now,
    setTimer: (run: () => void, ms: number) => {
      const id = ++next;
      timers.push({ at: now + ms, run, id });
      return id;
    },
    clearTimer: (id: unknown) => {
      timers = timers.filter((t) => t.id !== id);
    },
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = Math.max(now, due.at);
        due.run();
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      now = end;
    },
  };
}

function tokens(now: number, lifetimeMs: number, refresh: string | null, id = 'id-1'): TokenSet {
  return {
    id_token: id,
    expires_at: new Date(now + lifetimeMs).toISOString(),
    refresh_token: refresh,
    user: USER,
  };
}

describe('session', () => {
  it('renews a minute before expiry, or half-way through a short token', () => {
    expect(renewDelayMs(3_600_000)).toBe(3_540_000);
    expect(renewDelayMs(60_000)).toBe(30_000);
    expect(renewDelayMs(-5)).toBe(0);
  });

  it('keeps the token in memory and renews it with the refresh token before it expires', async () => {
    const time = fakeTime();
    const asked: string[] = [];
    const session = new Session({
      ...time,
      refresh: async (refreshToken) => {
        asked.push(refreshToken);
        return tokens(time.now(), 3_600_000, `r-${asked.length + 1}`, `id-${asked.length + 1}`);
      },
    });
    session.start(tokens(time.now(), 3_600_000, 'r-1'));
    expect(session.authorization()).toBe('Bearer id-1');
    await time.advance(3_539_000);
    expect(asked).toEqual([]);
    await time.advance(2_000);
    expect(asked).toEqual(['r-1']);
    expect(session.authorization()).toBe('Bearer id-2');
    // Three hours later it is still signed in, each renewal with the newest refresh token.
    await time.advance(3 * 3_600_000);
    expect(asked).toEqual(['r-1', 'r-2', 'r-3', 'r-4']);
    expect(session.state.kind).toBe('signed-in');
  });

  it('tries a renewal again while the network is down, and ends the session when refused', async () => {
    const time = fakeTime();
    let calls = 0;
    const session = new Session({
      ...time,
      refresh: async () => {
        calls += 1;
        if (calls === 1) throw new ApiError({ kind: 'network' });
        throw new ApiError({
          kind: 'problem',
          status: 401,
          problem: { error_code: 'AUTH_SIGN_IN_FAILED' },
        } as never);
      },
    });
    const seen: string[] = [];
    session.subscribe((state) => seen.push(state.kind));
    session.start(tokens(time.now(), 600_000, 'r-1'));
    await time.advance(540_000);
    expect(calls).toBe(1);
    expect(session.state.kind).toBe('signed-in');
    await time.advance(2_000);
    expect(calls).toBe(2);
    expect(session.state.kind).toBe('expired');
    expect(session.authorization()).toBeNull();
    expect(seen).toEqual(['signed-in', 'expired']);
  });

  it('without a refresh token, ends when the token expires', async () => {
    const time = fakeTime();
    const session = new Session({ ...time, refresh: async () => tokens(0, 0, null) });
    session.start(tokens(time.now(), 10_000, null));
    await time.advance(9_999);
    expect(session.state.kind).toBe('signed-in');
    await time.advance(1);
    expect(session.state.kind).toBe('expired');
  });

  it('forgets everything on sign-out', () => {
    const session = new Session({ refresh: async () => tokens(0, 0, null) });
    session.start(tokens(Date.now(), 60_000, 'r'));
    session.signOut();
    expect(session.authorization()).toBeNull();
    expect(session.state.kind).toBe('signed-out');
  });
});
