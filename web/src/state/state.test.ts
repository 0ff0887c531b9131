import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/api-failure.js';
import type { JobPage, SubmittedJob } from '../api/contract.js';
import type { UploadOptions } from '../api/upload-file.js';
import { fakeJob } from '../testing/fake-job.js';
import { EMPTY_QUERY, initialJobsState, type JobsState, jobsReducer } from './jobs-state.js';
import { mergeJob } from './merge-job.js';
import { runUpload } from './run-upload.js';
import {
  DEFAULT_BATCH,
  newUploadItem,
  sendableItems,
  type UploadAction,
  type UploadState,
  uploadReducer,
} from './upload-queue.js';

const A = '0190a3f2-0000-7000-8000-00000000000a';
const B = '0190a3f2-0000-7000-8000-00000000000b';

function page(items = [fakeJob({ job_id: A })], extra: Partial<JobPage> = {}): JobPage {
  return { items, next_cursor: null, total: items.length, ...extra };
}

describe('merging reports of a job', () => {
  it('never lets the progress shown go backwards', () => {
    const known = fakeJob({ progress: 60, updated_at: '2026-11-25T10:00:10.000Z' });
    const later = fakeJob({ progress: 40, stage: 'page 2 of 4', updated_at: '2026-11-25T10:00:11.000Z' });
    expect(mergeJob(known, later)).toMatchObject({ progress: 60, stage: 'page 2 of 4' });
  });

  it('ignores a report older than what is known', () => {
    const known = fakeJob({ status: 'COMPLETED', progress: 100, updated_at: '2026-11-25T10:01:00.000Z' });
    const stale = fakeJob({ status: 'PROCESSING', progress: 90, updated_at: '2026-11-25T10:00:50.000Z' });
    expect(mergeJob(known, stale)).toBe(known);
  });
});

describe('jobs state', () => {
  it('shows jobs started here and running jobs under "now", newest first', () => {
    let state = initialJobsState();
    state = jobsReducer(state, { type: 'job/received', job: fakeJob({ job_id: A }), startedHere: true });
    state = jobsReducer(state, { type: 'job/received', job: fakeJob({ job_id: B, status: 'QUEUED' }) });
    expect(state.activeIds).toEqual([B, A]);
    state = jobsReducer(state, { type: 'active/dismissed', jobId: A });
    expect(state.activeIds).toEqual([B]);
  });

  it('appends "load more" pages and keeps the cursor', () => {
    let state = jobsReducer(initialJobsState(), {
      type: 'history/loaded',
      page: page([fakeJob({ job_id: B })], { next_cursor: 'c1', total: 2 }),
      append: false,
    });
    state = jobsReducer(state, {
      type: 'history/loaded',
      page: page([fakeJob({ job_id: A })]),
      append: true,
    });
    expect(state.history).toMatchObject({ ids: [B, A], nextCursor: null, total: 1 });
  });

  it('filters in the page what a server that does not filter yet sends', () => {
    let state = jobsReducer(initialJobsState(), {
      type: 'history/query',
      query: { ...EMPTY_QUERY, jobType: 'TRANSCRIPTION', search: 'talk' },
    });
    state = jobsReducer(state, {
      type: 'history/loaded',
      page: page([
        fakeJob({ job_id: A, job_type: 'OCR', input_filename: 'talk.pdf' }),
        fakeJob({ job_id: B, job_type: 'TRANSCRIPTION', input_filename: 'Talk 1.mp3' }),
      ]),
      append: false,
    });
    expect(state.history.ids).toEqual([B]);
  });

  it('adds a new job to the top of the history and keeps the counts in step as it moves', () => {
    let state: JobsState = jobsReducer(initialJobsState(), {
      type: 'history/loaded',
      page: page([fakeJob({ job_id: A, status: 'COMPLETED' })], {
        counts: { by_type: { OCR: 1, TRANSCRIPTION: 0 }, by_status: { COMPLETED: 1 } },
      }),
      append: false,
    });
    const created = fakeJob({ job_id: B, job_type: 'TRANSCRIPTION', status: 'QUEUED', progress: 0 });
    state = jobsReducer(state, { type: 'job/received', job: created, startedHere: true });
    expect(state.history.ids).toEqual([B, A]);
    expect(state.history.total).toBe(2);
    expect(state.history.counts).toEqual({
      by_type: { OCR: 1, TRANSCRIPTION: 1 },
      by_status: { COMPLETED: 1, QUEUED: 1 },
    });
    state = jobsReducer(state, {
      type: 'job/received',
      job: { ...created, status: 'PROCESSING', updated_at: '2026-11-25T10:00:20.000Z' },
    });
    expect(state.history.counts?.by_status).toEqual({ COMPLETED: 1, QUEUED: 0, PROCESSING: 1 });
    state = jobsReducer(state, { type: 'job/deleted', jobId: B });
    expect(state.history.ids).toEqual([A]);
    expect(state.history.total).toBe(1);
    expect(state.history.counts).toEqual({
      by_type: { OCR: 1, TRANSCRIPTION: 0 },
      by_status: { COMPLETED: 1, QUEUED: 0, PROCESSING: 0 },
    });
  });

  it('does not list a new job that the current filters exclude', () => {
    let state = jobsReducer(initialJobsState(), {
      type: 'history/query',
      query: { ...EMPTY_QUERY, statuses: ['FAILED'] },
    });
    state = jobsReducer(state, { type: 'history/loaded', page: page([]), append: false });
    state = jobsReducer(state, { type: 'job/received', job: fakeJob({ job_id: B, status: 'QUEUED' }) });
    expect(state.history.ids).toEqual([]);
  });
});

function file(name: string): File {
  return new File([new Uint8Array([37, 80, 68, 70])], name, { type: 'application/pdf' });
}

const pdfKind = {
  input: { mime: 'application/pdf', ext: 'pdf', jobType: 'OCR' as const },
  by: 'content' as const,
};
const wavKind = {
  input: { mime: 'audio/wav', ext: 'wav', jobType: 'TRANSCRIPTION' as const },
  by: 'content' as const,
};

describe('upload queue', () => {
  it('gives each file the batch choices for its type, editable per file until it is sent', () => {
    let state: UploadState = { batch: DEFAULT_BATCH, items: [] };
    state = uploadReducer(state, {
      type: 'files/added',
      items: [
        newUploadItem(file('a.pdf'), pdfKind, DEFAULT_BATCH, { key: 'a', idempotencyKey: 'ka' }),
        newUploadItem(file('b.wav'), wavKind, DEFAULT_BATCH, { key: 'b', idempotencyKey: 'kb' }),
        newUploadItem(file('c.docx'), null, DEFAULT_BATCH, { key: 'c', idempotencyKey: 'kc' }),
      ],
    });
    expect(state.items.map((i) => i.language)).toEqual(['hin+eng', 'en', 'hin+eng']);
    state = uploadReducer(state, { type: 'item/edited', key: 'a', language: 'eng' });
    state = uploadReducer(state, {
      type: 'batch/changed',
      settings: { contentSubtype: 'pravachan', ocrLanguage: 'hin', speechLanguage: 'hi' },
    });
    // "a" keeps its own language; the others follow the batch.
    expect(state.items.map((i) => [i.language, i.contentSubtype])).toEqual([
      ['eng', 'pravachan'],
      ['hi', 'pravachan'],
      ['hin', 'pravachan'],
    ]);
    expect(sendableItems(state).map((i) => i.key)).toEqual(['a', 'b']);
  });

  it('never lets upload progress go backwards', () => {
    let state: UploadState = {
      batch: DEFAULT_BATCH,
      items: [newUploadItem(file('a.pdf'), pdfKind, DEFAULT_BATCH, { key: 'a', idempotencyKey: 'ka' })],
    };
    state = uploadReducer(state, { type: 'item/progress', key: 'a', sent: 0.5 });
    state = uploadReducer(state, { type: 'item/progress', key: 'a', sent: 0.3 });
    expect(state.items[0]?.sent).toBe(0.5);
  });
});

describe('running an upload', () => {
  const item = newUploadItem(
    file('a.pdf'),
    pdfKind,
    { ...DEFAULT_BATCH, contentSubtype: 'pravachan' },
    {
      key: 'a',
      idempotencyKey: 'key-a',
    },
  );
  const submitted: SubmittedJob = { job: fakeJob({ job_id: A, status: 'QUEUED' }), reused: false };

  function harness(answers: Array<SubmittedJob | Error>) {
    const calls: UploadOptions[] = [];
    const actions: UploadAction[] = [];
    const sleeps: number[] = [];
    const deps = {
      url: '/v1/jobs',
      dispatch: (action: UploadAction) => actions.push(action),
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
      upload: async (options: UploadOptions) => {
        calls.push(options);
        const answer = answers.shift();
        if (!answer || answer instanceof Error) throw answer ?? new Error('no answer');
        return answer;
      },
    };
    return { calls, actions, sleeps, deps };
  }

  it('sends the choices and the same Idempotency-Key on every try of a retryable failure', async () => {
    const { calls, sleeps, actions, deps } = harness([
      new ApiError({ kind: 'network' }),
      new ApiError({
        kind: 'problem',
        status: 503,
        problem: { status: 503, error_code: 'QUEUE_UNAVAILABLE' },
      }),
      submitted,
    ]);
    expect(await runUpload(item, deps)).toBe(submitted);
    expect(calls.map((c) => c.idempotencyKey)).toEqual(['key-a', 'key-a', 'key-a']);
    expect(calls[0]?.fields).toEqual({ content_subtype: 'pravachan', language: 'hin+eng', job_type: 'OCR' });
    expect(sleeps).toEqual([1000, 2000]);
    expect(actions.at(-1)).toEqual({ type: 'item/done', key: 'a', jobId: A, reused: false });
  });

  it('gives up after three tries and waits for the person', async () => {
    const network = () => new ApiError({ kind: 'network' });
    const { calls, actions, deps } = harness([network(), network(), network(), submitted]);
    expect(await runUpload(item, deps)).toBeNull();
    expect(calls).toHaveLength(3);
    expect(actions.at(-1)).toEqual({ type: 'item/failed', key: 'a', failure: { kind: 'network' } });
  });

  it('does not try again when the server refuses the file', async () => {
    const refusal = new ApiError({
      kind: 'problem',
      status: 415,
      problem: { status: 415, error_code: 'UNSUPPORTED_MEDIA_TYPE', retryable: false },
    });
    const { calls, deps } = harness([refusal, submitted]);
    expect(await runUpload(item, deps)).toBeNull();
    expect(calls).toHaveLength(1);
  });
});
