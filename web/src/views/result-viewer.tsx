import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../api/api-client.js';
import { type ApiFailure, failureOf } from '../api/api-failure.js';
import type { WebJob } from '../api/contract.js';
import { copyText } from '../browser/copy-text.js';
import { useI18n } from '../i18n/i18n-context.js';
import { FailureNotice } from './failure-notice.js';

type Loaded = { kind: 'loading' } | { kind: 'text'; text: string } | { kind: 'failed'; failure: ApiFailure };

/** The txt result read in the page, with a copy button. */
export function ResultViewer({ api, job, onClose }: { api: ApiClient; job: WebJob | null; onClose(): void }) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'loading' });
  const [copied, setCopied] = useState<boolean | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (job && !dialog.open) dialog.showModal();
    if (!job && dialog.open) dialog.close();
    if (!job) return;
    let current = true;
    setLoaded({ kind: 'loading' });
    setCopied(null);
    api.resultText(job.job_id, 'txt').then(
      (text) => current && setLoaded({ kind: 'text', text }),
      (error: unknown) => current && setLoaded({ kind: 'failed', failure: failureOf(error) }),
    );
    return () => {
      current = false;
    };
  }, [api, job]);

  return (
    <dialog ref={ref} className="dialog viewer" aria-labelledby="viewer-title" onClose={onClose}>
      {job ? (
        <>
          <div className="viewer-head">
            <h2 id="viewer-title">{t('viewer.title', { name: job.input_filename })}</h2>
            <div className="viewer-actions">
              <button
                type="button"
                disabled={loaded.kind !== 'text'}
                onClick={() => {
                  if (loaded.kind === 'text') void copyText(loaded.text).then(setCopied);
                }}
              >
                {t('viewer.copy')}
              </button>
              <button type="button" onClick={onClose}>
                {t('viewer.close')}
              </button>
            </div>
          </div>
          <p className="viewer-status" role="status">
            {copied === true ? t('viewer.copied') : copied === false ? t('viewer.copyFailed') : ''}
          </p>
          {loaded.kind === 'loading' ? <p>{t('viewer.loading')}</p> : null}
          {loaded.kind === 'failed' ? <FailureNotice failure={loaded.failure} /> : null}
          {loaded.kind === 'text' ? (
            // biome-ignore lint/a11y/noNoninteractiveTabindex: the text must be reachable and scrollable by keyboard
            <pre className="viewer-text" tabIndex={0} data-testid="result-text">
              {loaded.text}
            </pre>
          ) : null}
        </>
      ) : null}
    </dialog>
  );
}
