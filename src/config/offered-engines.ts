import {
  AppError,
  type JobType,
  OCR_ENGINES,
  type OcrEngineName,
  OPENAI_TRANSCRIPTION_MODELS,
  SPEECH_ENGINES,
  type SpeechEngineName,
} from '../contract/index.js';
import type { Config } from './config-schema.js';

/** The engines a deployment offers its jobs: what `ocr_engine` and `transcription_engine` may name. */
export interface OfferedEngines {
  ocr: OcrEngineName[];
  speech: SpeechEngineName[];
  /** What a job that names none gets (OCR_ENGINE, OCR_ENGINE_BY_SUBTYPE, TRANSCRIPTION_ENGINE). */
  defaults: EngineDefaults;
}

/** The engine a job that names none runs with: OCR_ENGINE_BY_SUBTYPE's, else OCR_ENGINE; TRANSCRIPTION_ENGINE. */
export interface EngineDefaults {
  ocr: OcrEngineName;
  ocrBySubtype: Readonly<Partial<Record<string, OcrEngineName>>>;
  speech: SpeechEngineName;
}

/** What `engineOfJob` reads of a job: its type, subtype, the engine it ran with and the one it named. */
export interface JobEngineFields {
  job_type: JobType;
  content_subtype: string;
  engine?: string | null;
  ocr_options?: { engine?: string | undefined } | undefined;
  transcription_options?: { engine?: string | undefined } | undefined;
}

/**
 * The engine a job runs with: the one its attempt reported, else the one it named, else the
 * configured default for its type (and, for documents, its subtype); null when it named none and
 * no defaults are given. The pipelines' rule, written once for the job metrics' `engine` label,
 * so that label is known from submission on.
 */
export function engineOfJob(job: JobEngineFields, defaults?: EngineDefaults): string | null {
  if (job.engine) return job.engine;
  if (job.job_type === 'OCR') {
    return job.ocr_options?.engine ?? defaults?.ocrBySubtype[job.content_subtype] ?? defaults?.ocr ?? null;
  }
  return job.transcription_options?.engine ?? defaults?.speech ?? null;
}

/**
 * The one rule of which engines a job may ask for: the configured default plus every engine whose
 * settings are there (whisper: WHISPER_MODEL; openai: OPENAI_API_KEY; gemini: GEMINI_API_KEY or
 * GEMINI_VERTEX_PROJECT; pocketsphinx and tesseract: always). Used by the API to validate submits,
 * retries and prechecks, by the worker to build its engines, and shown in `GET /v1/config`.
 */
export function offeredEngines(config: Pick<Config, 'ocr' | 'gemini' | 'transcription'>): OfferedEngines {
  const { transcription } = config;
  const speechConfigured: Record<SpeechEngineName, boolean> = {
    pocketsphinx: true,
    whisper: Boolean(transcription.whisper.modelPath),
    openai: transcription.openai !== null,
    gemini: transcription.gemini !== null,
  };
  const ocrConfigured: Record<OcrEngineName, boolean> = { tesseract: true, gemini: config.gemini !== null };
  return {
    speech: SPEECH_ENGINES.filter((name) => name === transcription.engine || speechConfigured[name]),
    ocr: OCR_ENGINES.filter((name) => name === config.ocr.engine || ocrConfigured[name]),
    defaults: {
      ocr: config.ocr.engine,
      ocrBySubtype: config.ocr.engineBySubtype,
      speech: transcription.engine,
    },
  };
}

/** The two kinds of engine a job may name: `ocr_engine` for documents, `transcription_engine` for recordings. */
export type EngineKind = 'ocr' | 'speech';

/**
 * Why `engine` may not be named here, as a message naming what is offered, or null when it may
 * (an offered engine, or none at all: null or absent leaves the choice to the server). The one
 * rule behind submit, retry, the precheck and the OpenAI-compatible route, for both kinds.
 */
export function engineNotOffered(
  offered: Readonly<Record<EngineKind, readonly string[]>>,
  kind: EngineKind,
  engine: string | null | undefined,
): string | null {
  if (engine === null || engine === undefined) return null;
  if (offered[kind].includes(engine)) return null;
  return `${engine} is not offered here; this server offers ${offered[kind].join(', ')}`;
}

/** Refuses an engine the deployment does not offer with ENGINE_NOT_OFFERED (400), naming the field. */
export function assertEngineOffered(
  offered: Readonly<Record<EngineKind, readonly string[]>>,
  kind: EngineKind,
  engine: string | null | undefined,
  field: string,
): void {
  const message = engineNotOffered(offered, kind, engine);
  if (message === null) return;
  throw new AppError('ENGINE_NOT_OFFERED', `${field}: ${message}.`, {
    details: { errors: [{ field, message }] },
  });
}

/**
 * The speech engine a `model` of `POST /v1/audio/transcriptions` asks for: OpenAI's model names
 * (`whisper-1`, `gpt-4o-transcribe`, …) leave it to the server (undefined: TRANSCRIPTION_ENGINE);
 * an engine's own name picks that engine when it is offered here; anything else is refused with
 * ENGINE_NOT_OFFERED (field `model`), naming what may be asked for.
 */
export function speechEngineOfModel(
  offered: Readonly<Record<EngineKind, readonly string[]>>,
  model: string,
): SpeechEngineName | undefined {
  if ((OPENAI_TRANSCRIPTION_MODELS as readonly string[]).includes(model)) return undefined;
  if (engineNotOffered(offered, 'speech', model) === null) return model as SpeechEngineName;
  const message = `${model} is not offered here; use ${OPENAI_TRANSCRIPTION_MODELS.join(', ')} (the server's default engine) or an engine it offers: ${offered.speech.join(', ')}`;
  throw new AppError('ENGINE_NOT_OFFERED', `model: ${message}.`, {
    details: { errors: [{ field: 'model', message }] },
  });
}
