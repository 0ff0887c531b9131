import type { MouseEvent } from 'react';
import type { ApiClient } from '../api/api-client.js';
import { isTerminal, OUTPUT_FORMATS, type WebJob } from '../api/contract.js';
import { saveBlob } from '../browser/save-blob.js';
import { describeStage } from '../format/describe-stage.js';
import { estimateEtaSec } from '../format/estimate-eta.js';
import { jobFailure } from '../format/failure-message.js';
import { formatBytes, formatDuration, formatInteger, formatPercent } from '../format/format-numbers.js';
import { useI18n } from '../i18n/i18n-context.js';
import { FailureNotice } from './failure-notice.js';
import { ProgressBar } from './progress-bar.js';
import { QualityBadge } from './quality-badge.js';
import { TimeLabel } from './time-label.js';
import { useNow } from './use-now.js';

export interface JobActions {
  cancel(job: WebJob): void;
  retry(job: WebJob): void;
  /** Opens the choice of other options before retrying. */
  retryWithOptions?(job: WebJob): void;
  remove(job: WebJob): void;
  read(job: WebJob): void;
  dismiss?(job: WebJob): void;
  /** A download refused or broken off (downloads made with the session's token). */
  failed?(error: unknown): void;
}

function StageText({ job }: { job: WebJob }) {
  const { t } = useI18n();
  const words = describeStage(job.stage);
  return <span className="stage">{'raw' in words ? words.raw : t(words.key, words.params)}</span>;
}

/** Facts about the input and the run: size, pages or length, time taken. */
function JobFacts({ job }: { job: WebJob }) {
  const { t, locale } = useI18n();
  const facts = [formatBytes(job.input_size_bytes, locale)];
  if (job.page_count) facts.push(t('job.pages', { count: formatInteger(job.page_count, locale) }));
  if (job.media_duration_sec)
    facts.push(t('job.length', { duration: formatDuration(job.media_duration_sec, locale) }));
  if (job.processing_duration_sec && isTerminal(job.status)) {
    facts.push(t('job.tookTime', { duration: formatDuration(job.processing_duration_sec, locale) }));
  }
  return <span className="facts">{facts.join(' · ')}</span>;
}

/** What the service noted about a job that went on (a name not matching the content, a high price). */
function JobWarnings({ job }: { job: WebJob }) {
  const { t } = useI18n();
  if (!job.warnings?.length) return null;
  return (
    <ul className="job-warnings" aria-label={t('job.warnings')}>
      {job.warnings.map((warning) => (
        <li key={warning.code} data-warning={warning.code} title={warning.message}>
          {t(`warning.${warning.code}`)}
        </li>
      ))}
    </ul>
  );
}

/**
 * Links carry no Authorization header: when signed in with a token, a click fetches the file
 * with it and hands it to the browser instead.
 */
function downloadWithToken(api: ApiClient, fallbackName: string, onFailure?: (error: unknown) => void) {
  return (event: MouseEvent<HTMLAnchorElement>) => {
    if (!api.authorization()) return;
    event.preventDefault();
    const url = event.currentTarget.href;
    api.download(url).then(
      ({ blob, filename }) => saveBlob(blob, filename ?? fallbackName),
      (error: unknown) => onFailure?.(error),
    );
  };
}

/** Downloads in every produced format, and the original upload. */
export function DownloadLinks({
  api,
  job,
  onFailure,
}: {
  api: ApiClient;
  job: WebJob;
  onFailure?: ((error: unknown) => void) | undefined;
}) {
  const { t } = useI18n();
  const formats = OUTPUT_FORMATS.filter((format) => job.outputs[format] !== undefined);
  const stem = job.input_filename.replace(/\.[^.]+$/, '');
  return (
    <span className="downloads">
      {formats.map((format) => (
        <a
          key={format}
          className="button-link"
          href={api.resultUrl(job.job_id, format)}
          download
          onClick={downloadWithToken(api, `${stem}.${format}`, onFailure)}
          aria-label={t('action.downloadAs', { name: job.input_filename, format: format.toUpperCase() })}
        >
          {format.toUpperCase()}
        </a>
      ))}
      <a
        className="button-link secondary"
        href={api.inputUrl(job.job_id)}
        download
        onClick={downloadWithToken(api, job.input_filename, onFailure)}
        aria-label={t('action.originalOf', { name: job.input_filename })}
      >
        {t('action.original')}
      </a>
    </span>
  );
}

export function JobActionButtons({
  api,
  job,
  actions,
}: {
  api: ApiClient;
  job: WebJob;
  actions: JobActions;
}) {
  const { t } = useI18n();
  const name = job.input_filename;
  return (
    // biome-ignore lint/a11y/useSemanticElements: a group of buttons, not a form fieldset
    <div className="actions" role="group" aria-label={t('action.actionsFor', { name })}>
      {job.status === 'COMPLETED' && job.outputs.txt !== undefined ? (
        <button type="button" onClick={() => actions.read(job)}>
          {t('action.read')}
        </button>
      ) : null}
      {job.status === 'COMPLETED' ? <DownloadLinks api={api} job={job} onFailure={actions.failed} /> : null}
      {!isTerminal(job.status) && !job.cancel_requested ? (
        <button type="button" onClick={() => actions.cancel(job)}>
          {t('action.cancel')}
        </button>
      ) : null}
      {job.status === 'FAILED' || job.status === 'CANCELLED' ? (
        <button type="button" onClick={() => actions.retry(job)}>
          {t('action.retry')}
        </button>
      ) : null}
      {(job.status === 'FAILED' || job.status === 'CANCELLED') && actions.retryWithOptions ? (
        <button type="button" className="secondary" onClick={() => actions.retryWithOptions?.(job)}>
          {t('action.retryWithOptions')}
        </button>
      ) : null}
      {isTerminal(job.status) ? (
        <button type="button" className="secondary" onClick={() => actions.remove(job)}>
          {t('action.delete')}
        </button>
      ) : null}
      {actions.dismiss && isTerminal(job.status) ? (
        <button
          type="button"
          className="secondary"
          onClick={() => actions.dismiss?.(job)}
          aria-label={t('action.dismissOf', { name })}
        >
          {t('action.dismiss')}
        </button>
      ) : null}
    </div>
  );
}

/** One job, side by side with others under "now": stage in words, progress, ETA, queue position. */
export function JobCard({ api, job, actions }: { api: ApiClient; job: WebJob; actions: JobActions }) {
  const { t, locale } = useI18n();
  const now = useNow(5_000);
  const eta = estimateEtaSec(job, now);
  const failure = job.status === 'FAILED' ? jobFailure(job) : null;
  return (
    <article
      className={`job-card status-${job.status.toLowerCase()}`}
      data-job-id={job.job_id}
      data-status={job.status}
    >
      <header className="job-head">
        <h3 className="job-name" title={job.input_filename}>
          {job.input_filename}
        </h3>
        <span className="badge type">{t(`jobType.${job.job_type}`)}</span>
        <span className={`badge status status-${job.status.toLowerCase()}`} data-testid="job-status">
          {t(`status.${job.status}`)}
        </span>
        <QualityBadge job={job} />
      </header>
      <p className="job-line">
        <StageText job={job} />
        {job.status === 'QUEUED' && typeof job.queue_position === 'number' ? (
          <span className="queue">
            {job.queue_position <= 1
              ? t('job.queueNext')
              : t('job.queuePosition', { position: formatInteger(job.queue_position, locale) })}
          </span>
        ) : null}
        {eta !== null ? (
          <span className="eta">{t('job.eta', { duration: formatDuration(eta, locale) })}</span>
        ) : null}
      </p>
      {job.status === 'QUEUED' || job.status === 'PROCESSING' || job.status === 'COMPLETED' ? (
        <ProgressBar
          value={job.progress}
          label={t('job.progress', { name: job.input_filename })}
          valueText={formatPercent(job.progress / 100, locale)}
        />
      ) : null}
      <p className="job-meta">
        <JobFacts job={job} />
        <TimeLabel
          iso={job.finished_at ?? job.created_at}
          labelKey={job.finished_at ? 'job.finished' : 'job.submitted'}
        />
      </p>
      <JobWarnings job={job} />
      {failure ? <FailureNotice failure={failure} role="none" /> : null}
      <JobActionButtons api={api} job={job} actions={actions} />
    </article>
  );
}
