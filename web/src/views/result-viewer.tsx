import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../api/api-client.js';
import { type ApiFailure, failureOf } from '../api/api-failure.js';
import type { WebJob } from '../api/contract.js';
import { copyText } from '../browser/copy-text.js';
import { formatClock } from '../format/format-numbers.js';
import { type ResultView, resultViewOf } from '../format/result-view.js';
import { useI18n } from '../i18n/i18n-context.js';
import { FailureNotice } from './failure-notice.js';
import { useModalDialog } from './use-modal-dialog.js';

type Loaded =
  | { kind: 'loading' }
  | { kind: 'text'; text: string; view: ResultView }
  | { kind: 'failed'; failure: ApiFailure };

/** The JSON result when the job has one, else null; a JSON that cannot be read is no reason to fail. */
async function readJson(api: ApiClient, job: WebJob): Promise<unknown> {
  if (job.outputs.json === undefined) return null;
  try {
    return JSON.parse(await api.resultText(job.job_id, 'json')) as unknown;
  } catch {
    return null;
  }
}

/** The text laid out as the JSON result allows: page by page, or passage by passage with times. */
function LaidOut({ text, view }: { text: string; view: ResultView }) {
  const { t, locale } = useI18n();
  if (view.kind === 'pages') {
    return view.pages.map((page) => (
      <section
        key={page.page}
        className={page.low ? 'viewer-page low' : 'viewer-page'}
        aria-labelledby={`viewer-page-${page.page}`}
        data-testid="viewer-page"
      >
        <h3 id={`viewer-page-${page.page}`}>
          {t('viewer.page', { page: page.page })}
          {page.low ? <span className="badge quality quality-poor">{t('viewer.lowConfidence')}</span> : null}
        </h3>
        <p>{page.text}</p>
      </section>
    ));
  }
  if (view.kind === 'segments') {
    return (
      <ol className="viewer-segments">
        {view.segments.map((segment) => (
          <li
            key={`${segment.start}-${segment.end}`}
            className={segment.low ? 'low' : undefined}
            data-testid="viewer-segment"
          >
            <span className="viewer-time">
              {formatClock(segment.start, locale)}–{formatClock(segment.end, locale)}
            </span>{' '}
            {segment.low ? (
              <span className="badge quality quality-poor">{t('viewer.lowConfidence')}</span>
            ) : null}{' '}
            <span>{segment.text}</span>
          </li>
        ))}
      </ol>
    );
  }
  return text;
}

/**
 * The result read in the page, with a copy button (the txt result): a document page by page with
 * its low-confidence pages marked, a transcript in passages with their times.
 */
export function ResultViewer({ api, job, onClose }: { api: ApiClient; job: WebJob | null; onClose(): void }) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'loading' });
  const [copied, setCopied] = useState<boolean | null>(null);

  useModalDialog(ref, job !== null);
  useEffect(() => {
    if (!job) return;
    let current = true;
    setLoaded({ kind: 'loading' });
    setCopied(null);
    Promise.all([api.resultText(job.job_id, 'txt'), readJson(api, job)]).then(
      ([text, json]) => current && setLoaded({ kind: 'text', text, view: resultViewOf(job, json) }),
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
            <div className="viewer-text" tabIndex={0} data-testid="result-text">
              <LaidOut text={loaded.text} view={loaded.view} />
            </div>
          ) : null}
        </>
      ) : null}
    </dialog>
  );
}
