import {
  AppError,
  OCR_ENGINES,
  type OcrEngineName,
  SPEECH_ENGINES,
  type SpeechEngineName,
} from '../contract/index.js';
import type { Config } from './config-schema.js';

/** The engines a deployment offers its jobs: what `ocr_engine` and `transcription_engine` may name. */
export interface OfferedEngines {
  ocr: OcrEngineName[];
  speech: SpeechEngineName[];
  /** What a job that names none gets (OCR_ENGINE, TRANSCRIPTION_ENGINE). */
  defaults: { ocr: OcrEngineName; speech: SpeechEngineName };
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
    defaults: { ocr: config.ocr.engine, speech: transcription.engine },
  };
}

/** Refuses a speech engine the deployment does not offer with ENGINE_NOT_OFFERED (400), naming the field. */
export function assertSpeechEngineOffered(
  offered: { speech: readonly string[] },
  engine: string | null | undefined,
  field = 'transcription_engine',
): void {
  if (engine === null || engine === undefined) return;
  if (offered.speech.includes(engine)) return;
  const message = `${engine} is not offered here; this server offers ${offered.speech.join(', ')}`;
  throw new AppError('ENGINE_NOT_OFFERED', `${field}: ${message}.`, {
    details: { errors: [{ field, message }] },
  });
}
