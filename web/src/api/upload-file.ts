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

/**
 * Sends one file to `POST /v1/jobs` with XMLHttpRequest, because fetch cannot report upload
 * progress. Resolves with the job (`reused` when the key had already made it).
 */
export function uploadFile(options: UploadOptions): Promise<SubmittedJob> {
  const request = options.createRequest?.() ?? (new XMLHttpRequest() as unknown as UploadRequest);
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new UploadAbortedError());
      return;
    }
    const onAbortSignal = () => request.abort();
    options.signal?.addEventListener('abort', onAbortSignal, { once: true });
    const finish = () => options.signal?.removeEventListener('abort', onAbortSignal);

    request.open('POST', options.url);
    request.setRequestHeader('accept', 'application/json');
    request.setRequestHeader('idempotency-key', options.idempotencyKey);
    if (options.authorization) request.setRequestHeader('authorization', options.authorization);
    request.upload.onprogress = (event) => {
      if (event.total > 0) options.onProgress?.(Math.min(1, event.loaded / event.total));
    };
    request.onload = () => {
      finish();
      if (request.status >= 200 && request.status < 300) {
        try {
          const body = JSON.parse(request.responseText) as WebJob & { reused?: boolean };
          options.onProgress?.(1);
          resolve({ job: body, reused: body.reused === true || request.status === 200 });
        } catch {
          reject(new ApiError({ kind: 'http', status: request.status }));
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

    const form = new FormData();
    for (const [name, value] of Object.entries(options.fields)) form.append(name, value);
    form.append('file', options.file, options.filename);
    request.send(form);
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
