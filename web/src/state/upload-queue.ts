import type { ApiFailure } from '../api/api-failure.js';
import type {
  ContentSubtype,
  JobType,
  OCR_ENGINES,
  PrecheckRequest,
  PrecheckResult,
  SPEECH_ENGINES,
} from '../api/contract.js';
import type { FileMeasure } from '../browser/measure-file.js';
import type { DetectedKind } from '../format/detect-file-kind.js';

/** An OCR engine to ask for, or `default`: the server's configured one (no `ocr_engine` sent). */
export type OcrEngineChoice = 'default' | (typeof OCR_ENGINES)[number];

/** A speech engine to ask for, or `default`: the server's configured one (no `transcription_engine` sent). */
export type SpeechEngineChoice = 'default' | (typeof SPEECH_ENGINES)[number];

/** Choices made before upload: once for the batch, then editable per file. */
export interface BatchSettings {
  contentSubtype: ContentSubtype;
  ocrLanguage: string;
  speechLanguage: string;
  /** Absent: `default`. */
  ocrEngine?: OcrEngineChoice;
  /** Recordings; absent: `default`. */
  speechEngine?: SpeechEngineChoice;
}

export const OCR_LANGUAGES = ['hin+eng', 'hin', 'eng'] as const;
export const SPEECH_LANGUAGES = ['en', 'hi'] as const;

export const DEFAULT_BATCH: BatchSettings = {
  contentSubtype: 'general',
  ocrLanguage: 'hin+eng',
  speechLanguage: 'en',
  ocrEngine: 'default',
  speechEngine: 'default',
};

export type UploadPhase = 'ready' | 'uploading' | 'waiting-to-retry' | 'done' | 'failed';

export interface UploadItem {
  key: string;
  file: File;
  detected: DetectedKind | null;
  contentSubtype: ContentSubtype;
  language: string;
  ocrEngine: OcrEngineChoice;
  speechEngine: SpeechEngineChoice;
  /** Pages or duration read in the browser; null while they are being measured. */
  measure: FileMeasure | null;
  /** The server's verdict before sending (`POST /v1/intake/precheck`); null until it answers. */
  precheck: PrecheckResult | null;
  /** Made once per file and sent on every try, so a retried upload never makes a second job. */
  idempotencyKey: string;
  phase: UploadPhase;
  /** 0–1 of the bytes sent. */
  sent: number;
  tries: number;
  failure: ApiFailure | null;
  jobId: string | null;
  reused: boolean;
}

export type UploadAction =
  | { type: 'files/added'; items: UploadItem[] }
  | { type: 'batch/changed'; settings: BatchSettings }
  | {
      type: 'item/edited';
      key: string;
      contentSubtype?: ContentSubtype;
      language?: string;
      ocrEngine?: OcrEngineChoice;
      speechEngine?: SpeechEngineChoice;
    }
  | { type: 'item/measured'; key: string; measure: FileMeasure }
  | { type: 'item/prechecked'; key: string; precheck: PrecheckResult | null }
  | { type: 'item/removed'; key: string }
  | { type: 'item/started'; key: string }
  | { type: 'item/progress'; key: string; sent: number }
  | { type: 'item/waiting'; key: string; failure: ApiFailure }
  | { type: 'item/done'; key: string; jobId: string; reused: boolean }
  | { type: 'item/failed'; key: string; failure: ApiFailure }
  | { type: 'finished/cleared' };

export interface UploadState {
  batch: BatchSettings;
  items: UploadItem[];
}

/** How many tries an upload gets on its own before it waits for the person to try again. */
export const MAX_UPLOAD_TRIES = 3;

export function languageFor(jobType: JobType | undefined, batch: BatchSettings): string {
  return jobType === 'TRANSCRIPTION' ? batch.speechLanguage : batch.ocrLanguage;
}

export function newUploadItem(
  file: File,
  detected: DetectedKind | null,
  batch: BatchSettings,
  keys: { key: string; idempotencyKey: string },
): UploadItem {
  return {
    ...keys,
    file,
    detected,
    contentSubtype: batch.contentSubtype,
    language: languageFor(detected?.input.jobType, batch),
    ocrEngine: batch.ocrEngine ?? 'default',
    speechEngine: batch.speechEngine ?? 'default',
    measure: null,
    precheck: null,
    phase: 'ready',
    sent: 0,
    tries: 0,
    failure: null,
    jobId: null,
    reused: false,
  };
}

function update(state: UploadState, key: string, change: (item: UploadItem) => UploadItem): UploadState {
  return { ...state, items: state.items.map((item) => (item.key === key ? change(item) : item)) };
}

export function uploadReducer(state: UploadState, action: UploadAction): UploadState {
  switch (action.type) {
    case 'files/added':
      return { ...state, items: [...state.items, ...action.items] };
    case 'batch/changed': {
      const previous = state.batch;
      const batch = action.settings;
      // Files not yet sent follow the batch unless they were given their own choice.
      const items = state.items.map((item) => {
        if (item.phase !== 'ready') return item;
        const jobType = item.detected?.input.jobType;
        return {
          ...item,
          contentSubtype:
            item.contentSubtype === previous.contentSubtype ? batch.contentSubtype : item.contentSubtype,
          language:
            item.language === languageFor(jobType, previous) ? languageFor(jobType, batch) : item.language,
          ocrEngine:
            item.ocrEngine === (previous.ocrEngine ?? 'default')
              ? (batch.ocrEngine ?? 'default')
              : item.ocrEngine,
          speechEngine:
            item.speechEngine === (previous.speechEngine ?? 'default')
              ? (batch.speechEngine ?? 'default')
              : item.speechEngine,
        };
      });
      return { batch, items };
    }
    case 'item/edited':
      return update(state, action.key, (item) => ({
        ...item,
        contentSubtype: action.contentSubtype ?? item.contentSubtype,
        language: action.language ?? item.language,
        ocrEngine: action.ocrEngine ?? item.ocrEngine,
        speechEngine: action.speechEngine ?? item.speechEngine,
      }));
    case 'item/measured':
      return update(state, action.key, (item) => ({ ...item, measure: action.measure }));
    case 'item/prechecked':
      return update(state, action.key, (item) => ({ ...item, precheck: action.precheck }));
    case 'item/removed':
      return { ...state, items: state.items.filter((item) => item.key !== action.key) };
    case 'item/started':
      return update(state, action.key, (item) => ({
        ...item,
        phase: 'uploading',
        sent: 0,
        tries: item.tries + 1,
        failure: null,
      }));
    case 'item/progress':
      return update(state, action.key, (item) => ({ ...item, sent: Math.max(item.sent, action.sent) }));
    case 'item/waiting':
      return update(state, action.key, (item) => ({
        ...item,
        phase: 'waiting-to-retry',
        failure: action.failure,
      }));
    case 'item/done':
      return update(state, action.key, (item) => ({
        ...item,
        phase: 'done',
        sent: 1,
        jobId: action.jobId,
        reused: action.reused,
        failure: null,
      }));
    case 'item/failed':
      return update(state, action.key, (item) => ({ ...item, phase: 'failed', failure: action.failure }));
    case 'finished/cleared':
      return { ...state, items: state.items.filter((item) => item.phase !== 'done') };
  }
}

/** Files that an "Upload" press sends: new ones, and failed ones the person sends again, unless the precheck refused them. */
export function sendableItems(state: UploadState): UploadItem[] {
  return state.items.filter(
    (item) =>
      item.detected &&
      item.precheck?.decision !== 'block' &&
      (item.phase === 'ready' || item.phase === 'failed'),
  );
}

/**
 * What the precheck is asked about a file (never its bytes): name, size, type, the pages or
 * duration measured in the browser, and the choices it would be uploaded with.
 */
export function precheckRequestOf(item: UploadItem): PrecheckRequest {
  const mime = item.detected?.input.mime ?? (item.file.type || undefined);
  const isDocument = item.detected?.input.jobType === 'OCR';
  const isRecording = item.detected?.input.jobType === 'TRANSCRIPTION';
  return {
    filename: item.file.name,
    size_bytes: item.file.size,
    ...(mime ? { mime } : {}),
    ...(item.measure?.page_count !== undefined ? { page_count: item.measure.page_count } : {}),
    ...(item.measure?.duration_sec !== undefined ? { duration_sec: item.measure.duration_sec } : {}),
    content_subtype: item.contentSubtype,
    ...(isDocument && item.ocrEngine !== 'default' ? { engine: item.ocrEngine } : {}),
    ...(isRecording && item.speechEngine !== 'default' ? { engine: item.speechEngine } : {}),
  };
}

/** Delay before the next automatic try of a retryable failure: 1 s, 2 s, … */
export function uploadRetryDelayMs(tries: number): number {
  return 1_000 * 2 ** Math.max(0, tries - 1);
}
