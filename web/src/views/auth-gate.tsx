import { useCallback, useEffect, useState } from 'react';
import type { ApiClient } from '../api/api-client.js';
import { type ApiFailure, failureOf } from '../api/api-failure.js';
import type { AuthConfigView, WhoAmI } from '../api/contract.js';
import type { Session, SessionState } from '../auth/session.js';
import { type BrowserPlace, beginSignIn, completeSignIn, SignInError } from '../auth/sign-in-flow.js';
import { useI18n } from '../i18n/i18n-context.js';
import { App } from './app.js';
import { FailureNotice } from './failure-notice.js';

type Gate =
  | { kind: 'loading' }
  | { kind: 'local' }
  | { kind: 'oidc'; config: AuthConfigView }
  | { kind: 'unreachable'; failure: ApiFailure };

function browserPlace(): BrowserPlace {
  return {
    location: window.location,
    storage: window.sessionStorage,
    replaceUrl: (url) => window.history.replaceState(null, '', url),
  };
}

/**
 * Decides what the page shows first: the app at once in local mode; otherwise the sign-in (or its
 * completion on the way back from the provider), then the app with the session's token.
 */
export function AuthGate({ api, session }: { api: ApiClient; session: Session }) {
  const { t } = useI18n();
  const [gate, setGate] = useState<Gate>({ kind: 'loading' });
  const [sessionState, setSessionState] = useState<SessionState>(session.state);
  const [signInProblem, setSignInProblem] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [working, setWorking] = useState(false);

  useEffect(() => session.subscribe(setSessionState), [session]);

  useEffect(() => {
    let stale = false;
    let configured = false;
    const boot = async () => {
      const config = await api.authConfig();
      configured = true;
      if (stale) return;
      if (config.mode === 'local') {
        setGate({ kind: 'local' });
        return;
      }
      setGate({ kind: 'oidc', config });
      setWorking(true);
      try {
        // Kept even if this effect was superseded (React's dev double run): the code is spent.
        const tokens = await completeSignIn(api, browserPlace());
        if (tokens) session.start(tokens);
      } finally {
        if (!stale) setWorking(false);
      }
    };
    boot().catch((error: unknown) => {
      if (stale) return;
      if (error instanceof SignInError) setSignInProblem(error.reason);
      else if (!configured) setGate({ kind: 'unreachable', failure: failureOf(error) });
      else setFailure(failureOf(error));
    });
    return () => {
      stale = true;
    };
    // Runs once per page load: the sign-in answer in the address is used once.
  }, [api, session]);

  const signIn = useCallback(() => {
    if (gate.kind !== 'oidc') return;
    setSignInProblem(null);
    beginSignIn(gate.config, browserPlace()).catch((error: unknown) => {
      setSignInProblem(error instanceof SignInError ? error.reason : String(error));
    });
  }, [gate]);

  if (gate.kind === 'loading') return <p className="boot">{t('app.loading')}</p>;
  if (gate.kind === 'unreachable') {
    return (
      <main id="main" className="sign-in">
        <FailureNotice failure={gate.failure} />
      </main>
    );
  }
  if (gate.kind === 'local') return <App api={api} />;

  const user: WhoAmI | null = sessionState.kind === 'signed-out' ? null : sessionState.user;
  if (!user) {
    const reason =
      signInProblem === 'insecure-context'
        ? t('signIn.insecure')
        : signInProblem === 'state-mismatch' || signInProblem === 'nonce-mismatch'
          ? t('signIn.failed', { reason: t('signIn.stateMismatch') })
          : signInProblem
            ? t('signIn.failed', { reason: signInProblem })
            : null;
    return (
      <main id="main" className="sign-in">
        <section className="panel" aria-labelledby="sign-in-heading">
          <h1 id="sign-in-heading">{t('signIn.heading')}</h1>
          <p>{t('signIn.body')}</p>
          {reason ? (
            <p className="notice" role="alert" data-testid="sign-in-problem">
              {reason}
            </p>
          ) : null}
          {failure ? <FailureNotice failure={failure} /> : null}
          <button type="button" onClick={signIn} disabled={working} data-testid="sign-in">
            {working ? t('signIn.working') : t('signIn.button')}
          </button>
        </section>
      </main>
    );
  }
  return (
    <>
      {sessionState.kind === 'expired' ? (
        <div className="session-banner" role="alert" data-testid="session-expired">
          {t('session.expired')}{' '}
          <button type="button" className="small" onClick={signIn}>
            {t('session.signInAgain')}
          </button>
        </div>
      ) : null}
      <App api={api} user={user} onSignOut={() => session.signOut()} />
    </>
  );
}
