import { ApiError, parseFailure } from './api-failure.js';
import type {
  AdminJobList,
  AdminOverview,
  AuthConfigView,
  DeadLetterList,
  HistoryQuery,
  JobPage,
  OutputFormat,
  PrecheckRequest,
  PrecheckResult,
  ServerConfig,
  TokenSet,
  WebJob,
  WhoAmI,
} from './contract.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** A job read with its ETag, or `not-modified` when the ETag sent back still matches. */
export type JobRead = { kind: 'job'; job: WebJob; etag: string | null } | { kind: 'not-modified' };

export interface ApiClient {
  listJobs(query: HistoryQuery, options?: { cursor?: string | null; limit?: number }): Promise<JobPage>;
  getJob(jobId: string, etag?: string | null): Promise<JobRead>;
  cancelJob(jobId: string): Promise<WebJob>;
  /** Runs a FAILED or CANCELLED job again; `options` change its language or content subtype. */
  /** The body of `POST /v1/jobs/:id/retry`: the options to change (`ocr_engine: null`: the default). */
  retryJob(
    jobId: string,
    options?: {
      language?: string;
      content_subtype?: string;
      ocr_engine?: string | null;
      transcription_engine?: string | null;
    },
  ): Promise<WebJob>;
  deleteJob(jobId: string): Promise<void>;
  resultText(jobId: string, format: OutputFormat): Promise<string>;
  resultUrl(jobId: string, format: OutputFormat): string;
  inputUrl(jobId: string): string;
  eventsUrl(): string;
  uploadUrl(): string;
  /** What the upload of a file would get (type, refusals, warnings, estimate), without sending it. */
  precheck(request: PrecheckRequest): Promise<PrecheckResult>;
  /** How to sign in (public). */
  authConfig(): Promise<AuthConfigView>;
  /** The page's authorization code (with its PKCE verifier) or a refresh token → tokens. */
  exchangeToken(
    grant:
      | { grant_type: 'authorization_code'; code: string; code_verifier: string; redirect_uri: string }
      | { grant_type: 'refresh_token'; refresh_token: string },
  ): Promise<TokenSet>;
  me(): Promise<WhoAmI>;
  /** `GET /v1/config`: public flags and the engines jobs may name. */
  serverConfig(): Promise<ServerConfig>;
  /** Admin only: queues, throughput, failures by code, workers and dependencies in one read. */
  adminOverview(): Promise<AdminOverview>;
  /** Admin only: the newest dead letters. */
  deadLetters(): Promise<DeadLetterList>;
  /** Admin only: every user's jobs, newest first (`GET /v1/admin/jobs`), optionally of one status. */
  adminJobs(query?: {
    status?: string | null;
    cursor?: string | null;
    limit?: number;
  }): Promise<AdminJobList>;
  /** Admin only: the same job goes back to QUEUED. */
  replayDeadLetter(jobId: string): Promise<void>;
  /** A download that needs the Authorization header: the body and the server's file name. */
  download(url: string): Promise<{ blob: Blob; filename: string | null }>;
  /** The Authorization header to send, when signed in. */
  authorization(): string | null;
}

export interface ApiClientOptions {
  baseUrl?: string;
  fetch?: FetchLike;
  /** The Authorization header for each request (the session's token), or null. */
  authorization?: () => string | null;
  /** A request was refused with 401: the session may renew its token. */
  onUnauthorized?: () => void;
}

/** The file name of a Content-Disposition header (RFC 6266 `filename*` first). */
export function filenameOfDisposition(header: string | null): string | null {
  if (!header) return null;
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // Not valid percent-encoding: try the plain form.
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain?.[1] ?? null;
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
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const baseUrl = options.baseUrl ?? '';
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const authorization = options.authorization ?? (() => null);

  async function send(path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    const auth = authorization();
    const headers = auth
      ? { ...(init.headers as Record<string, string>), authorization: auth }
      : init.headers;
    try {
      response = await doFetch(path.startsWith('http') ? path : `${baseUrl}${path}`, { ...init, headers });
    } catch {
      throw new ApiError({ kind: 'network' });
    }
    if (response.ok || response.status === 304) return response;
    // A refused sign-in exchange is answered by the session itself, not by renewing again.
    if (response.status === 401 && auth && !path.startsWith('/v1/auth/')) options.onUnauthorized?.();
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
    retryJob(jobId, options = {}) {
      return json<WebJob>(`${jobPath(jobId)}/retry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(options),
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
    precheck: (request) =>
      json<PrecheckResult>('/v1/intake/precheck', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      }),
    authConfig: () => json<AuthConfigView>('/v1/auth/config'),
    exchangeToken: (grant) =>
      json<TokenSet>('/v1/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(grant),
      }),
    me: () => json<WhoAmI>('/v1/me'),
    serverConfig: () => json<ServerConfig>('/v1/config'),
    adminOverview: () => json<AdminOverview>('/v1/admin/overview', { cache: 'no-store' }),
    deadLetters: () => json<DeadLetterList>('/v1/admin/dead-letters?limit=50', { cache: 'no-store' }),
    adminJobs: (query = {}) => {
      const params = new URLSearchParams({ limit: String(query.limit ?? 20) });
      if (query.status) params.set('status', query.status);
      if (query.cursor) params.set('cursor', query.cursor);
      return json<AdminJobList>(`/v1/admin/jobs?${params}`, { cache: 'no-store' });
    },
    async replayDeadLetter(jobId) {
      await send(`/v1/admin/dead-letters/${encodeURIComponent(jobId)}/replay`, { method: 'POST' });
    },
    async download(url) {
      const response = await send(url);
      return {
        blob: await response.blob(),
        filename: filenameOfDisposition(response.headers.get('content-disposition')),
      };
    },
    authorization,
  };
}
