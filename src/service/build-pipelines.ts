import type { Config } from '../config/index.js';
import { AppError, type JobType } from '../contract/index.js';
import { FaultInjectionOcrEngine } from '../engines/ocr/fault-injection-engine.js';
import { GeminiEngine } from '../engines/ocr/gemini-engine.js';
import { TesseractEngine } from '../engines/ocr/tesseract-engine.js';
import { TesseractJsEngine } from '../engines/ocr/tesseract-js-engine.js';
import { GeminiSpeechEngine } from '../engines/speech/gemini-speech-engine.js';
import { OpenAiSpeechEngine } from '../engines/speech/openai-engine.js';
import { PocketsphinxEngine } from '../engines/speech/pocketsphinx-engine.js';
import type { SpeechEngine } from '../engines/speech/speech-engine.js';
import { WhisperEngine } from '../engines/speech/whisper-engine.js';
import type { ReadinessChecks } from '../observability/readiness.js';
import { createOcrPipeline } from '../pipelines/ocr/run-ocr-pipeline.js';
import { tesseractHintProbe } from '../pipelines/ocr/tesseract-hint-probe.js';
import type { Pipeline } from '../pipelines/pipeline.js';
import { createTranscriptionPipeline } from '../pipelines/transcription/run-transcription-pipeline.js';
import { isOnPath } from '../process/find-on-path.js';
import type { ObjectStorage } from '../storage/object-storage.js';

/** The speech engine `TRANSCRIPTION_ENGINE` names, with its settings. */
export function createSpeechEngine(config: Config): SpeechEngine {
  switch (config.transcription.engine) {
    case 'pocketsphinx':
      return new PocketsphinxEngine();
    case 'whisper':
      return new WhisperEngine(config.transcription.whisper);
    case 'openai': {
      const settings = config.transcription.openai;
      // loadConfig refuses TRANSCRIPTION_ENGINE=openai without a key; this only guards other callers.
      if (!settings) throw new AppError('ENGINE_NOT_CONFIGURED', 'OPENAI_API_KEY is not set.');
      return new OpenAiSpeechEngine(settings);
    }
    case 'gemini': {
      const settings = config.transcription.gemini;
      // loadConfig refuses TRANSCRIPTION_ENGINE=gemini without a key; this only guards other callers.
      if (!settings)
        throw new AppError(
          'ENGINE_NOT_CONFIGURED',
          'Neither GEMINI_API_KEY nor GEMINI_VERTEX_PROJECT is set.',
        );
      return new GeminiSpeechEngine(settings);
    }
  }
}

/** The tesseract program when present (or asked for), else tesseract.js (WebAssembly). */
export function chooseTesseract(
  runtime: Config['ocr']['tesseractRuntime'],
  cliAvailable: () => boolean = () => isOnPath('tesseract'),
): TesseractEngine | TesseractJsEngine {
  if (runtime === 'wasm' || (runtime === 'auto' && !cliAvailable())) return new TesseractJsEngine();
  return new TesseractEngine();
}

/** The pipeline of each job type with the engines the config selects. */
export function buildPipelines(
  config: Config,
  deps: { storage?: ObjectStorage; speechEngine?: SpeechEngine } = {},
): Record<JobType, Pipeline> {
  const faults = config.ocr.testFaultEngine;
  // TEST ONLY: the fault-injection engine takes tesseract's place (loadConfig refuses it in production).
  const tesseract = faults
    ? new FaultInjectionOcrEngine(faults)
    : chooseTesseract(config.ocr.tesseractRuntime);
  const transcription = config.transcription;
  return {
    OCR: createOcrPipeline({
      engines: { tesseract, ...(config.gemini ? { gemini: new GeminiEngine(config.gemini) } : {}) },
      defaults: {
        policy: config.ocr.policy,
        engine: config.ocr.engine,
        engineBySubtype: config.ocr.engineBySubtype,
        dpi: config.ocr.dpi,
        psm: config.ocr.psm,
        pagesInFlight: config.ocr.pagesInFlight,
        cloudBatchPages: config.ocr.cloudBatchPages,
        pageTimeoutSec: config.ocr.pageTimeoutSec,
        searchablePdf: config.ocr.searchablePdf,
        hocr: config.ocr.hocr,
        maxPages: config.ocr.maxPages,
        maxImagePixels: config.ocr.maxImagePixels,
      },
      // Script detection and the quality probe need the tesseract program.
      ...(tesseract instanceof TesseractEngine ? { hintProbe: tesseractHintProbe(tesseract) } : {}),
      ...(deps.storage ? { checkpointStorage: deps.storage } : {}),
    }),
    TRANSCRIPTION: createTranscriptionPipeline({
      engine: deps.speechEngine ?? createSpeechEngine(config),
      maxDurationSec: transcription.maxDurationSec,
      chunking: {
        targetSec: transcription.chunkSec,
        overlapSec: transcription.chunkOverlapSec,
        inFlight: transcription.chunksInFlight,
      },
      onTruncated: transcription.onTruncated,
      repetitionMaxRepeats: transcription.repetitionMaxRepeats,
      ...(deps.storage ? { checkpointStorage: deps.storage } : {}),
    }),
  };
}

/**
 * The engines this worker's queues use, with the languages and models they are configured for:
 * tesseract must have every default OCR language installed, a speech engine must say it is ready.
 * Success is remembered: installed languages and models do not vanish while the process runs.
 */
export function engineChecks(config: Config): ReadinessChecks {
  const checks: ReadinessChecks = {};
  if (config.worker.queues.includes('ocr')) {
    const tesseract = chooseTesseract(config.ocr.tesseractRuntime);
    checks.ocr_engine = onceOk(async () => {
      await tesseract.version();
      await tesseract.assertLanguages(config.ocr.languages);
    });
  }
  if (config.worker.queues.includes('transcription')) {
    const speech = createSpeechEngine(config);
    checks.speech_engine = onceOk(async () => {
      if (speech.checkReady) await speech.checkReady();
      else await speech.version();
    });
  }
  return checks;
}

function onceOk(check: () => Promise<void>): () => Promise<void> {
  let passed = false;
  return async () => {
    if (passed) return;
    await check();
    passed = true;
  };
}
