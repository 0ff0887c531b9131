import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type { ApiClient } from '../api/api-client.js';
import { type ApiFailure, failureOf } from '../api/api-failure.js';
import { type HistoryQuery, isTerminal, type JobStatus, type WebJob, type WhoAmI } from '../api/contract.js';
import { FetchEventSource } from '../api/fetch-event-source.js';
import { JobPoller } from '../api/job-poller.js';
import { LiveJobUpdates, type LiveMode } from '../api/live-job-updates.js';
import { sendFile } from '../api/resumable-upload.js';
import { newIdempotencyKey } from '../api/upload-file.js';
import { askNotificationPermissionOnce, notifyIfHidden } from '../browser/job-notifications.js';
import { measureFile } from '../browser/measure-file.js';
import { readFileHead } from '../browser/read-file-head.js';
import { detectFileKind } from '../format/detect-file-kind.js';
import { useI18n } from '../i18n/i18n-context.js';
import { initialJobsState, jobsReducer } from '../state/jobs-state.js';
import { runUpload } from '../state/run-upload.js';
import {
  DEFAULT_BATCH,
  newUploadItem,
  type OcrEngineChoice,
  precheckRequestOf,
  type SpeechEngineChoice,
  sendableItems,
  type UploadItem,
  uploadReducer,
} from '../state/upload-queue.js';
import { ConfirmDialog, type ConfirmRequest } from './confirm-dialog.js';
import { FailureNotice } from './failure-notice.js';
import { HistoryPanel } from './history-panel.js';
import { type JobActions, JobCard } from './job-card.js';
import { OperationsPanel } from './operations-panel.js';
import { ResultViewer } from './result-viewer.js';
import { RetryDialog } from './retry-dialog.js';
import { DEFAULT_OCR_CHOICES, DEFAULT_SPEECH_CHOICES, UploadPanel } from './upload-panel.js';

/** Uploads at once: enough to keep the line busy without starving the page's other requests. */
const PARALLEL_UPLOADS = 2;
const HISTORY_PAGE_SIZE = 20;
/** The page's two views; only admins get to switch to Operations. */
const VIEWS = ['jobs', 'operations'] as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Lines kept in the live region. Each change is a line of its own, so two jobs changing in the
 * same moment are both read out; a screen reader reads the added line, not the ones before.
 */
const ANNOUNCEMENTS_KEPT = 5;

interface Announcement {
  id: number;
  text: string;
}

interface ShownFailure {
  id: number;
  failure: ApiFailure;
}

/** `user` is null in local single-user mode; `onSignOut` forgets the session's tokens. */
export function App({
  api,
  user = null,
  onSignOut,
}: {
  api: ApiClient;
  user?: WhoAmI | null;
  onSignOut?: () => void;
}) {
  const { t, lang, setLang } = useI18n();
  const [state, dispatch] = useReducer(jobsReducer, undefined, () => initialJobsState());
  const [uploads, dispatchUpload] = useReducer(uploadReducer, { batch: DEFAULT_BATCH, items: [] });
  const [mode, setMode] = useState<LiveMode>('connecting');
  const [announcements, setAnnouncements] = useState<Announcement[]>([]);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [retrying, setRetrying] = useState<WebJob | null>(null);
  const [reading, setReading] = useState<WebJob | null>(null);
  const [failures, setFailures] = useState<ShownFailure[]>([]);
  const [isAdmin, setIsAdmin] = useState(user?.roles.includes('admin') ?? false);
  const [view, setView] = useState<(typeof VIEWS)[number]>('jobs');

  // The Operations view is for admins only; local mode asks the server who the caller is.
  useEffect(() => {
    if (user) {
      setIsAdmin(user.roles.includes('admin'));
      return;
    }
    let stale = false;
    api.me().then(
      (me) => !stale && setIsAdmin(me.roles.includes('admin')),
      () => !stale && setIsAdmin(false),
    );
    return () => {
      stale = true;
    };
  }, [api, user]);
  const shownView = isAdmin ? view : 'jobs';

  // The engines a document or a recording may name: the server's default, then each it offers.
  const [ocrEngines, setOcrEngines] = useState<readonly OcrEngineChoice[]>(DEFAULT_OCR_CHOICES);
  const [speechEngines, setSpeechEngines] = useState<readonly SpeechEngineChoice[]>(DEFAULT_SPEECH_CHOICES);
  useEffect(() => {
    let stale = false;
    api.serverConfig().then(
      (config) => {
        if (stale || !config.engines) return;
        setOcrEngines(['default', ...config.engines.ocr]);
        setSpeechEngines(['default', ...config.engines.transcription]);
      },
      // Without the list only the default is offered; uploads still work.
      () => undefined,
    );
    return () => {
      stale = true;
    };
  }, [api]);

  // Long-lived objects (stream, poller) call back into the latest render through these.
  const latest = useRef({ state, uploads, t });
  latest.current = { state, uploads, t };
  const statuses = useRef(new Map<string, JobStatus>());
  /** The status last announced in the live region, per job. */
  const announced = useRef(new Map<string, JobStatus>());
  const announcementCount = useRef(0);
  /** The `updated_at` of the newest report of each job. */
  const reportedAt = useRef(new Map<string, string>());
  const live = useRef<{ updates: LiveJobUpdates; poller: JobPoller } | null>(null);

  const showFailure = useCallback((error: unknown) => {
    setFailures((shown) => [
      ...shown.slice(-2),
      { id: Date.now() + Math.random(), failure: failureOf(error) },
    ]);
  }, []);

  const receiveJob = useCallback((job: WebJob, startedHere = false) => {
    const id = job.job_id;
    const before = statuses.current.get(id);
    // A finished job stays finished: a late report of an earlier state changes nothing.
    if (before && isTerminal(before) && !isTerminal(job.status)) return;
    // Nor does an older report (an upload's answer that comes after the stream told of PROCESSING).
    const newest = reportedAt.current.get(id);
    const stale = newest !== undefined && job.updated_at < newest;
    if (!stale) {
      reportedAt.current.set(id, job.updated_at);
      statuses.current.set(id, job.status);
    }
    const status = statuses.current.get(id) ?? job.status;
    const changed = !stale && before !== undefined && before !== job.status;
    // A job sent from here is announced from its upload's answer on (as queued, or as far as the
    // stream has told), any other job at its changes; each status of a job once.
    if ((changed || startedHere) && announced.current.get(id) !== status) {
      announced.current.set(id, status);
      const { t: tr } = latest.current;
      const text = tr('job.announce', { name: job.input_filename, status: tr(`status.${status}`) });
      announcementCount.current += 1;
      const line = { id: announcementCount.current, text };
      setAnnouncements((shown) => [...shown.slice(1 - ANNOUNCEMENTS_KEPT), line]);
    }
    if (changed && isTerminal(job.status)) {
      const { t: tr } = latest.current;
      notifyIfHidden(
        tr(`notify.${job.status as 'COMPLETED' | 'FAILED' | 'CANCELLED'}`, { name: job.input_filename }),
        tr('notify.body'),
        id,
      );
    }
    if (!stale) {
      if (isTerminal(job.status)) live.current?.poller.unwatch(id);
      else live.current?.poller.watch(job);
    }
    dispatch({ type: 'job/received', job, startedHere });
  }, []);

  const removeJob = useCallback((jobId: string) => {
    statuses.current.delete(jobId);
    announced.current.delete(jobId);
    reportedAt.current.delete(jobId);
    live.current?.poller.unwatch(jobId);
    dispatch({ type: 'job/deleted', jobId });
  }, []);

  // One event stream for all jobs, polling only when the stream is not available.
  useEffect(() => {
    const poller = new JobPoller(api, {
      onJob: (job) => receiveJob(job),
      onDeleted: removeJob,
      onGaveUp: () => updates.markOffline(),
    });
    const withToken = api.authorization() !== null;
    const updates = new LiveJobUpdates({
      // EventSource cannot send the token; the fetch-based stream can.
      ...(withToken
        ? {
            createEventSource: (url: string) =>
              new FetchEventSource(url, {
                headers: (): Record<string, string> => {
                  const authorization = api.authorization();
                  return authorization ? { authorization } : {};
                },
              }),
          }
        : {}),
      eventsUrl: api.eventsUrl(),
      poller,
      onJob: (job) => receiveJob(job),
      onDeleted: removeJob,
      onModeChange: setMode,
      onResync: () => resync.current(),
    });
    live.current = { updates, poller };
    for (const job of Object.values(latest.current.state.jobs)) poller.watch(job);
    updates.start();
    return () => {
      updates.stop();
      live.current = null;
    };
  }, [api, receiveJob, removeJob]);

  // History: first page on every change of filters; a newer request wins over a slower older one.
  const historyRequest = useRef(0);
  const loadHistory = useCallback(
    async (query: HistoryQuery, cursor: string | null) => {
      const request = ++historyRequest.current;
      dispatch({ type: 'history/loading' });
      try {
        const page = await api.listJobs(query, { cursor, limit: HISTORY_PAGE_SIZE });
        if (request !== historyRequest.current) return;
        for (const job of page.items) {
          statuses.current.set(job.job_id, statuses.current.get(job.job_id) ?? job.status);
          if (!isTerminal(job.status)) live.current?.poller.watch(job);
        }
        dispatch({ type: 'history/loaded', page, append: cursor !== null });
      } catch (error) {
        if (request === historyRequest.current)
          dispatch({ type: 'history/failed', failure: failureOf(error) });
      }
    },
    [api],
  );
  const { query } = state.history;
  useEffect(() => {
    void loadHistory(query, null);
  }, [loadHistory, query]);

  // The server lost events it cannot replay: ask again for what is shown.
  const resync = useRef(() => {});
  resync.current = () => {
    void loadHistory(state.history.query, null);
    for (const id of state.activeIds) {
      const job = state.jobs[id];
      if (!job || isTerminal(job.status)) continue;
      api.getJob(id).then(
        (read) => read.kind === 'job' && receiveJob(read.job),
        (error: unknown) => {
          const failure = failureOf(error);
          if (failure.kind === 'problem' && failure.status === 404) removeJob(id);
        },
      );
    }
  };

  const onQuery = useCallback((next: HistoryQuery) => dispatch({ type: 'history/query', query: next }), []);

  const addFiles = useCallback(async (files: File[]) => {
    const items: UploadItem[] = [];
    for (const file of files) {
      const detected = detectFileKind(await readFileHead(file), file.name);
      items.push(
        newUploadItem(file, detected, latest.current.uploads.batch, {
          key: newIdempotencyKey(),
          idempotencyKey: newIdempotencyKey(),
        }),
      );
    }
    dispatchUpload({ type: 'files/added', items });
    // Pages and durations are measured locally, two files at a time (a PDF's read is bounded);
    // the precheck below asks the server once a file is measured.
    const queue = [...items];
    const measureNext = async (): Promise<void> => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const measure = await measureFile(item.file, item.detected?.input).catch(() => ({}));
        dispatchUpload({ type: 'item/measured', key: item.key, measure });
      }
    };
    void Promise.all([measureNext(), measureNext()]);
  }, []);

  // Ask before sending, and again when a choice the verdict depends on (engine, subtype) changes:
  // a refusal blocks only that file; a failed precheck leaves it to the upload.
  const prechecksAsked = useRef(new Map<string, string>());
  useEffect(() => {
    for (const item of uploads.items) {
      if (item.measure === null || (item.phase !== 'ready' && item.phase !== 'failed')) continue;
      const request = precheckRequestOf(item);
      const body = JSON.stringify(request);
      const previous = prechecksAsked.current.get(item.key);
      if (previous === body) continue;
      prechecksAsked.current.set(item.key, body);
      if (previous !== undefined) dispatchUpload({ type: 'item/prechecked', key: item.key, precheck: null });
      api.precheck(request).then(
        (precheck) => {
          // Only the answer to the latest question counts.
          if (prechecksAsked.current.get(item.key) === body) {
            dispatchUpload({ type: 'item/prechecked', key: item.key, precheck });
          }
        },
        () => undefined,
      );
    }
  }, [uploads.items, api]);

  const sendUploads = useCallback(() => {
    // The press of "Upload" is the user gesture the notification permission prompt needs.
    askNotificationPermissionOnce();
    const queue = sendableItems(latest.current.uploads);
    const deps = {
      url: api.uploadUrl(),
      upload: sendFile,
      dispatch: dispatchUpload,
      sleep,
      authorization: api.authorization,
    };
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const submitted = await runUpload(item, deps);
        if (submitted) receiveJob(submitted.job, true);
      }
    };
    void Promise.all(Array.from({ length: PARALLEL_UPLOADS }, worker));
  }, [api, receiveJob]);

  const actions: JobActions = useMemo(
    () => ({
      cancel(job) {
        const { t: tr } = latest.current;
        setConfirm({
          title: tr('confirm.cancel.title'),
          body: tr('confirm.cancel.body', { name: job.input_filename }),
          confirmLabel: tr('confirm.cancel.yes'),
          cancelLabel: tr('confirm.keep'),
          onConfirm: () => api.cancelJob(job.job_id).then((updated) => receiveJob(updated), showFailure),
        });
      },
      retry(job) {
        api.retryJob(job.job_id).then((created) => receiveJob(created, true), showFailure);
      },
      retryWithOptions(job) {
        setRetrying(job);
      },
      remove(job) {
        const { t: tr } = latest.current;
        setConfirm({
          title: tr('confirm.delete.title'),
          body: tr('confirm.delete.body', { name: job.input_filename }),
          confirmLabel: tr('confirm.delete.yes'),
          cancelLabel: tr('confirm.keep'),
          onConfirm: () =>
            api.deleteJob(job.job_id).then(
              () => removeJob(job.job_id),
              (error: unknown) => {
                const failure = failureOf(error);
                if (failure.kind === 'problem' && failure.status === 404) removeJob(job.job_id);
                else showFailure(error);
              },
            ),
        });
      },
      read: setReading,
      failed: showFailure,
      dismiss: (job) => dispatch({ type: 'active/dismissed', jobId: job.job_id }),
    }),
    [api, receiveJob, removeJob, showFailure],
  );

  const activeJobs = state.activeIds
    .map((id) => state.jobs[id])
    .filter((job): job is WebJob => job !== undefined);
  const { history } = state;

  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipToMain')}
      </a>
      <header className="app-header">
        <div className="brand">
          <h1>{t('app.title')}</h1>
          <p className="tagline">{t('app.tagline')}</p>
        </div>
        <div className="header-tools">
          {user && user.mode !== 'local' ? (
            <span className="user" data-testid="signed-in-user">
              <span aria-hidden="true">●</span> {t('user.signedInAs', { name: user.email ?? user.user_id })}
              {onSignOut ? (
                <button type="button" className="small secondary" onClick={onSignOut}>
                  {t('user.signOut')}
                </button>
              ) : null}
            </span>
          ) : (
            <span className="user" title={t('user.localHint')} data-testid="local-user">
              <span aria-hidden="true">●</span> {t('user.local')}
              <span className="visually-hidden">. {t('user.localHint')}</span>
            </span>
          )}
          <span className={`live live-${mode}`} data-testid="live-mode" data-mode={mode} role="status">
            {t(`live.${mode}`)}
            {mode === 'offline' ? (
              <button type="button" className="small" onClick={() => live.current?.updates.reconnect()}>
                {t('live.reconnect')}
              </button>
            ) : null}
          </span>
          {/* The name starts with the visible words (in the other language), then says what it does. */}
          <button type="button" className="lang-switch" onClick={() => setLang(lang === 'en' ? 'hi' : 'en')}>
            <span lang={lang === 'en' ? 'hi' : 'en'}>{t('lang.switch')}</span>
            <span className="visually-hidden">: {t('lang.switchLabel')}</span>
          </button>
        </div>
      </header>
      {isAdmin ? (
        <nav className="view-tabs" aria-label={t('ops.tabs')}>
          {VIEWS.map((name) => (
            <button
              key={name}
              type="button"
              className={shownView === name ? 'tab current' : 'tab'}
              aria-current={shownView === name ? 'page' : undefined}
              onClick={() => setView(name)}
              data-testid={`tab-${name}`}
            >
              {t(`ops.tab.${name}`)}
            </button>
          ))}
        </nav>
      ) : null}
      <main id="main">
        {shownView === 'operations' ? <OperationsPanel api={api} /> : null}
        <div className="jobs-view" hidden={shownView !== 'jobs'}>
          {failures.length > 0 ? (
            <div className="notices">
              {failures.map(({ id, failure }) => (
                <FailureNotice key={id} failure={failure}>
                  <button
                    type="button"
                    className="small secondary"
                    onClick={() => setFailures((shown) => shown.filter((f) => f.id !== id))}
                  >
                    {t('error.dismiss')}
                  </button>
                </FailureNotice>
              ))}
            </div>
          ) : null}
          <div className="top">
            <UploadPanel
              state={uploads}
              sendableCount={sendableItems(uploads).length}
              ocrEngines={ocrEngines}
              speechEngines={speechEngines}
              onFiles={(files) => void addFiles(files)}
              onBatch={(settings) => dispatchUpload({ type: 'batch/changed', settings })}
              onEdit={(key, change) => dispatchUpload({ type: 'item/edited', key, ...change })}
              onRemove={(key) => dispatchUpload({ type: 'item/removed', key })}
              onSend={sendUploads}
              onClearDone={() => dispatchUpload({ type: 'finished/cleared' })}
            />
            <section className="panel now" aria-labelledby="now-heading">
              <h2 id="now-heading">{t('now.heading')}</h2>
              {activeJobs.length === 0 ? <p className="empty">{t('now.empty')}</p> : null}
              <div className="job-grid">
                {activeJobs.map((job) => (
                  <JobCard key={job.job_id} api={api} job={job} actions={actions} />
                ))}
              </div>
            </section>
          </div>
          <HistoryPanel
            api={api}
            history={history}
            jobs={state.jobs}
            actions={{ ...actions, dismiss: undefined }}
            onQuery={onQuery}
            onLoadMore={() => void loadHistory(history.query, history.nextCursor)}
            onReload={() => void loadHistory(history.query, null)}
          />
        </div>
      </main>
      <div className="visually-hidden" aria-live="polite" data-testid="announcer">
        {announcements.map(({ id, text }) => (
          <p key={id}>{text}</p>
        ))}
      </div>
      <ConfirmDialog request={confirm} onClose={() => setConfirm(null)} />
      <RetryDialog
        job={retrying}
        ocrEngines={ocrEngines}
        speechEngines={speechEngines}
        onClose={() => setRetrying(null)}
        onRetry={(job, options) =>
          api.retryJob(job.job_id, options).then((created) => receiveJob(created, true), showFailure)
        }
      />
      <ResultViewer api={api} job={reading} onClose={() => setReading(null)} />
    </>
  );
}
