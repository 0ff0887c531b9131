import { useEffect, useId, useState } from 'react';
import type { ApiClient } from '../api/api-client.js';
import {
  type HistoryQuery,
  JOB_STATUSES,
  JOB_TYPES,
  type JobStatus,
  type JobType,
  type WebJob,
} from '../api/contract.js';
import { formatInteger } from '../format/format-numbers.js';
import { useI18n } from '../i18n/i18n-context.js';
import { type HistoryState, IN_PROGRESS_STATUSES } from '../state/jobs-state.js';
import { FailureNotice } from './failure-notice.js';
import { JobActionButtons, type JobActions } from './job-card.js';
import { QualityBadge } from './quality-badge.js';
import { TimeLabel } from './time-label.js';

type StatusFilter = 'any' | 'in-progress' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
const STATUS_FILTERS: readonly StatusFilter[] = ['any', 'in-progress', 'COMPLETED', 'FAILED', 'CANCELLED'];

function statusesOf(filter: StatusFilter): JobStatus[] {
  if (filter === 'any') return [];
  if (filter === 'in-progress') return [...IN_PROGRESS_STATUSES];
  return [filter];
}

function filterOf(statuses: readonly JobStatus[]): StatusFilter {
  if (statuses.length === 0) return 'any';
  if (statuses.length === 1 && statuses[0] !== 'QUEUED' && statuses[0] !== 'PROCESSING')
    return statuses[0] as StatusFilter;
  return 'in-progress';
}

export interface HistoryPanelProps {
  api: ApiClient;
  history: HistoryState;
  jobs: Record<string, WebJob>;
  actions: JobActions;
  onQuery(query: HistoryQuery): void;
  onLoadMore(): void;
  onReload(): void;
}

/** Past and current jobs: type tabs, status filter, file name search, counts, "load more". */
export function HistoryPanel({
  api,
  history,
  jobs,
  actions,
  onQuery,
  onLoadMore,
  onReload,
}: HistoryPanelProps) {
  const { t, locale } = useI18n();
  const { query, counts } = history;
  const [search, setSearch] = useState(query.search);
  const searchId = useId();
  const statusId = useId();

  // Search as the person types, once they pause.
  useEffect(() => {
    if (search === query.search) return;
    const handle = setTimeout(() => onQuery({ ...query, search }), 300);
    return () => clearTimeout(handle);
  }, [search, query, onQuery]);

  const typeTabs: Array<JobType | null> = [null, ...JOB_TYPES];
  const allCount = counts ? JOB_TYPES.reduce((sum, type) => sum + (counts.by_type[type] ?? 0), 0) : null;
  const statusCount = (filter: StatusFilter): number | null => {
    if (!counts) return null;
    const statuses: readonly JobStatus[] = filter === 'any' ? JOB_STATUSES : statusesOf(filter);
    return statuses.reduce((sum, status) => sum + (counts.by_status[status] ?? 0), 0);
  };
  const withCount = (label: string, count: number | null) =>
    count === null ? label : `${label} (${formatInteger(count, locale)})`;
  const items = history.ids.map((id) => jobs[id]).filter((job): job is WebJob => job !== undefined);

  return (
    <section className="panel history" aria-labelledby="history-heading">
      <h2 id="history-heading">{t('history.heading')}</h2>
      <div className="tabs" role="tablist" aria-label={t('history.tabs')}>
        {typeTabs.map((type) => {
          const selected = query.jobType === type;
          return (
            <button
              key={type ?? 'all'}
              type="button"
              role="tab"
              aria-selected={selected}
              aria-controls="history-list"
              tabIndex={selected ? 0 : -1}
              onClick={() => onQuery({ ...query, jobType: type })}
              onKeyDown={(event) => {
                if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
                const step = event.key === 'ArrowRight' ? 1 : -1;
                const next =
                  typeTabs[(typeTabs.indexOf(type) + step + typeTabs.length) % typeTabs.length] ?? null;
                onQuery({ ...query, jobType: next });
                const tabs =
                  event.currentTarget.parentElement?.querySelectorAll<HTMLButtonElement>('[role="tab"]');
                tabs?.[typeTabs.indexOf(next)]?.focus();
              }}
            >
              {withCount(
                type ? t(`history.tab.${type}`) : t('history.tab.all'),
                type ? (counts?.by_type[type] ?? null) : allCount,
              )}
            </button>
          );
        })}
      </div>
      <div className="filters">
        <span className="field">
          <label htmlFor={statusId}>{t('history.statusFilter')}</label>
          <select
            id={statusId}
            value={filterOf(query.statuses)}
            onChange={(event) =>
              onQuery({ ...query, statuses: statusesOf(event.target.value as StatusFilter) })
            }
          >
            {STATUS_FILTERS.map((filter) => (
              <option key={filter} value={filter}>
                {withCount(
                  filter === 'any'
                    ? t('history.filter.any')
                    : filter === 'in-progress'
                      ? t('history.filter.inProgress')
                      : t(`status.${filter}`),
                  statusCount(filter),
                )}
              </option>
            ))}
          </select>
        </span>
        <span className="field grow">
          <label htmlFor={searchId}>{t('history.search')}</label>
          <input
            id={searchId}
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
        </span>
      </div>
      <div id="history-list" role="tabpanel" aria-busy={history.loading}>
        {history.total !== null ? (
          <p className="history-count" data-testid="history-count">
            {t('history.shown', {
              shown: formatInteger(items.length, locale),
              total: formatInteger(history.total, locale),
            })}
          </p>
        ) : null}
        {items.length === 0 && !history.loading && history.total !== null ? (
          <p>{t('history.empty')}</p>
        ) : null}
        <ul className="history-list" aria-label={t('history.table')}>
          {items.map((job) => (
            <li key={job.job_id} className="history-row" data-job-id={job.job_id} data-status={job.status}>
              <span className="history-file">
                <span className="job-name">{job.input_filename}</span>
                <span className="badge type">{t(`jobType.${job.job_type}`)}</span>
              </span>
              <span className={`badge status status-${job.status.toLowerCase()}`} data-testid="job-status">
                {t(`status.${job.status}`)}
              </span>
              <QualityBadge job={job} />
              <TimeLabel iso={job.created_at} labelKey="job.submitted" />
              <JobActionButtons api={api} job={job} actions={actions} />
            </li>
          ))}
        </ul>
        {history.loading ? <p role="status">{t('history.loading')}</p> : null}
        {history.failure ? (
          <FailureNotice failure={history.failure}>
            <button type="button" onClick={onReload}>
              {t('upload.tryAgain')}
            </button>
          </FailureNotice>
        ) : null}
        {history.nextCursor && !history.loading ? (
          <button type="button" className="load-more" onClick={onLoadMore}>
            {t('history.loadMore')}
          </button>
        ) : null}
      </div>
    </section>
  );
}
