import { ApiError, parseFailure } from './api-failure.js';
import type { HistoryQuery, JobPage, OutputFormat, WebJob } from './contract.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** A job read with its ETag, or `not-modified` when the ETag sent back still matches. */
export type JobRead = { kind: 'job'; job: WebJob; etag: string | null } | { kind: 'not-modified' };

export interface ApiClient {
  listJobs(query: HistoryQuery, options?: { cursor?: string | null; limit?: number }): Promise<JobPage>;
  getJob(jobId: string, etag?: string | null): Promise<JobRead>;
  cancelJob(jobId: string): Promise<WebJob>;
  retryJob(jobId: string): Promise<WebJob>;
  deleteJob(jobId: string): Promise<void>;
  resultText(jobId: string, format: OutputFormat): Promise<string>;
  resultUrl(jobId: string, format: OutputFormat): string;
  inputUrl(jobId: string): string;
  eventsUrl(): string;
  uploadUrl(): string;
}

/** The query string of a history page; empty filters are left out. */
export function historySearchParams(
  query: HistoryQuery,
  options: { cursor?: string | null; limit?: number } = {},
): URLSearchParams {
  const params = new URLSearchParams();
  params.set('limit', String(options.limit ?? 20));
  if (options.cursor) params.set('cursor', options.cursor);
  if (query.jobType) params.set('job_type', query.jobType);
  if (query.statuses.length > 0) params.set('status', query.statuses.join(','));
  const search = query.search.trim();
  if (search) params.set('q', search);
  return params;
}

function jobPath(jobId: string): string {
  return `/v1/jobs/${encodeURIComponent(jobId)}`;
}

/** Typed calls to the job API; every failure is an ApiError (network, problem or http). */
export function createApiClient(options: { baseUrl?: string; fetch?: FetchLike } = {}): ApiClient {
  const baseUrl = options.baseUrl ?? '';
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function send(path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}${path}`, init);
    } catch {
      throw new ApiError({ kind: 'network' });
    }
    if (response.ok || response.status === 304) return response;
    let text = '';
    try {
      text = await response.text();
    } catch {
      // The body broke off: the status alone still tells what happened.
    }
    throw new ApiError(parseFailure(response.status, response.headers.get('content-type'), text));
  }

  async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await send(path, { ...init, headers: { accept: 'application/json', ...init.headers } });
    try {
      return (await response.json()) as T;
    } catch {
      throw new ApiError({ kind: 'http', status: response.status });
    }
  }

  return {
    listJobs(query, pageOptions) {
      return json<JobPage>(`/v1/jobs?${historySearchParams(query, pageOptions).toString()}`);
    },
    async getJob(jobId, etag) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (etag) headers['if-none-match'] = etag;
      const response = await send(jobPath(jobId), { headers, cache: 'no-store' });
      if (response.status === 304) return { kind: 'not-modified' };
      return { kind: 'job', job: (await response.json()) as WebJob, etag: response.headers.get('etag') };
    },
    cancelJob(jobId) {
      return json<WebJob>(`${jobPath(jobId)}/cancel`, { method: 'POST' });
    },
    retryJob(jobId) {
      return json<WebJob>(`${jobPath(jobId)}/retry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
    },
    async deleteJob(jobId) {
      await send(jobPath(jobId), { method: 'DELETE' });
    },
    async resultText(jobId, format) {
      return (await send(`${jobPath(jobId)}/result?format=${format}`)).text();
    },
    resultUrl: (jobId, format) => `${baseUrl}${jobPath(jobId)}/result?format=${format}`,
    inputUrl: (jobId) => `${baseUrl}${jobPath(jobId)}/input`,
    eventsUrl: () => `${baseUrl}/v1/events`,
    uploadUrl: () => `${baseUrl}/v1/jobs`,
  };
}
