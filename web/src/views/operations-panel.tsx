import { type ReactNode, useCallback, useEffect, useState } from 'react';
import type { ApiClient } from '../api/api-client.js';
import { type ApiFailure, failureOf } from '../api/api-failure.js';
import { type AdminJob, type AdminOverview, type DeadLetter, JOB_STATUSES } from '../api/contract.js';
import { formatDuration, formatInteger, formatPercent } from '../format/format-numbers.js';
import { formatAbsoluteTime } from '../format/format-time.js';
import { useI18n } from '../i18n/i18n-context.js';
import { FailureNotice } from './failure-notice.js';

/** How often the view reads the overview again while it is shown. */
export const OPERATIONS_REFRESH_MS = 10_000;

/** Completed and failed jobs of one queue over the overview's window (the last hour). */
function hourTotals(overview: AdminOverview, queue: string): { completed: number; failed: number } {
  let completed = 0;
  let failed = 0;
  for (const minute of overview.throughput) {
    if (minute.queue !== queue) continue;
    completed += minute.completed;
    failed += minute.failed;
  }
  return { completed, failed };
}

/** A table named by the section heading `labelledBy`, with one column header per `columns` entry. */
function OpsTable({
  labelledBy,
  testId,
  columns,
  children,
}: {
  labelledBy: string;
  testId: string;
  columns: readonly string[];
  children: ReactNode;
}) {
  return (
    <div className="table-scroll">
      <table aria-labelledby={labelledBy} data-testid={testId}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** Every user's jobs, newest first, of one status or all, a page at a time (`GET /v1/admin/jobs`). */
function AllJobs({ api }: { api: ApiClient }) {
  const { t, locale } = useI18n();
  const [status, setStatus] = useState('');
  const [jobs, setJobs] = useState<AdminJob[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  // The first page when the view opens and again whenever the filter changes; not on the timer,
  // which would drop the older pages someone is reading.
  useEffect(() => {
    let current = true;
    api.adminJobs({ status: status || null }).then(
      (page) => {
        if (!current) return;
        setJobs(page.items);
        setTotal(page.total);
        setNext(page.next_cursor);
        setFailure(null);
      },
      (error: unknown) => {
        if (current) setFailure(failureOf(error));
      },
    );
    return () => {
      current = false;
    };
  }, [api, status]);

  const older = async () => {
    if (!next) return;
    try {
      const page = await api.adminJobs({ status: status || null, cursor: next });
      setJobs((shown) => [...shown, ...page.items]);
      setNext(page.next_cursor);
    } catch (error) {
      setFailure(failureOf(error));
    }
  };

  return (
    <>
      <h3 id="ops-all-jobs">{t('ops.allJobs')}</h3>
      <p className="ops-filter">
        <label htmlFor="ops-jobs-status">{t('ops.statusFilter')}</label>{' '}
        <select
          id="ops-jobs-status"
          data-testid="ops-jobs-status"
          value={status}
          onChange={(event) => setStatus(event.target.value)}
        >
          <option value="">{t('ops.allStatuses')}</option>
          {JOB_STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`status.${s}`)}
            </option>
          ))}
        </select>{' '}
        {total === null ? null : (
          <span className="muted" data-testid="ops-jobs-total">
            {t('ops.jobsTotal', { count: formatInteger(total, locale) })}
          </span>
        )}
      </p>
      {failure ? <FailureNotice failure={failure} /> : null}
      {jobs.length === 0 ? (
        <p className="empty" data-testid="ops-no-jobs">
          {t('ops.noJobs')}
        </p>
      ) : (
        <OpsTable
          labelledBy="ops-all-jobs"
          testId="ops-all-jobs"
          columns={[t('ops.file'), t('ops.owner'), t('ops.type'), t('ops.status'), t('ops.submitted')]}
        >
          {jobs.map((job) => (
            <tr key={job.job_id} data-job={job.job_id} data-status={job.status}>
              <th scope="row">{job.input_filename}</th>
              <td data-col="owner">
                <code>{job.owner_id}</code>
              </td>
              <td>{t(`jobType.${job.job_type}`)}</td>
              <td data-col="status">{t(`status.${job.status}`)}</td>
              <td>{formatAbsoluteTime(job.created_at, locale)}</td>
            </tr>
          ))}
        </OpsTable>
      )}
      {next ? (
        <button type="button" className="small" data-testid="ops-older-jobs" onClick={() => void older()}>
          {t('ops.olderJobs')}
        </button>
      ) : null}
    </>
  );
}

/** Admin only: queue depths, the last hour's throughput and failures, workers, dependencies, all jobs, dead letters. */
export function OperationsPanel({ api }: { api: ApiClient }) {
  const { t, locale } = useI18n();
  const [overview, setOverview] = useState<AdminOverview | null>(null);
  const [letters, setLetters] = useState<DeadLetter[]>([]);
  const [refreshFailed, setRefreshFailed] = useState(false);
  const [actionFailure, setActionFailure] = useState<ApiFailure | null>(null);
  const [replaying, setReplaying] = useState<ReadonlySet<string>>(new Set());

  const refresh = useCallback(async () => {
    try {
      const [nextOverview, nextLetters] = await Promise.all([api.adminOverview(), api.deadLetters()]);
      setOverview(nextOverview);
      setLetters(nextLetters.items);
      setRefreshFailed(false);
    } catch {
      setRefreshFailed(true);
    }
  }, [api]);

  useEffect(() => {
    void refresh();
    // Only while the tab is shown; back from a hidden tab, fresh figures at once.
    const onVisible = () => {
      if (document.visibilityState === 'visible') void refresh();
    };
    const timer = setInterval(onVisible, OPERATIONS_REFRESH_MS);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [refresh]);

  const replay = async (letter: DeadLetter) => {
    setActionFailure(null);
    setReplaying((ids) => new Set(ids).add(letter.job_id));
    try {
      await api.replayDeadLetter(letter.job_id);
      setLetters((shown) => shown.filter((item) => item.job_id !== letter.job_id));
      void refresh();
    } catch (error) {
      setActionFailure(failureOf(error));
    } finally {
      setReplaying((ids) => {
        const next = new Set(ids);
        next.delete(letter.job_id);
        return next;
      });
    }
  };

  const integer = (value: number) => formatInteger(value, locale);

  return (
    <section className="panel operations" aria-labelledby="ops-heading" data-testid="operations">
      <h2 id="ops-heading">{t('ops.heading')}</h2>
      <p className="ops-updated" data-testid="ops-updated">
        {overview
          ? t('ops.updated', { time: formatAbsoluteTime(overview.generated_at, locale) })
          : t('app.loading')}
      </p>
      <div aria-live="polite" data-testid="ops-refresh-status">
        {refreshFailed ? (
          <p className="notice" role="alert">
            {t('ops.refreshFailed')}
          </p>
        ) : null}
      </div>
      {actionFailure ? <FailureNotice failure={actionFailure} /> : null}
      {overview ? (
        <>
          <h3 id="ops-queues">{t('ops.queues')}</h3>
          <OpsTable
            labelledBy="ops-queues"
            testId="ops-queues"
            columns={[
              t('ops.queue'),
              t('ops.waiting'),
              t('ops.active'),
              t('ops.delayed'),
              t('ops.failed'),
              t('ops.oldestWaiting'),
              t('ops.completedHour'),
              t('ops.failedHour'),
              t('ops.failureRate'),
            ]}
          >
            {overview.queues.map((queue) => {
              const hour = hourTotals(overview, queue.name);
              const ended = hour.completed + hour.failed;
              return (
                <tr key={queue.name} data-queue={queue.name}>
                  <th scope="row">{queue.name}</th>
                  <td data-col="waiting">{integer(queue.waiting)}</td>
                  <td data-col="active">{integer(queue.active)}</td>
                  <td data-col="delayed">{integer(queue.delayed)}</td>
                  <td data-col="failed">{integer(queue.failed)}</td>
                  <td data-col="oldest">
                    {queue.oldest_waiting_age_sec === null
                      ? t('ops.none')
                      : formatDuration(queue.oldest_waiting_age_sec, locale)}
                  </td>
                  <td data-col="completed-hour">{integer(hour.completed)}</td>
                  <td data-col="failed-hour">{integer(hour.failed)}</td>
                  <td data-col="failure-rate">
                    {ended === 0 ? t('ops.none') : formatPercent(hour.failed / ended, locale)}
                  </td>
                </tr>
              );
            })}
          </OpsTable>

          <h3 id="ops-failures">{t('ops.failuresByCode')}</h3>
          {overview.failures_by_code.length === 0 ? (
            <p className="empty">{t('ops.noFailures')}</p>
          ) : (
            <OpsTable
              labelledBy="ops-failures"
              testId="ops-failures"
              columns={[t('ops.errorCode'), t('ops.count')]}
            >
              {overview.failures_by_code.map((row, _, rows) => {
                const most = Math.max(...rows.map((r) => r.count));
                return (
                  <tr key={row.error_code} data-code={row.error_code}>
                    <th scope="row">
                      <code>{row.error_code}</code>
                    </th>
                    <td data-col="count">
                      <span
                        className="ops-bar"
                        aria-hidden="true"
                        style={{ width: `${(row.count / most) * 8}em` }}
                      />{' '}
                      {integer(row.count)}
                    </td>
                  </tr>
                );
              })}
            </OpsTable>
          )}

          <h3 id="ops-workers">{t('ops.workers')}</h3>
          {overview.workers.length === 0 ? (
            <p className="empty">{t('ops.noWorkers')}</p>
          ) : (
            <OpsTable
              labelledBy="ops-workers"
              testId="ops-workers"
              columns={[t('ops.host'), t('ops.concurrency'), t('ops.heartbeat')]}
            >
              {overview.workers.map((worker) => (
                <tr key={worker.worker_id}>
                  <th scope="row">
                    {worker.host} <span className="muted">(pid {worker.pid})</span>
                  </th>
                  <td>
                    {Object.entries(worker.concurrency)
                      .map(([queue, slots]) => `${queue}: ${integer(slots)}`)
                      .join(', ')}
                  </td>
                  <td>{formatAbsoluteTime(worker.last_heartbeat_at, locale)}</td>
                </tr>
              ))}
            </OpsTable>
          )}

          <h3 id="ops-dependencies">{t('ops.dependencies')}</h3>
          <OpsTable
            labelledBy="ops-dependencies"
            testId="ops-dependencies"
            columns={[t('ops.dependency'), t('ops.health')]}
          >
            {Object.entries(overview.dependencies.checks).map(([name, check]) => (
              <tr key={name} data-dependency={name} data-ok={String(check.ok)}>
                <th scope="row">{name}</th>
                <td>{check.ok ? t('ops.ok') : t('ops.down', { error: check.error ?? '' })}</td>
              </tr>
            ))}
          </OpsTable>
        </>
      ) : null}

      <AllJobs api={api} />

      <h3 id="ops-dead-letters">{t('ops.deadLetters')}</h3>
      {letters.length === 0 ? (
        <p className="empty" data-testid="ops-no-dead-letters">
          {t('ops.noDeadLetters')}
        </p>
      ) : (
        <OpsTable
          labelledBy="ops-dead-letters"
          testId="ops-dead-letters"
          columns={[t('ops.file'), t('ops.errorCode'), t('ops.failedAt'), t('ops.attempts'), t('ops.action')]}
        >
          {letters.map((letter) => (
            <tr key={letter.job_id} data-job-id={letter.job_id}>
              <th scope="row">{letter.request.input_filename}</th>
              <td>
                <code>{letter.error_code}</code>
              </td>
              <td>{formatAbsoluteTime(letter.failed_at, locale)}</td>
              <td>{integer(letter.attempts)}</td>
              <td>
                <button
                  type="button"
                  className="small"
                  disabled={replaying.has(letter.job_id)}
                  aria-label={t('ops.replayLabel', { name: letter.request.input_filename })}
                  onClick={() => void replay(letter)}
                >
                  {t('ops.replay')}
                </button>
              </td>
            </tr>
          ))}
        </OpsTable>
      )}
    </section>
  );
}
