import { ApiError, parseFailure } from './api-failure.js';
import type { SubmittedJob, WebJob } from './contract.js';

/** The part of XMLHttpRequest an upload uses (a fake stands in for it in unit tests). */
export interface UploadRequest {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body: FormData | Blob): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((event: { loaded: number; total: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

export interface UploadOptions {
  url: string;
  file: Blob;
  filename: string;
  fields: Record<string, string>;
  /** The same key on every try of the same upload: the server then never makes a second job. */
  idempotencyKey: string;
  /** The Authorization header, when signed in. */
  authorization?: string | null;
  onProgress?: (share: number) => void;
  signal?: AbortSignal;
  createRequest?: () => UploadRequest;
}

export class UploadAbortedError extends Error {
  constructor() {
    super('upload aborted');
    this.name = 'UploadAbortedError';
  }
}

/** One request of an upload, as `sendUploadRequest` sends it. */
interface UploadSend<T> {
  method: 'POST' | 'PATCH';
  url: string;
  headers: Record<string, string | null | undefined>;
  body: FormData | Blob;
  signal?: AbortSignal;
  onProgress?: (event: { loaded: number; total: number }) => void;
  /** The value of a 2xx answer; may throw to refuse it. */
  onSuccess: () => T;
}

/**
 * Sends one XMLHttpRequest of an upload (fetch cannot report upload progress). Settles with
 * `onSuccess()` on a 2xx answer, an ApiError otherwise (`network` when no answer came, else the
 * server's refusal), or UploadAbortedError once `signal` aborts it.
 */
export function sendUploadRequest<T>(request: UploadRequest, send: UploadSend<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    if (send.signal?.aborted) {
      reject(new UploadAbortedError());
      return;
    }
    const onAbortSignal = () => request.abort();
    send.signal?.addEventListener('abort', onAbortSignal, { once: true });
    const finish = () => send.signal?.removeEventListener('abort', onAbortSignal);
    request.open(send.method, send.url);
    for (const [name, value] of Object.entries(send.headers)) {
      if (value) request.setRequestHeader(name, value);
    }
    request.upload.onprogress = (event) => send.onProgress?.(event);
    request.onload = () => {
      finish();
      if (request.status >= 200 && request.status < 300) {
        try {
          resolve(send.onSuccess());
        } catch (error) {
          reject(error);
        }
        return;
      }
      // Status 0 means the connection failed before any answer.
      if (request.status === 0) {
        reject(new ApiError({ kind: 'network' }));
        return;
      }
      reject(
        new ApiError(
          parseFailure(request.status, request.getResponseHeader('content-type'), request.responseText),
        ),
      );
    };
    request.onerror = () => {
      finish();
      reject(new ApiError({ kind: 'network' }));
    };
    request.onabort = () => {
      finish();
      reject(new UploadAbortedError());
    };
    request.send(send.body);
  });
}

/** Sends one file to `POST /v1/jobs`. Resolves with the job (`reused` when the key had already made it). */
export function uploadFile(options: UploadOptions): Promise<SubmittedJob> {
  const request = options.createRequest?.() ?? (new XMLHttpRequest() as unknown as UploadRequest);
  const form = new FormData();
  for (const [name, value] of Object.entries(options.fields)) form.append(name, value);
  form.append('file', options.file, options.filename);
  return sendUploadRequest(request, {
    method: 'POST',
    url: options.url,
    headers: {
      accept: 'application/json',
      'idempotency-key': options.idempotencyKey,
      authorization: options.authorization,
    },
    body: form,
    signal: options.signal,
    onProgress: (event) => {
      if (event.total > 0) options.onProgress?.(Math.min(1, event.loaded / event.total));
    },
    onSuccess: () => {
      let body: WebJob & { reused?: boolean };
      try {
        body = JSON.parse(request.responseText) as WebJob & { reused?: boolean };
      } catch {
        throw new ApiError({ kind: 'http', status: request.status });
      }
      options.onProgress?.(1);
      return { job: body, reused: body.reused === true || request.status === 200 };
    },
  });
}

/** A random UUID; crypto.randomUUID exists only on secure origins, so plain-HTTP LAN hosts build one. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
