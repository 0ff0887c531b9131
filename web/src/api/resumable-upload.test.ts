import { describe, expect, it } from 'vitest';
import { fakeJob } from '../testing/fake-job.js';
import type { FetchLike } from './api-client.js';
import { ApiError } from './api-failure.js';
import {
  MAX_RESUME_TRIES,
  RESUMABLE_UPLOAD_THRESHOLD_BYTES,
  type ResumableUploadOptions,
  resumeDelayMs,
  sendFile,
  uploadResumable,
} from './resumable-upload.js';
import type { UploadRequest } from './upload-file.js';

const UPLOAD_ID = '0190a3f2-0000-7000-8000-0000000000aa';

type PatchFate = 'ok' | 'drop' | 'server-error';

/** A fake XMLHttpRequest: PATCHes move the fake server's offset unless their fate says otherwise. */
class FakeRequest implements UploadRequest {
  status = 0;
  responseText = '';
  headers: Record<string, string> = {};
  upload: UploadRequest['upload'] = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor(
    private readonly state: { offset: number },
    private readonly calls: string[],
    private readonly patches: Array<{ offset: number; bytes: number }>,
    private readonly fates: PatchFate[],
  ) {}

  open(method: string, url: string): void {
    this.calls.push(`${method} ${url}`);
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  getResponseHeader(name: string): string | null {
    return name === 'upload-offset' ? String(this.state.offset) : null;
  }
  abort(): void {}
  send(body: FormData | Blob): void {
    if (!(body instanceof Blob)) {
      // The one-shot multipart upload of a small file.
      this.status = 201;
      this.responseText = JSON.stringify({ ...fakeJob(), reused: false });
      queueMicrotask(() => this.onload?.());
      return;
    }
    const bytes = body.size;
    const offset = Number(this.headers['upload-offset']);
    this.patches.push({ offset, bytes });
    const fate = this.fates.shift() ?? 'ok';
    queueMicrotask(() => {
      if (fate === 'drop') {
        this.upload.onprogress?.({ loaded: Math.floor(bytes / 2), total: bytes });
        this.onerror?.();
        return;
      }
      this.upload.onprogress?.({ loaded: bytes, total: bytes });
      if (fate === 'server-error' || offset !== this.state.offset) {
        this.status = fate === 'server-error' ? 503 : 409;
        this.onload?.();
        return;
      }
      this.state.offset += bytes;
      this.status = 204;
      this.onload?.();
    });
  }
}

/**
 * A server holding one upload session: `POST /v1/uploads`, `HEAD`, `POST /v1/jobs` through fetch,
 * PATCHes through fake XMLHttpRequests whose fates are scripted (a dropped PATCH sends half its
 * bytes, then the connection fails, and the server keeps none of them).
 */
function fakeServer(size: number, fates: PatchFate[] = []) {
  const state = { offset: 0, exists: false, jobAnswers: [] as number[] };
  const calls: string[] = [];
  const patches: Array<{ offset: number; bytes: number }> = [];
  const sleeps: number[] = [];
  const progress: number[] = [];
  let jobBody: Record<string, unknown> | null = null;
  let jobKey: string | null = null;

  const fetch: FetchLike = async (url, init) => {
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}`);
    const headers = new Headers(init?.headers);
    if (method === 'POST' && url === '/v1/uploads') {
      state.exists = true;
      state.offset = 0;
      return Response.json({ upload_id: UPLOAD_ID, offset: 0, size }, { status: 201 });
    }
    if (method === 'HEAD' && url === `/v1/uploads/${UPLOAD_ID}`) {
      if (!state.exists) return new Response(null, { status: 404 });
      return new Response(null, { status: 200, headers: { 'upload-offset': String(state.offset) } });
    }
    if (method === 'POST' && url === '/v1/jobs') {
      const status = state.jobAnswers.shift() ?? 201;
      if (status >= 500) {
        return Response.json(
          { status, error_code: 'QUEUE_UNAVAILABLE', retryable: true },
          { status, headers: { 'content-type': 'application/problem+json' } },
        );
      }
      jobBody = JSON.parse(String(init?.body)) as Record<string, unknown>;
      jobKey = headers.get('idempotency-key');
      state.exists = false;
      return Response.json({ ...fakeJob(), reused: false }, { status: 201 });
    }
    return new Response(null, { status: 500 });
  };

  const createRequest = (): UploadRequest => new FakeRequest(state, calls, patches, fates);

  const options = (overrides: Partial<ResumableUploadOptions> = {}): ResumableUploadOptions => ({
    url: '/v1/jobs',
    file: new Blob([new Uint8Array(size)]),
    filename: 'talk.wav',
    fields: { language: 'en' },
    idempotencyKey: 'key-1',
    fetch,
    createRequest,
    chunkBytes: 100,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    sessions: new Map(),
    onProgress: (share) => progress.push(share),
    ...overrides,
  });

  return {
    state,
    calls,
    patches,
    sleeps,
    progress,
    options,
    job: () => ({ body: jobBody, key: jobKey }),
  };
}

function neverBackwards(values: number[]): boolean {
  return values.every((value, i) => i === 0 || value >= (values[i - 1] ?? 0));
}

describe('resumable upload of large files', () => {
  it('asks the offset after a dropped PATCH and resumes there; progress never goes back', async () => {
    const server = fakeServer(350, ['ok', 'drop', 'ok', 'ok', 'ok']);
    const submitted = await uploadResumable(server.options());
    expect(submitted.reused).toBe(false);
    // The dropped PATCH (offset 100) is sent again from the offset the server answered.
    expect(server.patches).toEqual([
      { offset: 0, bytes: 100 },
      { offset: 100, bytes: 100 },
      { offset: 100, bytes: 100 },
      { offset: 200, bytes: 100 },
      { offset: 300, bytes: 50 },
    ]);
    expect(server.calls).toContain(`HEAD /v1/uploads/${UPLOAD_ID}`);
    expect(server.sleeps).toEqual([resumeDelayMs(1)]);
    expect(server.progress.at(-1)).toBe(1);
    expect(neverBackwards(server.progress)).toBe(true);
    expect(server.job()).toEqual({ body: { language: 'en', upload_id: UPLOAD_ID }, key: 'key-1' });
  });

  it('resumes after a 5xx too, and gives up after MAX_RESUME_TRIES failures in a row', async () => {
    const recovered = fakeServer(200, ['server-error', 'ok', 'ok']);
    await uploadResumable(recovered.options());
    expect(recovered.patches.map((p) => p.offset)).toEqual([0, 0, 100]);

    const hopeless = fakeServer(
      200,
      Array.from({ length: 50 }, () => 'drop' as const),
    );
    const error = await uploadResumable(hopeless.options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).failure).toEqual({ kind: 'network' });
    expect(hopeless.patches).toHaveLength(MAX_RESUME_TRIES + 1);
    // Pauses grow and stay bounded.
    expect(hopeless.sleeps).toEqual(Array.from({ length: MAX_RESUME_TRIES }, (_, i) => resumeDelayMs(i + 1)));
    expect(neverBackwards(hopeless.sleeps)).toBe(true);
    expect(resumeDelayMs(50)).toBe(8_000);
  });

  it('continues the same session on the next try instead of sending the file again', async () => {
    const server = fakeServer(200);
    server.state.jobAnswers.push(503);
    const sessions = new Map<string, string>();
    const first = await uploadResumable(server.options({ sessions })).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ApiError);
    expect(sessions.get('key-1')).toBe(UPLOAD_ID);
    expect(server.patches).toHaveLength(2);

    server.calls.length = 0;
    const second = await uploadResumable(server.options({ sessions }));
    expect(second.job.job_id).toBe(fakeJob().job_id);
    // No new session, no bytes again: the offset question, then the job.
    expect(server.calls).toEqual([`HEAD /v1/uploads/${UPLOAD_ID}`, 'POST /v1/jobs']);
    expect(server.patches).toHaveLength(2);
    expect(sessions.has('key-1')).toBe(false);
  });

  it('keeps small files on the one-shot multipart upload', async () => {
    const server = fakeServer(10);
    await sendFile(server.options({ file: new Blob([new Uint8Array(10)]) }));
    expect(server.calls[0]).toBe('POST /v1/jobs');
    expect(server.calls).not.toContain('POST /v1/uploads');
    expect(RESUMABLE_UPLOAD_THRESHOLD_BYTES).toBe(8 * 1024 * 1024);
  });
});
