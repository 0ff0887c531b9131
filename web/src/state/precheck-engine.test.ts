import { describe, expect, it } from 'vitest';
import { type PrecheckResult, SUPPORTED_INPUTS } from '../api/contract.js';
import type { UploadOptions } from '../api/upload-file.js';
import type { DetectedKind } from '../format/detect-file-kind.js';
import { fakeJob } from '../testing/fake-job.js';
import { runUpload } from './run-upload.js';
import {
  DEFAULT_BATCH,
  newUploadItem,
  precheckRequestOf,
  sendableItems,
  type UploadState,
  uploadReducer,
} from './upload-queue.js';

const pdf = new File([new Uint8Array([37, 80, 68, 70])], 'a.pdf', { type: 'application/pdf' });
function kindOf(ext: string): DetectedKind {
  const input = SUPPORTED_INPUTS.find((candidate) => candidate.ext === ext);
  if (!input) throw new Error(`no supported input .${ext}`);
  return { input, by: 'content' };
}
const pdfKind = kindOf('pdf');
const wavKind = kindOf('wav');

function verdict(decision: PrecheckResult['decision']): PrecheckResult {
  return {
    decision,
    detected: { job_type: 'OCR', mime: 'application/pdf' },
    blocks: decision === 'block' ? [{ code: 'FILE_TOO_LARGE', message: 'too large' }] : [],
    warnings: [],
    estimate: {
      processing_sec: null,
      queue_waiting: 0,
      effort: null,
      cost_band: 'none',
      engine: 'tesseract',
      cost: null,
    },
  };
}

describe('precheck and engine choice in the upload queue', () => {
  it('keeps a file the precheck refuses out of the upload, and the others in', () => {
    let state: UploadState = { batch: DEFAULT_BATCH, items: [] };
    state = uploadReducer(state, {
      type: 'files/added',
      items: ['a', 'b', 'c'].map((key) =>
        newUploadItem(pdf, pdfKind, DEFAULT_BATCH, { key, idempotencyKey: `k${key}` }),
      ),
    });
    state = uploadReducer(state, { type: 'item/prechecked', key: 'a', precheck: verdict('allow') });
    state = uploadReducer(state, { type: 'item/prechecked', key: 'b', precheck: verdict('block') });
    expect(state.items[1]?.precheck?.decision).toBe('block');
    // "c" has no answer yet: the upload judges it.
    expect(sendableItems(state).map((item) => item.key)).toEqual(['a', 'c']);
  });

  it('follows the batch engine unless a file chose its own, and sends it as ocr_engine for documents only', async () => {
    let state: UploadState = { batch: DEFAULT_BATCH, items: [] };
    state = uploadReducer(state, {
      type: 'files/added',
      items: [
        newUploadItem(pdf, pdfKind, DEFAULT_BATCH, { key: 'a', idempotencyKey: 'ka' }),
        newUploadItem(pdf, pdfKind, DEFAULT_BATCH, { key: 'b', idempotencyKey: 'kb' }),
        newUploadItem(pdf, wavKind, DEFAULT_BATCH, { key: 'w', idempotencyKey: 'kw' }),
      ],
    });
    expect(state.items.map((item) => item.ocrEngine)).toEqual(['default', 'default', 'default']);
    state = uploadReducer(state, { type: 'item/edited', key: 'a', ocrEngine: 'gemini' });
    state = uploadReducer(state, {
      type: 'batch/changed',
      settings: { ...DEFAULT_BATCH, ocrEngine: 'tesseract' },
    });
    expect(state.items.map((item) => item.ocrEngine)).toEqual(['gemini', 'tesseract', 'tesseract']);

    const fields: Array<Record<string, string>> = [];
    const deps = {
      url: '/v1/jobs',
      dispatch: () => undefined,
      sleep: async () => undefined,
      upload: async (options: UploadOptions) => {
        fields.push(options.fields);
        return { job: fakeJob(), reused: false };
      },
    };
    for (const item of state.items) await runUpload(item, deps);
    expect(fields.map((f) => f.ocr_engine)).toEqual(['gemini', 'tesseract', undefined]);
    const defaulted = newUploadItem(pdf, pdfKind, DEFAULT_BATCH, { key: 'd', idempotencyKey: 'kd' });
    await runUpload(defaulted, deps);
    expect(fields[3]).not.toHaveProperty('ocr_engine');
  });

  it('asks the precheck with the measured pages or duration and the engine chosen for the file', () => {
    const wav = new File([new Uint8Array(44)], 'talk.wav', { type: 'audio/wav' });
    let state: UploadState = {
      batch: { ...DEFAULT_BATCH, ocrEngine: 'gemini' },
      items: [
        newUploadItem(
          pdf,
          pdfKind,
          { ...DEFAULT_BATCH, ocrEngine: 'gemini' },
          { key: 'a', idempotencyKey: 'ka' },
        ),
        newUploadItem(
          wav,
          wavKind,
          { ...DEFAULT_BATCH, ocrEngine: 'gemini' },
          { key: 'b', idempotencyKey: 'kb' },
        ),
      ],
    };
    expect(state.items.map((item) => item.measure)).toEqual([null, null]);
    state = uploadReducer(state, { type: 'item/measured', key: 'a', measure: { page_count: 12 } });
    state = uploadReducer(state, { type: 'item/measured', key: 'b', measure: { duration_sec: 95.5 } });
    const [document, recording] = state.items.map(precheckRequestOf);
    expect(document).toEqual({
      filename: 'a.pdf',
      size_bytes: 4,
      mime: 'application/pdf',
      page_count: 12,
      content_subtype: 'general',
      engine: 'gemini',
    });
    // The recording keeps the server's speech engine: none is sent.
    expect(recording).toEqual({
      filename: 'talk.wav',
      size_bytes: 44,
      mime: 'audio/wav',
      duration_sec: 95.5,
      content_subtype: 'general',
    });
    // The file's own engine; the default sends none.
    state = uploadReducer(state, { type: 'item/edited', key: 'a', ocrEngine: 'default' });
    expect(precheckRequestOf(state.items[0] as (typeof state.items)[number])).not.toHaveProperty('engine');
    // Unknown sizes are left out, not guessed.
    state = uploadReducer(state, { type: 'item/measured', key: 'a', measure: {} });
    expect(precheckRequestOf(state.items[0] as (typeof state.items)[number])).not.toHaveProperty(
      'page_count',
    );
  });

  it('follows the batch speech engine unless a recording chose its own; sends transcription_engine and the precheck engine for recordings only', async () => {
    const wav = new File([new Uint8Array(44)], 'talk.wav', { type: 'audio/wav' });
    let state: UploadState = { batch: DEFAULT_BATCH, items: [] };
    state = uploadReducer(state, {
      type: 'files/added',
      items: [
        newUploadItem(wav, wavKind, DEFAULT_BATCH, { key: 'a', idempotencyKey: 'ka' }),
        newUploadItem(wav, wavKind, DEFAULT_BATCH, { key: 'b', idempotencyKey: 'kb' }),
        newUploadItem(pdf, pdfKind, DEFAULT_BATCH, { key: 'p', idempotencyKey: 'kp' }),
      ],
    });
    expect(state.items.map((item) => item.speechEngine)).toEqual(['default', 'default', 'default']);
    state = uploadReducer(state, { type: 'item/edited', key: 'a', speechEngine: 'whisper' });
    state = uploadReducer(state, {
      type: 'batch/changed',
      settings: { ...DEFAULT_BATCH, speechEngine: 'openai' },
    });
    expect(state.items.map((item) => item.speechEngine)).toEqual(['whisper', 'openai', 'openai']);
    expect(state.items.map((item) => precheckRequestOf(item).engine)).toEqual([
      'whisper',
      'openai',
      undefined,
    ]);

    const fields: Array<Record<string, string>> = [];
    const deps = {
      url: '/v1/jobs',
      dispatch: () => undefined,
      sleep: async () => undefined,
      upload: async (options: UploadOptions) => {
        fields.push(options.fields);
        return { job: fakeJob(), reused: false };
      },
    };
    for (const item of state.items) await runUpload(item, deps);
    expect(fields.map((f) => f.transcription_engine)).toEqual(['whisper', 'openai', undefined]);
    await runUpload(newUploadItem(wav, wavKind, DEFAULT_BATCH, { key: 'd', idempotencyKey: 'kd' }), deps);
    expect(fields[3]).not.toHaveProperty('transcription_engine');
  });
});
