import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientConfig } from '../config/index.js';
import {
  type Job,
  type JobList,
  type OutputFormat,
  RESUMABLE_UPLOAD_THRESHOLD_BYTES,
  UPLOAD_CHUNK_BYTES,
  UPLOAD_OFFSET_HEADER,
  UPLOAD_PATCH_CONTENT_TYPE,
  type UploadSessionView,
} from '../contract/index.js';
import { ApiError, apiErrorFrom, ServerUnreachableError } from './api-error.js';
import { readServerSentEvents, type ServerSentEvent } from './read-server-sent-events.js';

/** Multipart fields of `POST /v1/jobs` the CLI sends (docs/api.md). */
export interface SubmitFields {
  job_type?: string | undefined;
  content_subtype?: string | undefined;
  language?: string | undefined;
  ocr_engine?: string | undefined;
  /** Recordings only; one of the engines the server offers. */
  transcription_engine?: string | undefined;
}

/** JSON body of `POST /v1/jobs/:id/retry` the CLI sends; absent fields keep the original's. */
export interface RetryJobOverrides {
  content_subtype?: string | undefined;
  language?: string | undefined;
  ocr_engine?: string | undefined;
  /** null: back to the server's configured engine. */
  transcription_engine?: string | null | undefined;
}

export interface ListQuery {
  job_type?: string | undefined;
  status?: string | undefined;
  q?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface ClientOptions {
  /** Called with every answer's request id (for `--verbose`). */
  onResponse?: (info: { method: string; path: string; status: number; requestId: string | null }) => void;
  /** Attempts for requests that are safe to repeat (GETs, submits with an Idempotency-Key). */
  attempts?: number;
  /** Files larger than this go through a resumable upload session (default: the page's threshold). */
  resumableAboveBytes?: number;
  /** Bytes per PATCH of a resumable upload. */
  chunkBytes?: number;
}

/** Failed PATCHes in a row before a resumable upload gives up (each followed by an offset question). */
const MAX_RESUME_TRIES = 5;

interface RequestOptions {
  /** A function makes a fresh body for each attempt (a stream can be read once). */
  body?: FormData | string | Blob | (() => Promise<FormData>);
  headers?: Record<string, string>;
  /** Repeat on network errors, 429 and retryable 5xx/409 answers. */
  repeatable?: boolean;
  signal?: AbortSignal;
}

const MAX_BACKOFF_MS = 30_000;

/** An upload session kept across processes: the CLI's state file remembers it per file. */
export interface UploadResume {
  /** A session an earlier run started for the same file; used when it is still open. */
  uploadId?: string | undefined;
  /** Called once a new session exists, before its first byte is sent. */
  onCreated(uploadId: string): Promise<void>;
}

/** A small typed client over the v1 API: every refusal becomes an ApiError with its catalog code. */
export class DocTranscribeClient {
  private readonly attempts: number;

  constructor(
    private readonly config: ClientConfig,
    private readonly options: ClientOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
  }

  get server(): string {
    return this.config.server;
  }

  /**
   * Streams the file from disk; the Idempotency-Key makes a repeat after a lost answer harmless.
   * A large file goes through a resumable upload session, so a dropped connection costs at most
   * one chunk.
   */
  async submit(
    file: { path: string; filename: string },
    fields: SubmitFields,
    idempotencyKey: string,
    resume?: UploadResume,
  ): Promise<Job & { reused: boolean }> {
    const size = (await stat(file.path)).size;
    if (size > (this.options.resumableAboveBytes ?? RESUMABLE_UPLOAD_THRESHOLD_BYTES)) {
      return this.submitResumable(file, size, fields, idempotencyKey, resume);
    }
    const response = await this.request('POST', '/v1/jobs', {
      repeatable: true,
      headers: { 'idempotency-key': idempotencyKey },
      // A fresh form per attempt: a Blob backed by the file is read again, never held in memory.
      body: async () => {
        const form = new FormData();
        for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
        form.append('file', await openAsBlob(file.path), file.filename);
        return form;
      },
    });
    return (await response.json()) as Job & { reused: boolean };
  }

  /**
   * `POST /v1/uploads`, PATCHes of `chunkBytes` read from disk; after a network error, a 5xx or an
   * offset mismatch it asks the server's offset and goes on from there (at most MAX_RESUME_TRIES
   * failures in a row); then `POST /v1/jobs {upload_id, …fields}` with the Idempotency-Key.
   * `resume` carries a session an earlier process started for this file, and hears of a new one.
   */
  private async submitResumable(
    file: { path: string; filename: string },
    size: number,
    fields: SubmitFields,
    idempotencyKey: string,
    resume?: UploadResume,
  ): Promise<Job & { reused: boolean }> {
    const json = { 'content-type': 'application/json' };
    let session = resume?.uploadId ? await this.openUpload(resume.uploadId, size) : null;
    if (!session) {
      const created = await this.request('POST', '/v1/uploads', {
        headers: json,
        body: JSON.stringify({ filename: file.filename, size }),
      });
      session = (await created.json()) as UploadSessionView;
      await resume?.onCreated(session.upload_id);
    }
    const path = `/v1/uploads/${encodeURIComponent(session.upload_id)}`;
    const blob = await openAsBlob(file.path);
    const chunkBytes = this.options.chunkBytes ?? UPLOAD_CHUNK_BYTES;
    let offset = session.offset;
    for (let failures = 0; offset < size; ) {
      try {
        const response = await this.request('PATCH', path, {
          headers: { 'content-type': UPLOAD_PATCH_CONTENT_TYPE, [UPLOAD_OFFSET_HEADER]: String(offset) },
          body: blob.slice(offset, Math.min(size, offset + chunkBytes)),
        });
        offset = Number(response.headers.get(UPLOAD_OFFSET_HEADER));
        failures = 0;
      } catch (error) {
        const resumable =
          error instanceof ServerUnreachableError ||
          (error instanceof ApiError && (error.status >= 500 || error.code === 'UPLOAD_OFFSET_MISMATCH'));
        failures += 1;
        if (!resumable || failures > MAX_RESUME_TRIES) throw error;
        await sleep(backoffMs(failures, null));
        const asked = await this.request('GET', path, { repeatable: true });
        offset = ((await asked.json()) as UploadSessionView).offset;
      }
    }
    const response = await this.request('POST', '/v1/jobs', {
      repeatable: true,
      headers: { ...json, 'idempotency-key': idempotencyKey },
      body: JSON.stringify({
        ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)),
        upload_id: session.upload_id,
      }),
    });
    return (await response.json()) as Job & { reused: boolean };
  }

  /** An upload session still open for a file of this size, or null (expired, used, or another file's). */
  private async openUpload(uploadId: string, size: number): Promise<UploadSessionView | null> {
    try {
      const response = await this.request('GET', `/v1/uploads/${encodeURIComponent(uploadId)}`, {
        repeatable: true,
      });
      const session = (await response.json()) as UploadSessionView;
      return session.size === size && session.offset <= size ? session : null;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  async getJob(jobId: string): Promise<Job> {
    const response = await this.request('GET', `/v1/jobs/${encodeURIComponent(jobId)}`, { repeatable: true });
    return (await response.json()) as Job;
  }

  async listJobs(query: ListQuery): Promise<JobList> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) params.set(name, String(value));
    const suffix = params.size > 0 ? `?${params.toString()}` : '';
    const response = await this.request('GET', `/v1/jobs${suffix}`, { repeatable: true });
    return (await response.json()) as JobList;
  }

  async cancel(jobId: string): Promise<Job> {
    const response = await this.request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/cancel`);
    return (await response.json()) as Job;
  }

  /** Not repeated by itself: every successful retry is a new job. */
  async retry(jobId: string, overrides: RetryJobOverrides = {}): Promise<Job> {
    const response = await this.request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/retry`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(overrides),
    });
    return (await response.json()) as Job;
  }

  /** Writes one result to `destination` through a temporary file, so no half-written result is left. */
  async downloadResult(jobId: string, format: OutputFormat, destination: string): Promise<void> {
    const response = await this.request(
      'GET',
      `/v1/jobs/${encodeURIComponent(jobId)}/result?format=${encodeURIComponent(format)}`,
      { repeatable: true },
    );
    const partial = `${destination}.part-${process.pid}`;
    try {
      if (!response.body) throw new Error(`empty answer for ${format} of job ${jobId}`);
      await pipeline(Readable.fromWeb(response.body as never), createWriteStream(partial));
      await rename(partial, destination);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /** Opens `GET /v1/events` (the caller's job changes); the events are read from what it returns. */
  async openEvents(signal: AbortSignal, lastEventId?: string): Promise<AsyncGenerator<ServerSentEvent>> {
    const response = await this.request('GET', '/v1/events', {
      headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal,
    });
    if (!response.body) throw new Error('the event stream answered without a body');
    return readServerSentEvents(response.body, signal);
  }

  private async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    const attempts = options.repeatable ? this.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        const body = typeof options.body === 'function' ? await options.body() : options.body;
        response = await fetch(`${this.config.server}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (attempt < attempts) {
          await sleep(backoffMs(attempt, null));
          continue;
        }
        throw new ServerUnreachableError(this.config.server, error);
      }
      this.options.onResponse?.({
        method,
        path,
        status: response.status,
        requestId: response.headers.get('x-request-id'),
      });
      if (response.ok) return response;
      const error = await apiErrorFrom(response);
      // A quota frees in minutes or at midnight, not in seconds: the caller decides (submit waits for its jobs).
      if (error.retryable && !error.code.startsWith('QUOTA_') && attempt < attempts) {
        await sleep(backoffMs(attempt, error.retryAfterSec));
        continue;
      }
      throw error;
    }
  }
}

function backoffMs(attempt: number, retryAfterSec: number | null): number {
  if (retryAfterSec !== null) return Math.min(retryAfterSec * 1000, MAX_BACKOFF_MS);
  return Math.min(250 * 2 ** (attempt - 1), MAX_BACKOFF_MS);
}
