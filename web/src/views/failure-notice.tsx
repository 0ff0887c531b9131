import type { ReactNode } from 'react';
import type { ApiFailure } from '../api/api-failure.js';
import { describeFailure } from '../format/failure-message.js';
import { useI18n } from '../i18n/i18n-context.js';

/** A failure as people read it: the catalog message, what to do next, and a reference to quote. */
export function FailureNotice({
  failure,
  children,
  role = 'alert',
}: {
  failure: ApiFailure;
  children?: ReactNode;
  role?: 'alert' | 'status' | 'none';
}) {
  const { lang, t } = useI18n();
  const text = describeFailure(failure, lang);
  return (
    <div className={`failure failure-${failure.kind}`} role={role === 'none' ? undefined : role}>
      <p className="failure-message">{text.message}</p>
      <p className="failure-next">{text.next}</p>
      {text.detail ? <p className="failure-detail">{t('job.details', { detail: text.detail })}</p> : null}
      {text.requestId ? (
        <p className="failure-reference">
          {t('error.reference', { id: '' })}
          <code>{text.requestId}</code>
        </p>
      ) : null}
      {children}
    </div>
  );
}
