import { type Config, offeredEngines } from '../config/index.js';
import { AppError, type JobType, type SpeechEngineName } from '../contract/index.js';
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

/** The speech engine `name` (default: the one `TRANSCRIPTION_ENGINE` names), with its settings. */
export function createSpeechEngine(
  config: Config,
  name: SpeechEngineName = config.transcription.engine,
): SpeechEngine {
  switch (name) {
    case 'pocketsphinx':
      return new PocketsphinxEngine();
    case 'whisper':
      return new WhisperEngine(config.transcription.whisper);
    case 'openai': {
      const settings = config.transcription.openai;
      // loadConfig refuses TRANSCRIPTION_ENGINE=openai without a key; offeredEngines leaves it out then.
      if (!settings) throw new AppError('ENGINE_NOT_CONFIGURED', 'OPENAI_API_KEY is not set.');
      return new OpenAiSpeechEngine(settings);
    }
    case 'gemini': {
      const settings = config.transcription.gemini;
      // loadConfig refuses TRANSCRIPTION_ENGINE=gemini without a key; offeredEngines leaves it out then.
      if (!settings)
        throw new AppError(
          'ENGINE_NOT_CONFIGURED',
          'Neither GEMINI_API_KEY nor GEMINI_VERTEX_PROJECT is set.',
        );
      return new GeminiSpeechEngine(settings);
    }
  }
}

/**
 * The speech engines of one worker: each offered engine is created on the first job that uses it
 * (a worker whose jobs never name whisper never starts whisper's children) and kept for the next
 * jobs; `close` ends every one created, at shutdown.
 */
export class SpeechEngines {
  private readonly created = new Map<string, SpeechEngine>();
  private readonly offered: readonly string[];

  constructor(
    private readonly config: Config,
    private readonly create: (name: SpeechEngineName) => SpeechEngine = (name) =>
      createSpeechEngine(config, name),
  ) {
    this.offered = offeredEngines(config).speech;
  }

  /** The engine of a job that names none. */
  default(): SpeechEngine {
    return this.get(this.config.transcription.engine);
  }

  /** The named engine; ENGINE_NOT_CONFIGURED for one this deployment does not offer. */
  get(name: string): SpeechEngine {
    const existing = this.created.get(name);
    if (existing) return existing;
    if (!this.offered.includes(name)) {
      throw new AppError(
        'ENGINE_NOT_CONFIGURED',
        `The ${name} speech engine is not configured on this worker (it offers ${this.offered.join(', ')}).`,
      );
    }
    const engine = this.create(name as SpeechEngineName);
    this.created.set(name, engine);
    return engine;
  }

  async close(): Promise<void> {
    const engines = [...this.created.values()];
    this.created.clear();
    await Promise.all(engines.map((engine) => engine.close?.()));
  }
}

/** The tesseract program when present (or asked for), else tesseract.js (WebAssembly). */
export function chooseTesseract(
  ocr: Pick<Config['ocr'], 'tesseractRuntime' | 'tessdataDir'>,
  cliAvailable: () => boolean = () => isOnPath('tesseract'),
): TesseractEngine | TesseractJsEngine {
  const runtime = ocr.tesseractRuntime;
  if (runtime === 'wasm' || (runtime === 'auto' && !cliAvailable())) {
    return new TesseractJsEngine(ocr.tessdataDir);
  }
  return new TesseractEngine();
}

/** The pipeline of each job type with the engines the config selects. */
export function buildPipelines(
  config: Config,
  deps: { storage?: ObjectStorage; speechEngines?: SpeechEngines } = {},
): Record<JobType, Pipeline> {
  const faults = config.ocr.testFaultEngine;
  // TEST ONLY: the fault-injection engine takes tesseract's place (loadConfig refuses it in production).
  const tesseract = faults ? new FaultInjectionOcrEngine(faults) : chooseTesseract(config.ocr);
  const transcription = config.transcription;
  const speechEngines = deps.speechEngines ?? new SpeechEngines(config);
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
      engine: speechEngines.default(),
      engineFor: (name) => speechEngines.get(name),
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
    const tesseract = chooseTesseract(config.ocr);
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
