import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApiClient } from './api/api-client.js';
import { I18nProvider } from './i18n/i18n-context.js';
import './styles.css';
import { App } from './views/app.js';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');

createRoot(root).render(
  <StrictMode>
    <I18nProvider>
      <App api={createApiClient()} />
    </I18nProvider>
  </StrictMode>,
);
