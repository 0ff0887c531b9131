import type { Config } from '../config/index.js';
import type { JobType } from '../contract/index.js';
import { GeminiEngine } from '../engines/ocr/gemini-engine.js';
import { TesseractEngine } from '../engines/ocr/tesseract-engine.js';
import { PocketsphinxEngine } from '../engines/speech/pocketsphinx-engine.js';
import { createOcrPipeline } from '../pipelines/ocr/run-ocr-pipeline.js';
import { tesseractHintProbe } from '../pipelines/ocr/tesseract-hint-probe.js';
import type { Pipeline } from '../pipelines/pipeline.js';
import { createTranscriptionPipeline } from '../pipelines/transcription/run-transcription-pipeline.js';
import type { ObjectStorage } from '../storage/object-storage.js';

/** The pipeline of each job type with the engines the config selects. */
export function buildPipelines(
  config: Config,
  deps: { storage?: ObjectStorage } = {},
): Record<JobType, Pipeline> {
  const tesseract = new TesseractEngine();
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
        pageTimeoutSec: config.ocr.pageTimeoutSec,
        searchablePdf: config.ocr.searchablePdf,
        hocr: config.ocr.hocr,
        maxPages: config.ocr.maxPages,
        maxImagePixels: config.ocr.maxImagePixels,
      },
      hintProbe: tesseractHintProbe(tesseract),
      ...(deps.storage ? { checkpointStorage: deps.storage } : {}),
    }),
    TRANSCRIPTION: createTranscriptionPipeline({
      engine: new PocketsphinxEngine(),
      maxDurationSec: config.transcription.maxDurationSec,
    }),
  };
}
