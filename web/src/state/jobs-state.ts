import type { ApiFailure } from '../api/api-failure.js';
import type { HistoryQuery, JobCounts, JobPage, JobStatus, WebJob } from '../api/contract.js';
import { isTerminal } from '../api/contract.js';
import { mergeJob } from './merge-job.js';

export interface HistoryState {
  query: HistoryQuery;
  /** Ids in the order the server listed them (newest first), plus jobs made since. */
  ids: string[];
  nextCursor: string | null;
  total: number | null;
  counts: JobCounts | null;
  loading: boolean;
  failure: ApiFailure | null;
}

export interface JobsState {
  jobs: Record<string, WebJob>;
  /** Jobs shown side by side under "Now": those started here and those still running. */
  activeIds: string[];
  history: HistoryState;
}

export type JobsAction =
  | { type: 'job/received'; job: WebJob; startedHere?: boolean }
  | { type: 'job/deleted'; jobId: string }
  | { type: 'active/dismissed'; jobId: string }
  | { type: 'history/query'; query: HistoryQuery }
  | { type: 'history/loading' }
  | { type: 'history/loaded'; page: JobPage; append: boolean }
  | { type: 'history/failed'; failure: ApiFailure };

export const EMPTY_QUERY: HistoryQuery = { jobType: null, statuses: [], search: '' };

export function initialJobsState(query: HistoryQuery = EMPTY_QUERY): JobsState {
  return {
    jobs: {},
    activeIds: [],
    history: {
      query,
      ids: [],
      nextCursor: null,
      total: null,
      counts: null,
      loading: false,
      failure: null,
    },
  };
}

/** Whether the history's current filters would list this job. */
export function matchesQuery(job: WebJob, query: HistoryQuery): boolean {
  if (query.jobType && job.job_type !== query.jobType) return false;
  if (query.statuses.length > 0 && !query.statuses.includes(job.status)) return false;
  const search = query.search.trim().toLocaleLowerCase();
  return !search || job.input_filename.toLocaleLowerCase().includes(search);
}

function bump(record: Partial<Record<string, number>>, key: string, delta: number): void {
  record[key] = Math.max(0, (record[key] ?? 0) + delta);
}

/** Keeps the counts in step with a job that appeared, changed status or went away. */
function adjustCounts(
  counts: JobCounts | null,
  query: HistoryQuery,
  before: WebJob | undefined,
  after: WebJob | undefined,
): JobCounts | null {
  const job = after ?? before;
  if (!counts || !job || before?.status === after?.status) return counts;
  const next: JobCounts = { by_type: { ...counts.by_type }, by_status: { ...counts.by_status } };
  if (!before || !after) bump(next.by_type, job.job_type, after ? 1 : -1);
  // by_status is counted within the type filter.
  if (!query.jobType || query.jobType === job.job_type) {
    if (before) bump(next.by_status, before.status, -1);
    if (after) bump(next.by_status, after.status, 1);
  }
  return next;
}

function withoutId(ids: string[], jobId: string): string[] {
  return ids.includes(jobId) ? ids.filter((id) => id !== jobId) : ids;
}

export function jobsReducer(state: JobsState, action: JobsAction): JobsState {
  switch (action.type) {
    case 'job/received': {
      const before = state.jobs[action.job.job_id];
      const job = mergeJob(before, action.job);
      if (job === before) return state;
      // Unknown and queued (or just submitted here): a job made after the history was loaded.
      const created = before === undefined && (action.startedHere === true || job.status === 'QUEUED');
      const showNow = action.startedHere === true || !isTerminal(job.status);
      const activeIds =
        showNow && !state.activeIds.includes(job.job_id) ? [job.job_id, ...state.activeIds] : state.activeIds;
      let history = state.history;
      if (history.total !== null) {
        if (created && matchesQuery(job, history.query) && !history.ids.includes(job.job_id)) {
          history = { ...history, ids: [job.job_id, ...history.ids], total: history.total + 1 };
        }
        // A job seen for the first time that is not new: its former status is unknown.
        if (created || before !== undefined) {
          const counts = adjustCounts(history.counts, history.query, before, job);
          if (counts !== history.counts) history = { ...history, counts };
        }
      }
      return { jobs: { ...state.jobs, [job.job_id]: job }, activeIds, history };
    }
    case 'job/deleted': {
      const before = state.jobs[action.jobId];
      const { [action.jobId]: _gone, ...jobs } = state.jobs;
      const { total, ids } = state.history;
      const listed = ids.includes(action.jobId);
      const history: HistoryState = {
        ...state.history,
        ids: withoutId(ids, action.jobId),
        total: listed && total !== null ? Math.max(0, total - 1) : total,
        counts: adjustCounts(state.history.counts, state.history.query, before, undefined),
      };
      return { jobs, activeIds: withoutId(state.activeIds, action.jobId), history };
    }
    case 'active/dismissed':
      return { ...state, activeIds: withoutId(state.activeIds, action.jobId) };
    case 'history/query':
      return {
        ...state,
        history: {
          ...state.history,
          query: action.query,
          ids: [],
          nextCursor: null,
          total: null,
          failure: null,
        },
      };
    case 'history/loading':
      return { ...state, history: { ...state.history, loading: true, failure: null } };
    case 'history/loaded': {
      const jobs = { ...state.jobs };
      for (const item of action.page.items) jobs[item.job_id] = mergeJob(jobs[item.job_id], item);
      // A server that does not filter yet returns everything: the page filters what it shows.
      const pageIds = action.page.items
        .filter((item) => matchesQuery(item, state.history.query))
        .map((item) => item.job_id);
      const ids = action.append
        ? [...state.history.ids, ...pageIds.filter((id) => !state.history.ids.includes(id))]
        : pageIds;
      const activeIds = [...state.activeIds];
      for (const item of action.page.items) {
        if (!isTerminal(item.status) && !activeIds.includes(item.job_id)) activeIds.push(item.job_id);
      }
      return {
        jobs,
        activeIds,
        history: {
          ...state.history,
          ids,
          nextCursor: action.page.next_cursor,
          total: action.page.total,
          counts: action.page.counts ?? null,
          loading: false,
          failure: null,
        },
      };
    }
    case 'history/failed':
      return { ...state, history: { ...state.history, loading: false, failure: action.failure } };
  }
}

/** The statuses the "in progress" filter stands for. */
export const IN_PROGRESS_STATUSES: readonly JobStatus[] = ['QUEUED', 'PROCESSING'];
