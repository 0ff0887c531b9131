import { describe, expect, it } from 'vitest';
import { fakeJob } from '../testing/fake-job.js';
import { createApiClient, type FetchLike } from './api-client.js';
import { ApiError, isRetryableFailure, parseFailure } from './api-failure.js';
import type { WebJob } from './contract.js';
import { JobPoller, type Timers } from './job-poller.js';
import { type EventSourceLike, LiveJobUpdates, type LiveMode } from './live-job-updates.js';
import { nextPollDelay, POLL_MAX_FAILED_ROUNDS } from './poll-backoff.js';
import { type UploadRequest, uploadFile } from './upload-file.js';

const ID = '0190a3f2-0000-7000-8000-000000000001';

function problem(status: number, code: string): Response {
  return new Response(
    JSON.stringify({
      status,
      error_code: code,
      detail: 'd',
      message_hi: 'ह',
      request_id: 'r',
      retryable: false,
    }),
    { status, headers: { 'content-type': 'application/problem+json; charset=utf-8' } },
  );
}

function recordingFetch(answer: (url: string, init?: RequestInit) => Response | Promise<Response>) {
  const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    return answer(url, init);
  };
  return { calls, fetch };
}

describe('API client', () => {
  it('asks for history with filters and cursor, leaving out empty filters', async () => {
    const { calls, fetch } = recordingFetch(() => Response.json({ items: [], next_cursor: null, total: 0 }));
    const api = createApiClient({ fetch });
    await api.listJobs(
      { jobType: 'OCR', statuses: ['QUEUED', 'PROCESSING'], search: ' ग्रंथ ' },
      { cursor: 'abc' },
    );
    await api.listJobs({ jobType: null, statuses: [], search: '' });
    const [first, second] = calls.map((c) => new URL(c.url, 'http://x'));
    expect(Object.fromEntries(first?.searchParams ?? [])).toEqual({
      limit: '20',
      cursor: 'abc',
      job_type: 'OCR',
      status: 'QUEUED,PROCESSING',
      q: 'ग्रंथ',
    });
    expect(second?.search).toBe('?limit=20');
  });

  it('sends the last ETag back and reports an unchanged job as not modified', async () => {
    const { calls, fetch } = recordingFetch((_url, init) =>
      new Headers(init?.headers).get('if-none-match') === '"v1"'
        ? new Response(null, { status: 304 })
        : Response.json(fakeJob(), { headers: { etag: '"v1"' } }),
    );
    const api = createApiClient({ fetch });
    const first = await api.getJob(ID);
    expect(first).toMatchObject({ kind: 'job', etag: '"v1"' });
    expect(await api.getJob(ID, '"v1"')).toEqual({ kind: 'not-modified' });
    expect(calls[0]?.url).toBe(`/v1/jobs/${ID}`);
  });

  it('turns a problem+json refusal into a typed failure with code and request id', async () => {
    const api = createApiClient({ fetch: async () => problem(409, 'JOB_NOT_CANCELLABLE') });
    const error = await api.cancelJob(ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).failure).toMatchObject({
      kind: 'problem',
      status: 409,
      problem: { error_code: 'JOB_NOT_CANCELLABLE', request_id: 'r', message_hi: 'ह' },
    });
  });

  it('tells a network failure apart from an answer it cannot read', async () => {
    const offline = createApiClient({
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    expect(((await offline.deleteJob(ID).catch((e: unknown) => e)) as ApiError).failure).toEqual({
      kind: 'network',
    });
    const proxy = createApiClient({
      fetch: async () =>
        new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
    });
    expect(((await proxy.retryJob(ID).catch((e: unknown) => e)) as ApiError).failure).toEqual({
      kind: 'http',
      status: 502,
    });
  });

  it('posts retry with a JSON body and builds download addresses', async () => {
    const { calls, fetch } = recordingFetch(() => Response.json(fakeJob(), { status: 201 }));
    const api = createApiClient({ fetch, baseUrl: 'http://h' });
    await api.retryJob(ID);
    expect(calls[0]).toMatchObject({
      url: `http://h/v1/jobs/${ID}/retry`,
      init: { method: 'POST', body: '{}' },
    });
    expect(api.resultUrl(ID, 'srt')).toBe(`http://h/v1/jobs/${ID}/result?format=srt`);
    expect(api.inputUrl(ID)).toBe(`http://h/v1/jobs/${ID}/input`);
  });

  it('knows which failures may pass by trying again', () => {
    expect(isRetryableFailure({ kind: 'network' })).toBe(true);
    expect(
      isRetryableFailure(parseFailure(503, 'application/problem+json', '{"error_code":"QUEUE_UNAVAILABLE"}')),
    ).toBe(true);
    expect(
      isRetryableFailure(
        parseFailure(409, 'application/problem+json', '{"error_code":"IDEMPOTENCY_KEY_IN_USE"}'),
      ),
    ).toBe(true);
    expect(
      isRetryableFailure(
        parseFailure(415, 'application/problem+json', '{"error_code":"UNSUPPORTED_MEDIA_TYPE"}'),
      ),
    ).toBe(false);
    expect(isRetryableFailure(parseFailure(400, 'text/plain', 'nope'))).toBe(false);
  });
});

class FakeUploadRequest implements UploadRequest {
  status = 0;
  responseText = '';
  responseHeaders: Record<string, string> = {};
  headers: Record<string, string> = {};
  sent: FormData | null = null;
  upload: UploadRequest['upload'] = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(): void {}
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  getResponseHeader(name: string): string | null {
    return this.responseHeaders[name] ?? null;
  }
  send(body: FormData): void {
    this.sent = body;
  }
  abort(): void {
    this.onabort?.();
  }
  answer(status: number, body: unknown, contentType = 'application/json'): void {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.responseHeaders['content-type'] = contentType;
    this.onload?.();
  }
}

describe('upload with progress', () => {
  it('sends the file, its fields and the Idempotency-Key, and reports progress', async () => {
    const request = new FakeUploadRequest();
    const progress: number[] = [];
    const done = uploadFile({
      url: '/v1/jobs',
      file: new Blob(['%PDF-1.7']),
      filename: 'ग्रंथ.pdf',
      fields: { content_subtype: 'pravachan' },
      idempotencyKey: 'key-1',
      onProgress: (share) => progress.push(share),
      createRequest: () => request,
    });
    request.upload.onprogress?.({ loaded: 50, total: 100 });
    request.answer(201, fakeJob());
    expect(await done).toMatchObject({ reused: false, job: { job_id: ID } });
    expect(request.headers['idempotency-key']).toBe('key-1');
    expect(request.sent?.get('content_subtype')).toBe('pravachan');
    expect((request.sent?.get('file') as File | undefined)?.name).toBe('ग्रंथ.pdf');
    expect(progress).toEqual([0.5, 1]);
  });

  it('reports a repeated key that gave back the existing job as reused', async () => {
    const request = new FakeUploadRequest();
    const done = uploadFile({
      url: '/v1/jobs',
      file: new Blob(['x']),
      filename: 'a',
      fields: {},
      idempotencyKey: 'k',
      createRequest: () => request,
    });
    request.answer(200, { ...fakeJob(), reused: true });
    expect((await done).reused).toBe(true);
  });

  it('rejects with the problem, or with a network failure when nothing answered', async () => {
    const refused = new FakeUploadRequest();
    const first = uploadFile({
      url: '/v1/jobs',
      file: new Blob(['x']),
      filename: 'a',
      fields: {},
      idempotencyKey: 'k',
      createRequest: () => refused,
    });
    refused.answer(413, { error_code: 'FILE_TOO_LARGE' }, 'application/problem+json');
    expect(((await first.catch((e: unknown) => e)) as ApiError).failure).toMatchObject({
      kind: 'problem',
      problem: { error_code: 'FILE_TOO_LARGE' },
    });
    const dropped = new FakeUploadRequest();
    const second = uploadFile({
      url: '/v1/jobs',
      file: new Blob(['x']),
      filename: 'a',
      fields: {},
      idempotencyKey: 'k',
      createRequest: () => dropped,
    });
    dropped.onerror?.();
    expect(((await second.catch((e: unknown) => e)) as ApiError).failure).toEqual({ kind: 'network' });
  });
});

/** Timers the test fires by hand. */
function manualTimers() {
  const pending: Array<{ callback: () => void; ms: number }> = [];
  const timers: Timers = {
    setTimeout: (callback, ms) => {
      const entry = { callback, ms };
      pending.push(entry);
      return entry;
    },
    clearTimeout: (handle) => {
      const index = pending.indexOf(handle as (typeof pending)[number]);
      if (index >= 0) pending.splice(index, 1);
    },
  };
  return { pending, timers };
}

describe('polling fallback', () => {
  it('backs off while nothing changes and on errors, and is quick again after a change', () => {
    expect(nextPollDelay(1000, 'unchanged')).toBe(1500);
    expect(nextPollDelay(4000, 'unchanged')).toBe(5_000);
    expect(nextPollDelay(20_000, 'failed')).toBe(30_000);
    expect(nextPollDelay(5_000, 'changed')).toBe(1000);
  });

  it('polls every unfinished job in one loop with its ETag, and stops following finished and deleted ones', async () => {
    const seen: WebJob[] = [];
    const deleted: string[] = [];
    const asked: Array<[string, string | null]> = [];
    const other = '0190a3f2-0000-7000-8000-000000000002';
    const api = {
      getJob: async (jobId: string, etag?: string | null) => {
        asked.push([jobId, etag ?? null]);
        if (jobId === other) throw new ApiError({ kind: 'problem', status: 404, problem: { status: 404 } });
        if (etag === '"e1"')
          return { kind: 'job' as const, job: fakeJob({ status: 'COMPLETED' }), etag: '"e2"' };
        return { kind: 'job' as const, job: fakeJob(), etag: '"e1"' };
      },
    };
    const { pending, timers } = manualTimers();
    const poller = new JobPoller(
      api,
      { onJob: (j) => seen.push(j), onDeleted: (id) => deleted.push(id), onGaveUp: () => {} },
      timers,
    );
    poller.watch(fakeJob());
    poller.watch(fakeJob({ job_id: other }));
    poller.start();
    expect(pending).toHaveLength(1);
    expect(await poller.round()).toBe('changed');
    expect(deleted).toEqual([other]);
    expect(await poller.round()).toBe('changed');
    expect(asked).toEqual([
      [ID, null],
      [other, null],
      [ID, '"e1"'],
    ]);
    expect(seen.map((j) => j.status)).toEqual(['PROCESSING', 'COMPLETED']);
    expect(poller.watchedIds).toEqual([]);
  });

  it('gives up after repeated failed rounds instead of trying forever', async () => {
    let gaveUp = false;
    const api = {
      getJob: async () => {
        throw new ApiError({ kind: 'network' });
      },
    };
    const poller = new JobPoller(
      api,
      { onJob: () => {}, onDeleted: () => {}, onGaveUp: () => (gaveUp = true) },
      manualTimers().timers,
    );
    poller.watch(fakeJob());
    poller.start();
    for (let i = 0; i < POLL_MAX_FAILED_ROUNDS; i += 1) await poller.round();
    expect(gaveUp).toBe(true);
    expect(poller.isRunning).toBe(false);
  });
});

class FakeEventSource implements EventSourceLike {
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  listeners = new Map<string, (event: MessageEvent<string>) => void>();
  closed = false;
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    this.listeners.set(type, listener);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  emit(type: string, data: unknown): void {
    this.listeners.get(type)?.({ data: JSON.stringify(data) } as MessageEvent<string>);
  }
}

describe('live updates', () => {
  function setup() {
    const sources: FakeEventSource[] = [];
    const modes: LiveMode[] = [];
    const jobs: WebJob[] = [];
    const deleted: string[] = [];
    let resyncs = 0;
    const poller = new JobPoller(
      { getJob: async () => ({ kind: 'not-modified' as const }) },
      { onJob: () => {}, onDeleted: () => {}, onGaveUp: () => {} },
      manualTimers().timers,
    );
    const updates = new LiveJobUpdates({
      eventsUrl: '/v1/events',
      poller,
      onJob: (job) => jobs.push(job),
      onDeleted: (id) => deleted.push(id),
      onModeChange: (mode) => modes.push(mode),
      onResync: () => (resyncs += 1),
      createEventSource: (url) => {
        const source = new FakeEventSource(url);
        sources.push(source);
        return source;
      },
    });
    return { sources, modes, jobs, deleted, poller, updates, resyncs: () => resyncs };
  }

  it('follows all jobs through one event stream: changes and deletions', () => {
    const { sources, modes, jobs, deleted, poller, updates, resyncs } = setup();
    updates.start();
    const source = sources[0] as FakeEventSource;
    expect(source.url).toBe('/v1/events');
    source.readyState = 1;
    source.onopen?.(new Event('open'));
    source.emit('job', fakeJob({ progress: 30 }));
    source.emit('job.deleted', { job_id: ID });
    expect(resyncs()).toBe(0);
    source.emit('resync', { reason: 'events lost' });
    expect(modes).toEqual(['live']);
    expect(jobs.map((j) => j.progress)).toEqual([30]);
    expect(deleted).toEqual([ID]);
    expect(resyncs()).toBe(1);
    expect(poller.isRunning).toBe(false);
  });

  it('falls back to polling when the server has no stream', () => {
    const { sources, modes, poller, updates } = setup();
    updates.start();
    const source = sources[0] as FakeEventSource;
    source.readyState = 2;
    source.onerror?.(new Event('error'));
    expect(modes).toEqual(['polling']);
    expect(poller.isRunning).toBe(true);
  });

  it('stops leaning on the browser’s endless reconnects after a few failures in a row', () => {
    const { sources, modes, poller, updates } = setup();
    updates.start();
    const source = sources[0] as FakeEventSource;
    for (let i = 0; i < 3; i += 1) source.onerror?.(new Event('error'));
    expect(modes.at(-1)).toBe('polling');
    expect(source.closed).toBe(true);
    expect(poller.isRunning).toBe(true);
  });
});
