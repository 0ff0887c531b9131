import type { FetchLike } from './api-client.js';
import { ApiError, parseFailure } from './api-failure.js';
import {
  RESUMABLE_UPLOAD_THRESHOLD_BYTES,
  type SubmittedJob,
  UPLOAD_CHUNK_BYTES,
  UPLOAD_OFFSET_HEADER,
  UPLOAD_PATCH_CONTENT_TYPE,
  type WebJob,
} from './contract.js';
import {
  sendUploadRequest,
  UploadAbortedError,
  type UploadOptions,
  type UploadRequest,
  uploadFile,
} from './upload-file.js';

export { RESUMABLE_UPLOAD_THRESHOLD_BYTES, UPLOAD_CHUNK_BYTES };
/** Failed PATCHes (or offset questions) in a row before the upload gives up; nothing is retried forever. */
export const MAX_RESUME_TRIES = 5;

/** Pause before the n-th resume in a row (1-based): 0.5 s doubling, at most 8 s. */
export function resumeDelayMs(attempt: number): number {
  return Math.min(8_000, 500 * 2 ** Math.max(0, attempt - 1));
}

export interface ResumableUploadOptions extends UploadOptions {
  fetch?: FetchLike;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Idempotency-Key → upload id of the sessions this page started: a later try of the same file
   * (automatic or the person's) continues the session instead of sending everything again.
   */
  sessions?: Map<string, string>;
  chunkBytes?: number;
}

/** Sessions of this tab, by the file's Idempotency-Key (kept in memory only, like the session token). */
const TAB_SESSIONS = new Map<string, string>();

/** `POST /v1/jobs` → `/v1/uploads` on the same server. */
export function uploadsUrlOf(jobsUrl: string): string {
  return jobsUrl.replace(/\/v1\/jobs$/, '/v1/uploads');
}

/** The whole upload of one file: small files in one request, larger ones through a resumable session. */
export function sendFile(options: ResumableUploadOptions): Promise<SubmittedJob> {
  return options.file.size > RESUMABLE_UPLOAD_THRESHOLD_BYTES
    ? uploadResumable(options)
    : uploadFile(options);
}

/** Whether a failed PATCH or offset question is worth asking again: no answer, or the server's own trouble. */
function isResumable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  const { failure } = error;
  if (failure.kind === 'network') return true;
  if (failure.kind === 'problem' && failure.problem.error_code === 'UPLOAD_OFFSET_MISMATCH') return true;
  return failure.status >= 500;
}

function codeOf(error: unknown): string | undefined {
  return error instanceof ApiError && error.failure.kind === 'problem'
    ? error.failure.problem.error_code
    : undefined;
}

async function failureFrom(response: Response): Promise<ApiError> {
  return new ApiError(
    parseFailure(response.status, response.headers.get('content-type'), await response.text()),
  );
}

/**
 * Sends a file through `POST /v1/uploads` and PATCHes of `chunkBytes` (XMLHttpRequest, for
 * progress), then makes the job with `POST /v1/jobs {upload_id, …fields}` and the file's
 * Idempotency-Key. After a network error or a 5xx it asks the server's offset (HEAD) and goes on
 * from there, pausing longer each time, at most MAX_RESUME_TRIES times in a row. The progress
 * reported never goes backwards, even when a cut PATCH's bytes have to be sent again.
 */
export async function uploadResumable(options: ResumableUploadOptions): Promise<SubmittedJob> {
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const sessions = options.sessions ?? TAB_SESSIONS;
  const chunkBytes = options.chunkBytes ?? UPLOAD_CHUNK_BYTES;
  const uploadsUrl = uploadsUrlOf(options.url);
  const size = options.file.size;
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    accept: 'application/json',
    ...(options.authorization ? { authorization: options.authorization } : {}),
    ...extra,
  });
  let reported = 0;
  const report = (share: number) => {
    if (share <= reported) return;
    reported = Math.min(1, share);
    options.onProgress?.(reported);
  };
  const call = async (input: string, init: RequestInit): Promise<Response> => {
    if (options.signal?.aborted) throw new UploadAbortedError();
    try {
      return await doFetch(input, { ...init, ...(options.signal ? { signal: options.signal } : {}) });
    } catch {
      if (options.signal?.aborted) throw new UploadAbortedError();
      throw new ApiError({ kind: 'network' });
    }
  };
  /** The server's offset of a session, or null when it no longer exists. */
  const askOffset = async (uploadId: string): Promise<number | null> => {
    const response = await call(`${uploadsUrl}/${uploadId}`, {
      method: 'HEAD',
      headers: headers(),
      cache: 'no-store',
    });
    if (response.status === 404) return null;
    if (!response.ok) throw new ApiError({ kind: 'http', status: response.status });
    return Number(response.headers.get(UPLOAD_OFFSET_HEADER) ?? 0);
  };
  const createJob = async (uploadId: string): Promise<SubmittedJob> => {
    const response = await call(options.url, {
      method: 'POST',
      headers: headers({ 'content-type': 'application/json', 'idempotency-key': options.idempotencyKey }),
      body: JSON.stringify({ ...options.fields, upload_id: uploadId }),
    });
    if (!response.ok) throw await failureFrom(response);
    const body = (await response.json()) as WebJob & { reused?: boolean };
    sessions.delete(options.idempotencyKey);
    report(1);
    return { job: body, reused: body.reused === true || response.status === 200 };
  };

  let uploadId = sessions.get(options.idempotencyKey) ?? null;
  let offset = 0;
  if (uploadId) {
    const known = await askOffset(uploadId);
    if (known === null) {
      // Gone: it may have made its job already (an answer lost on the way), which the key replays.
      try {
        return await createJob(uploadId);
      } catch (error) {
        if (codeOf(error) !== 'UPLOAD_NOT_FOUND') throw error;
        sessions.delete(options.idempotencyKey);
        uploadId = null;
      }
    } else offset = known;
  }
  if (!uploadId) {
    const response = await call(uploadsUrl, {
      method: 'POST',
      headers: headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({
        filename: options.filename,
        size,
        ...(options.file.type ? { mime: options.file.type } : {}),
      }),
    });
    if (!response.ok) throw await failureFrom(response);
    uploadId = ((await response.json()) as { upload_id: string }).upload_id;
    sessions.set(options.idempotencyKey, uploadId);
  }
  report(offset / size);

  for (let failures = 0; offset < size; ) {
    try {
      const end = Math.min(size, offset + chunkBytes);
      const from = offset;
      offset = await patchChunk(
        options,
        `${uploadsUrl}/${uploadId}`,
        from,
        options.file.slice(from, end),
        (sent) => report((from + sent) / size),
      );
      failures = 0;
    } catch (error) {
      if (error instanceof UploadAbortedError || !isResumable(error)) throw error;
      failures += 1;
      if (failures > MAX_RESUME_TRIES) throw error;
      await sleep(resumeDelayMs(failures));
      try {
        const known = await askOffset(uploadId);
        if (known === null) {
          sessions.delete(options.idempotencyKey);
          throw new ApiError({
            kind: 'problem',
            status: 404,
            problem: { status: 404, error_code: 'UPLOAD_NOT_FOUND' },
          });
        }
        offset = known;
      } catch (asked) {
        if (asked instanceof UploadAbortedError || !isResumable(asked)) throw asked;
        // The question failed too: the next round tries the PATCH (and, failing, asks) again.
      }
    }
  }
  return createJob(uploadId);
}

/** One PATCH with XMLHttpRequest; resolves with the offset the server answers. */
function patchChunk(
  options: ResumableUploadOptions,
  url: string,
  offset: number,
  chunk: Blob,
  onSent: (bytes: number) => void,
): Promise<number> {
  const request: UploadRequest =
    options.createRequest?.() ?? (new XMLHttpRequest() as unknown as UploadRequest);
  return sendUploadRequest(request, {
    method: 'PATCH',
    url,
    headers: {
      accept: 'application/json',
      'content-type': UPLOAD_PATCH_CONTENT_TYPE,
      [UPLOAD_OFFSET_HEADER]: String(offset),
      authorization: options.authorization,
    },
    body: chunk,
    signal: options.signal,
    onProgress: (event) => onSent(Math.min(event.loaded, chunk.size)),
    onSuccess: () => {
      const answered = Number(request.getResponseHeader(UPLOAD_OFFSET_HEADER));
      return Number.isFinite(answered) && answered > offset ? answered : offset + chunk.size;
    },
  });
}
