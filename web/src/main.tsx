import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApiClient } from './api/api-client.js';
import { Session } from './auth/session.js';
import { I18nProvider } from './i18n/i18n-context.js';
import './styles.css';
import { AuthGate } from './views/auth-gate.js';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');

// The session's token is added to every request; a 401 lets the session renew it.
const session: Session = new Session({
  refresh: (refreshToken) => api.exchangeToken({ grant_type: 'refresh_token', refresh_token: refreshToken }),
});
const api = createApiClient({
  authorization: () => session.authorization(),
  onUnauthorized: () => session.tokenRefused(),
});

createRoot(root).render(
  <StrictMode>
    <I18nProvider>
      <AuthGate api={api} session={session} />
    </I18nProvider>
  </StrictMode>,
);
